package conformance

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/seccomp"
)

// seccomp: every filter is installed in a re-exec child (sec_child.go),
// since a filter is for good; the parent observes the effects: the
// child's own checks, how it died, and the notifications it sent.

func init() {
	Register(
		Case{Family: "security", Call: "seccomp", Run: testSeccomp},
		Case{Family: "security", Call: "seccomp_kill_process", Run: testSeccompKillProcess},
		Case{Family: "security", Call: "seccomp_kill_thread", Run: testSeccompKillThread},
		Case{Family: "security", Call: "seccomp_trap", Run: testSeccompTrap},
		Case{Family: "security", Call: "seccomp_log", Run: testSeccompLog},
		Case{Family: "security", Call: "seccomp_trace", Run: testSeccompTrace},
		Case{Family: "security", Call: "seccomp_args", Run: testSeccompArgs},
		Case{Family: "security", Call: "seccomp_thread", Run: testSeccompThread},
		Case{Family: "security", Call: "seccomp_get_action_avail", Run: testSeccompActionAvail},
		Case{Family: "security", Call: "seccomp_get_notif_sizes", Run: testSeccompNotifSizes},
		Case{Family: "security", Call: "seccomp_notify", Run: testSeccompNotify},
		Case{Family: "security", Call: "seccomp_notify_id_valid", Run: testSeccompNotifyIDValid},
		Case{Family: "security", Call: "seccomp_notify_addfd", Run: testSeccompNotifyAddfd},
	)
}

// secInstall parses a text policy for k and installs it in this process.
func secInstall(k *api.Kernel, src string, o seccomp.Options) (*seccomp.Notifier, error) {
	tg, err := seccomp.NewTarget(k)
	if err != nil {
		return nil, err
	}
	p, err := seccomp.Parse(tg, src)
	if err != nil {
		return nil, err
	}
	return seccomp.Install(k, p, o)
}

// secPpid is the parent's pid as the child was told it (getppid itself
// is what the filters intercept).
func secPpid() (int, error) {
	return strconv.Atoi(os.Getenv("ANYKERNEL_SEC_PPID"))
}

func secPpidEnv() string { return "ANYKERNEL_SEC_PPID=" + strconv.Itoa(os.Getpid()) }

func testSeccomp(t T, e *Env) {
	k := e.K
	// Bad input, checked before any call (nothing is installed here).
	_, err := k.SeccompSetModeFilter(nil, api.SECCOMP_FILTER_FLAG_TSYNC, false)
	NoSys(t, err)
	Want(t, err, api.EINVAL, "empty program")
	_, err = k.SeccompSetModeFilter(make([]api.SockFilter, 1<<17), 0, false)
	Want(t, err, api.EINVAL, "program longer than BPF_MAXINSNS")
	_, err = api.ParseSeccompFilterFlags("tsync,nosuch")
	var pe *api.ParseError
	True(t, errors.As(err, &pe), "unknown filter flag word is a *ParseError: %v", err)

	f := CreateFile(t, e, "f", []byte("x"))
	secRunChild(t, e, "seccomp", "ANYKERNEL_SEC_DIR="+filepath.Dir(f), secPpidEnv())
}

// secChildSeccomp: a text policy with ERRNO actions, installed with
// TSYNC, then a second filter stacked on it.
func secChildSeccomp(k *api.Kernel) error {
	threads := secSpareThreads(3)
	dir := os.Getenv("ANYKERNEL_SEC_DIR")
	// A program the kernel refuses (a jump past the end) installs nothing.
	tg, err := seccomp.NewTarget(k)
	if err != nil {
		return err
	}
	bad, err := seccomp.Compile(tg, seccomp.NewPolicy(seccomp.Allow))
	if err != nil {
		return err
	}
	bad[1].Jt = uint8(len(bad)) // the architecture check jumps past the end
	if tg.Check(bad) == nil {
		return fmt.Errorf("the interpreter's checker accepts a jump past the end")
	}
	if _, err := k.SeccompSetModeFilter(bad, api.SECCOMP_FILTER_FLAG_TSYNC, false); !errors.Is(err, api.EINVAL) {
		return fmt.Errorf("broken program: %v, want EINVAL", err)
	}
	if s, _ := secStatus("/proc/self/status", "Seccomp"); s != "0" {
		return fmt.Errorf("/proc/self/status Seccomp %q after a refused program", s)
	}

	if _, err := secInstall(k, `default allow
errno EACCES openat if arg2 & O_CREAT
errno EPERM getppid`, seccomp.Options{}); err != nil {
		return err
	}
	f, err := k.Open(filepath.Join(dir, "f"), api.O_RDONLY|api.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening read-only under the filter: %w", err)
	}
	f.Close()
	_, err = k.Open(filepath.Join(dir, "g"), api.O_WRONLY|api.O_CREAT|api.O_CLOEXEC, 0o644)
	if err := secWantErrno("openat O_CREAT", err, api.EACCES); err != nil {
		return err
	}
	var st api.Stat
	if err := secWantErrno("stat of the file the filter refused", k.Stat(filepath.Join(dir, "g"), &st), api.ENOENT); err != nil {
		return err
	}
	_, err = k.Syscall("getppid")
	if err := secWantErrno("getppid", err, api.EPERM); err != nil {
		return err
	}
	// TSYNC: every thread has the filter, also when the call comes from
	// another one.
	if err := secAllTasks("Seccomp", "2"); err != nil {
		return err
	}
	if err := secAllTasks("Seccomp_filters", "1"); err != nil {
		return err
	}
	if err := threads(func() error {
		_, err := k.Syscall("getppid")
		return secWantErrno("getppid on another thread", err, api.EPERM)
	}); err != nil {
		return err
	}
	// no_new_privs was needed only without CAP_SYS_ADMIN.
	c, err := k.Capget(0)
	if err != nil {
		return err
	}
	nnp := "0"
	if !c.Effective.Has(api.CAP_SYS_ADMIN) {
		nnp = "1"
	}
	if err := secAllTasks("NoNewPrivs", nnp); err != nil {
		return err
	}

	// A second filter: for calls both decide with the same action, the
	// newer one's answer wins; NoNewPrivs asked for reaches every thread.
	if _, err := secInstall(k, "default allow; errno EDOM getppid", seccomp.Options{NoNewPrivs: true}); err != nil {
		return err
	}
	_, err = k.Syscall("getppid")
	if err := secWantErrno("getppid under two filters", err, api.EDOM); err != nil {
		return err
	}
	if err := secAllTasks("Seccomp_filters", "2"); err != nil {
		return err
	}
	if err := secAllTasks("NoNewPrivs", "1"); err != nil {
		return err
	}
	// Calls nobody filters still work.
	if r, err := k.Syscall("getpid"); err != nil || int(r) != os.Getpid() {
		return fmt.Errorf("getpid under the filters: %d %v", r, err)
	}
	return nil
}

func testSeccompKillProcess(t T, e *Env) {
	p := secStart(t, e, "seccomp_kill_process", nil)
	ws := p.wait(t)
	out := p.output()
	if ws.Exited() && ws.ExitStatus() == secExitNoSys {
		t.Skipf("%schild: %s", NoSysPrefix, out)
	}
	True(t, ws.Signaled() && ws.Signal() == syscall.SIGSYS, "child killed by SIGSYS (status %v, output %q)", ws, out)
	True(t, strings.Contains(out, "installed") && !strings.Contains(out, "survived"), "killed at the filtered call: %q", out)
}

func secChildKillProcess(k *api.Kernel) error {
	secSpareThreads(2)
	k.PrctlSetDumpable(false) // no core file for the SIGSYS
	if _, err := secInstall(k, "default allow; kill_process getppid", seccomp.Options{}); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "installed")
	k.Syscall("getppid")
	fmt.Fprintln(os.Stderr, "survived")
	return errors.New("getppid returned under KILL_PROCESS")
}

func testSeccompKillThread(t T, e *Env) {
	secRunChild(t, e, "seccomp_kill_thread", secPpidEnv())
}

// secChildKillThread: the thread that makes the call ends, the process
// goes on.
func secChildKillThread(k *api.Kernel) error {
	k.PrctlSetDumpable(false)
	if _, err := secInstall(k, "default allow; kill_thread getppid if arg0 == 0x5ec", seccomp.Options{}); err != nil {
		return err
	}
	tids := make(chan int, 1)
	go func() {
		runtime.LockOSThread() // this thread will not come back
		tids <- k.Gettid()
		k.Syscall("getppid", 0x5ec)
		tids <- -1
	}()
	tid := <-tids
	task := fmt.Sprintf("/proc/self/task/%d", tid)
	deadline := time.Now().Add(3 * time.Second)
	for {
		if _, err := os.Stat(task); errors.Is(err, os.ErrNotExist) {
			break
		}
		select {
		case <-tids:
			return errors.New("getppid returned under KILL_THREAD")
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("thread %d still there after its filtered call", tid)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The rest of the process runs, and the same call without the
	// argument the rule wants is fine.
	ppid, err := secPpid()
	if err != nil {
		return err
	}
	if r, err := k.Syscall("getppid"); err != nil || int(r) != ppid {
		return fmt.Errorf("getppid from another thread: %d %v", r, err)
	}
	return nil
}

func testSeccompTrap(t T, e *Env) {
	p := secStart(t, e, "seccomp_trap", nil)
	ws := p.wait(t)
	out := p.output()
	if ws.Exited() && ws.ExitStatus() == secExitNoSys {
		t.Skipf("%schild: %s", NoSysPrefix, out)
	}
	// The Go runtime takes the SIGSYS for a crash: it prints the signal
	// and exits with status 2.
	True(t, ws.Exited() && ws.ExitStatus() == 2, "child crashed with status 2 (got %v, output %.300q)", ws, out)
	True(t, strings.Contains(out, "SIGSYS"), "the crash names SIGSYS: %.300q", out)
	True(t, strings.Contains(out, "installed") && !strings.Contains(out, "survived"), "trapped at the filtered call: %.300q", out)
}

func secChildTrap(k *api.Kernel) error {
	k.PrctlSetDumpable(false)
	if _, err := secInstall(k, "default allow; trap 7 getppid", seccomp.Options{}); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "installed")
	k.Syscall("getppid")
	fmt.Fprintln(os.Stderr, "survived")
	return errors.New("getppid returned under TRAP")
}

func testSeccompLog(t T, e *Env) {
	secRunChild(t, e, "seccomp_log", secPpidEnv())
}

// secChildLog: LOG lets the call run (the kernel logs it), and so does
// ALLOW with the LOG filter flag.
func secChildLog(k *api.Kernel) error {
	ppid, err := secPpid()
	if err != nil {
		return err
	}
	if _, err := secInstall(k, "default allow; log getppid; errno ENOTTY getpgid", seccomp.Options{Log: true}); err != nil {
		return err
	}
	if r, err := k.Syscall("getppid"); err != nil || int(r) != ppid {
		return fmt.Errorf("getppid under LOG: %d %v, want %d", r, err, ppid)
	}
	_, err = k.Syscall("getpgid", 0)
	return secWantErrno("getpgid", err, api.ENOTTY)
}

func testSeccompTrace(t T, e *Env) {
	secRunChild(t, e, "seccomp_trace")
}

// secChildTrace: TRACE without a tracer fails the call with ENOSYS.
func secChildTrace(k *api.Kernel) error {
	if _, err := secInstall(k, "default allow; trace 5 getppid", seccomp.Options{}); err != nil {
		return err
	}
	_, err := k.Syscall("getppid")
	if !errors.Is(err, api.ENOSYS) {
		return fmt.Errorf("getppid under TRACE without a tracer: %v, want ENOSYS", err)
	}
	return nil
}

func testSeccompArgs(t T, e *Env) {
	if e.K.ABI().PtrSize == 4 {
		t.Skipf("the policy compares 64-bit argument values; %s/%s syscall arguments are 32 bits (the compiler refuses such values there)", e.K.ABI().OS, e.K.ABI().Arch)
	}
	secRunChild(t, e, "seccomp_args")
}

// secArgsPolicy compares every argument of splice, with 64-bit values
// whose halves differ. No allowed call can do anything: the output
// descriptor is never open, so splice fails with EBADF (or earlier, with
// 0 for a zero length or EINVAL for unknown flags).
const secArgsPolicy = `default allow
errno EDOM splice if arg0 == 0x100000007
errno EXDEV splice if arg1 > 0x200000000 && arg1 <= 0x300000000
errno ENOTTY splice if arg2 & 0x100000000
errno ECHILD splice if arg3 & 0xff00 == 0x1200
errno ESPIPE splice if arg4 < 5 && arg5 != 0
errno ERANGE splice if arg5 >= 0x8000000000000000
errno EROFS splice if arg4 != 0x7fffffffffffffff && arg4 >= 0x10000000000
`

// secChildArgs runs hundreds of splice calls with arguments near the
// policy's values and checks each result against the verdict of the
// compiled program in the pure-Go interpreter: kernel and interpreter
// must agree on every call.
func secChildArgs(k *api.Kernel) error {
	tg, err := seccomp.NewTarget(k)
	if err != nil {
		return err
	}
	pol, err := seccomp.Parse(tg, secArgsPolicy)
	if err != nil {
		return err
	}
	prog, err := seccomp.Compile(tg, pol)
	if err != nil {
		return err
	}
	run, err := tg.Prepare(prog)
	if err != nil {
		return err
	}
	if _, err := seccomp.InstallProgram(k, prog, false, seccomp.Options{}); err != nil {
		return err
	}
	chosen := map[api.Errno]bool{}
	for _, r := range pol.Rules {
		chosen[r.Action.Errno] = true
	}
	pick := func(rng *rand.Rand, vs ...uint64) uint64 {
		if rng.IntN(5) == 0 {
			return rng.Uint64()
		}
		return vs[rng.IntN(len(vs))]
	}
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 5))
	counts := map[string]int{}
	for i := range 500 {
		var a [6]uint64
		a[0] = pick(rng, 0, 1, 2)<<32 | pick(rng, 7, 0x7ffffff7)&0xffffffff
		a[1] = pick(rng, 0, 0x200000000, 0x200000001, 0x2ffffffff, 0x300000000, 0x300000001, 0x1ffffffff, 1<<63)
		a[2] = pick(rng, 0, 1, 2, 3)<<32 | 0x7ffffff0 // never an open descriptor
		a[3] = pick(rng, 0, 0x1200, 0x12ff, 0x1300, 0x1_0000_1234, 0xff00)
		a[4] = pick(rng, 0, 4, 5, 6, 1<<40, 1<<40-1, 0x7fffffffffffffff, 0x1_0000_0004)
		a[5] = pick(rng, 0, 1, 1<<63, 1<<63-1, 0x1_0000_0000)
		d, _ := tg.Data("splice", a[:]...)
		want := run.Eval(d)
		if v := pol.Verdict(tg, d.Arch, d.Nr, d.Args); v != want {
			return fmt.Errorf("splice%#x: program %v, policy %v", a, want, v)
		}
		_, err = k.Syscall("splice", uintptr(a[0]), uintptr(a[1]), uintptr(a[2]), uintptr(a[3]), uintptr(a[4]), uintptr(a[5]))
		got := api.Errno(0)
		var en api.Errno
		if errors.As(err, &en) {
			got = en
		} else if err != nil {
			return err
		}
		if want.Kind == seccomp.ActErrno {
			if got != want.Errno {
				return fmt.Errorf("call %d (seed %d): splice%#x: kernel %v, interpreter %v", i, seed, a, got, want)
			}
			counts[want.Errno.Name()]++
		} else if chosen[got] {
			return fmt.Errorf("call %d (seed %d): splice%#x: kernel %v, interpreter allow", i, seed, a, got)
		} else {
			counts["allow"]++
		}
	}
	// Every rule must have decided some calls, and some calls pass.
	for e := range chosen {
		if counts[e.Name()] == 0 {
			return fmt.Errorf("no call hit the rule for %s (seed %d): %v", e.Name(), seed, counts)
		}
	}
	if counts["allow"] == 0 {
		return fmt.Errorf("no call was allowed (seed %d): %v", seed, counts)
	}
	return nil
}

func testSeccompThread(t T, e *Env) {
	secRunChild(t, e, "seccomp_thread", secPpidEnv())
}

// secChildThread: without TSYNC the filter belongs to one thread.
func secChildThread(k *api.Kernel) error {
	ppid, err := secPpid()
	if err != nil {
		return err
	}
	threads := secSpareThreads(2)
	res := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // the filtered thread ends with this goroutine
		res <- func() error {
			if _, err := secInstall(k, "default allow; errno EDOM getppid", seccomp.Options{ThreadOnly: true}); err != nil {
				return err
			}
			_, err := k.Syscall("getppid")
			if err := secWantErrno("getppid on the filtered thread", err, api.EDOM); err != nil {
				return err
			}
			s, err := secStatus("/proc/thread-self/status", "Seccomp")
			if err != nil || s != "2" {
				return fmt.Errorf("filtered thread Seccomp %q %v", s, err)
			}
			return nil
		}()
	}()
	if err := <-res; err != nil {
		return err
	}
	if err := threads(func() error {
		if r, err := k.Syscall("getppid"); err != nil || int(r) != ppid {
			return fmt.Errorf("getppid on another thread: %d %v", r, err)
		}
		if s, err := secStatus("/proc/thread-self/status", "Seccomp"); err != nil || s != "0" {
			return fmt.Errorf("other thread Seccomp %q %v", s, err)
		}
		return nil
	}); err != nil {
		return err
	}
	s, err := secStatus("/proc/self/status", "Seccomp")
	if err != nil || s != "0" {
		return fmt.Errorf("main thread Seccomp %q %v", s, err)
	}
	return nil
}

func testSeccompActionAvail(t T, e *Env) {
	k := e.K
	for _, a := range []api.SeccompRet{api.SECCOMP_RET_KILL_PROCESS, api.SECCOMP_RET_KILL_THREAD, api.SECCOMP_RET_TRAP,
		api.SECCOMP_RET_ERRNO, api.SECCOMP_RET_USER_NOTIF, api.SECCOMP_RET_TRACE, api.SECCOMP_RET_LOG, api.SECCOMP_RET_ALLOW} {
		OK(t, k.SeccompGetActionAvail(a), "action %v", a)
	}
	Want(t, k.SeccompGetActionAvail(api.SeccompRet(0x7ff80000)), api.EOPNOTSUPP, "an action no kernel has")
	r, err := api.ParseSeccompRet("user_notif")
	OK(t, err)
	Eq(t, r, api.SECCOMP_RET_USER_NOTIF, "ParseSeccompRet")
	Eq(t, api.SECCOMP_RET_LOG.String(), "SECCOMP_RET_LOG", "String")
}

func testSeccompNotifSizes(t T, e *Env) {
	k := e.K
	sz, err := k.SeccompGetNotifSizes()
	OK(t, err)
	tb := k.ABI()
	for _, c := range []struct {
		name string
		got  int
	}{{"seccomp_notif", sz.Notif}, {"seccomp_notif_resp", sz.Resp}, {"seccomp_data", sz.Data}} {
		s, ok := tb.Struct(c.name)
		True(t, ok, "the table has struct %s", c.name)
		// A kernel as new as the table's headers or newer: its structs
		// are at least as large (they only grow).
		True(t, c.got >= s.Size && c.got < 4096, "kernel's struct %s is %d bytes, the table's %d", c.name, c.got, s.Size)
	}
	// Closed and nil descriptors.
	var nilFd *api.Fd
	Want(t, nilFd.SeccompNotifRecv(&api.SeccompNotif{}), api.EBADF, "recv on nil Fd")
	f, err := k.Open("/dev/null", api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	f.Close()
	Want(t, f.SeccompNotifSend(&api.SeccompNotifResp{}), api.EBADF, "send on a closed Fd")
	_, err = f.SeccompNotifIDValid(1)
	Want(t, err, api.EBADF, "id_valid on a closed Fd")
}

// secNotifySession starts child name, which installs a filter with
// notify rules and sends the notification descriptor over descriptor 3,
// and returns the parent's Notifier on it.
func secNotifySession(t T, e *Env, name string, env ...string) (*seccomp.Notifier, *secProc) {
	t.Helper()
	if _, ok := e.K.Backend().(api.HostBackend); !ok {
		t.Skipf("needs the host kernel (child processes)")
	}
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	OK(t, err, "socketpair")
	mine, theirs := os.NewFile(uintptr(fds[0]), "parent end"), os.NewFile(uintptr(fds[1]), "child end")
	defer theirs.Close()
	defer mine.Close()
	p := secStart(t, e, name, append(env, secPpidEnv()), theirs)
	theirs.Close()
	c, err := net.FileConn(mine)
	OK(t, err, "FileConn")
	defer c.Close()
	uc := c.(*net.UnixConn)
	uc.SetReadDeadline(time.Now().Add(5 * time.Second))
	oob := make([]byte, syscall.CmsgSpace(4))
	_, oobn, _, _, err := uc.ReadMsgUnix(make([]byte, 1), oob)
	if err != nil {
		ws := p.wait(t)
		if ws.Exited() && ws.ExitStatus() == secExitNoSys {
			t.Skipf("%schild: %s", NoSysPrefix, p.output())
		}
		t.Fatalf("receiving the notification descriptor: %v; child %v: %s", err, ws, p.output())
	}
	msgs, err := syscall.ParseSocketControlMessage(oob[:oobn])
	OK(t, err, "control message")
	True(t, len(msgs) == 1, "one control message")
	nums, err := syscall.ParseUnixRights(&msgs[0])
	OK(t, err, "rights")
	True(t, len(nums) == 1, "one descriptor")
	fd, err := e.K.NewFd(nums[0])
	OK(t, err)
	n, err := seccomp.NewNotifier(e.K, fd)
	OK(t, err)
	t.Cleanup(func() { n.Close() })
	return n, p
}

// secSendListener installs a text policy with notify rules and sends the
// notification descriptor to the parent over descriptor 3.
func secSendListener(k *api.Kernel, src string) error {
	n, err := secInstall(k, src, seccomp.Options{})
	if err != nil {
		return err
	}
	if n == nil {
		return errors.New("a policy with notify rules gave no notifier")
	}
	if err := syscall.Sendmsg(3, []byte{0}, syscall.UnixRights(n.Fd().Num()), nil, 0); err != nil {
		return fmt.Errorf("sending the notification descriptor: %w", err)
	}
	return n.Close() // the parent has its own
}

// secReceive waits for the next notification, failing the case after 5 s.
func secReceive(t T, n *seccomp.Notifier, p *secProc) *seccomp.Request {
	t.Helper()
	req, err := n.Receive(5 * time.Second)
	if err != nil {
		t.Fatalf("receive: %v; child: %s", err, p.output())
	}
	return req
}

func testSeccompNotify(t T, e *Env) {
	n, p := secNotifySession(t, e, "seccomp_notify")
	tg, err := seccomp.NewTarget(e.K)
	OK(t, err)
	arch, _ := tg.Arch()
	nr, _ := tg.Syscall("getppid")
	pid := p.cmd.Process.Pid

	// Serve answers the child's three calls: a value, an errno, and
	// CONTINUE; it returns once the child has exited.
	answers := []seccomp.Response{seccomp.Return(4242), seccomp.Fail(api.EACCES), seccomp.Continue()}
	var problems []string
	calls := 0
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = n.Serve(ctx, func(req *seccomp.Request) seccomp.Response {
		calls++
		bad := func(f string, a ...any) {
			problems = append(problems, fmt.Sprintf("call %d: ", calls)+fmt.Sprintf(f, a...))
		}
		if req.Syscall != "getppid" || uint32(req.Data.Nr) != nr {
			bad("syscall %s (%d), want getppid (%d)", req.Syscall, req.Data.Nr, nr)
		}
		if req.Data.Arch != arch || req.Data.InstructionPointer == 0 || req.Data.Args[0] != 0x5ec {
			bad("seccomp_data %+v", req.Data)
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d/task/%d", pid, req.Pid)); err != nil {
			bad("pid %d is not a thread of the child %d: %v", req.Pid, pid, err)
		}
		if !req.Valid() {
			bad("a waiting call's id is not valid")
		}
		if calls > len(answers) {
			return seccomp.Fail(api.EIO)
		}
		return answers[calls-1]
	})
	OK(t, err, "Serve (child: %s)", p.output())
	p.ok(t)
	Eq(t, calls, 3, "calls served")
	Eq(t, strings.Join(problems, "; "), "", "notifications")
	// With the child gone, nothing more can come.
	_, err = n.Receive(2 * time.Second)
	True(t, errors.Is(err, seccomp.ErrNoTasks), "receive after the child exited: %v", err)
	// A bad answer flag is refused before the call.
	Want(t, n.Fd().SeccompNotifSend(&api.SeccompNotifResp{Flags: 0x100}), api.EINVAL, "unknown response flag")
	// Serve ends with its context.
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	Want(t, n.Serve(ctx, nil), context.Canceled, "Serve with a cancelled context")
}

// secChildNotify: getppid goes to the parent, which answers 4242, then
// EACCES, then lets the call run.
func secChildNotify(k *api.Kernel) error {
	ppid, err := secPpid()
	if err != nil {
		return err
	}
	secSpareThreads(2)
	if err := secSendListener(k, "default allow; notify getppid"); err != nil {
		return err
	}
	if r, err := k.Syscall("getppid", 0x5ec); err != nil || r != 4242 {
		return fmt.Errorf("first getppid: %d %v, want the parent's 4242", r, err)
	}
	_, err = k.Syscall("getppid", 0x5ec)
	if err := secWantErrno("second getppid", err, api.EACCES); err != nil {
		return err
	}
	if r, err := k.Syscall("getppid", 0x5ec); err != nil || int(r) != ppid {
		return fmt.Errorf("third getppid (CONTINUE): %d %v, want %d", r, err, ppid)
	}
	return nil
}

func testSeccompNotifyIDValid(t T, e *Env) {
	n, p := secNotifySession(t, e, "seccomp_notify_wait")
	req := secReceive(t, n, p)
	True(t, req.Valid(), "a waiting call's id is valid")
	ok, err := n.Fd().SeccompNotifIDValid(req.ID + 1000)
	OK(t, err)
	True(t, !ok, "an id never handed out is not valid")
	OK(t, n.Respond(req, seccomp.Return(4242)))
	// An answer twice is refused: EINPROGRESS while the first one is
	// being delivered, ENOENT once the call has returned.
	err = n.Respond(req, seccomp.Return(1))
	True(t, errors.Is(err, api.EINPROGRESS) || errors.Is(err, api.ENOENT), "second answer: %v, want EINPROGRESS or ENOENT", err)
	// The target dies while its next call waits: the id goes stale and
	// an answer is refused.
	req = secReceive(t, n, p)
	True(t, req.Valid(), "the second call's id is valid")
	OK(t, p.cmd.Process.Kill(), "kill the child")
	ws := p.wait(t)
	True(t, ws.Signaled() && ws.Signal() == syscall.SIGKILL, "child killed: %v (%s)", ws, p.output())
	True(t, !req.Valid(), "the dead call's id is no longer valid")
	Want(t, n.Respond(req, seccomp.Return(1)), api.ENOENT, "answer to a dead call")
}

// secChildNotifyWait makes one notified call, which must return 4242,
// then another that waits until the parent kills this process.
func secChildNotifyWait(k *api.Kernel) error {
	if err := secSendListener(k, "default allow; notify getppid"); err != nil {
		return err
	}
	if r, err := k.Syscall("getppid"); err != nil || r != 4242 {
		return fmt.Errorf("first getppid: %d %v, want 4242", r, err)
	}
	_, err := k.Syscall("getppid")
	return fmt.Errorf("the second getppid returned: %v", err)
}

func testSeccompNotifyAddfd(t T, e *Env) {
	k := e.K
	n, p := secNotifySession(t, e, "seccomp_notify_addfd")
	r, w, err := k.Pipe2(api.O_CLOEXEC)
	OK(t, err, "pipe")
	defer r.Close()
	_, err = w.Write([]byte("anykernel"))
	OK(t, err)
	w.Close()
	req := secReceive(t, n, p)
	Eq(t, req.Syscall, "getppid", "notified call")
	// Bad input first: a closed source descriptor.
	_, err = n.Fd().SeccompNotifAddfd(req.ID, w, 0, api.SECCOMP_ADDFD_FLAG_SEND, true)
	Want(t, err, api.EBADF, "addfd of a closed descriptor")
	_, err = n.Fd().SeccompNotifAddfd(req.ID, r, -1, 0, true)
	Want(t, err, api.EINVAL, "negative target number")
	num, err := n.Fd().SeccompNotifAddfd(req.ID, r, 0, api.SECCOMP_ADDFD_FLAG_SEND, true)
	OK(t, err, "addfd with SEND")
	True(t, num > 2, "the child's new descriptor %d", num)
	p.ok(t)
	True(t, strings.Contains(p.output(), "fd "+strconv.Itoa(num)), "the child saw its call return %d: %q", num, p.output())
}

// secChildNotifyAddfd: the parent answers getppid with a descriptor it
// puts into this process: the read end of a pipe holding "anykernel".
func secChildNotifyAddfd(k *api.Kernel) error {
	if err := secSendListener(k, "default allow; notify getppid"); err != nil {
		return err
	}
	r, err := k.Syscall("getppid")
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "fd %d\n", r)
	fd, err := k.NewFd(int(r))
	if err != nil {
		return err
	}
	defer fd.Close()
	buf := make([]byte, 64)
	m, err := fd.Read(buf)
	if err != nil {
		return fmt.Errorf("reading the descriptor the parent added: %w", err)
	}
	if string(buf[:m]) != "anykernel" {
		return fmt.Errorf("read %q from the added descriptor", buf[:m])
	}
	return nil
}
