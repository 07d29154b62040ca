package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/anykernel/anykernel/api"
)

// The processes family: the system as a whole (uname, host and domain
// names, sysinfo, getrandom) and prctl. Names are changed only inside a
// new UTS namespace entered by a thread that is then discarded.

func init() {
	Register(
		Case{Family: "proc", Call: "uname", Run: testProcUname},
		Case{Family: "proc", Call: "sethostname", Root: true, Run: testProcSethostname},
		Case{Family: "proc", Call: "setdomainname", Root: true, Run: testProcSetdomainname},
		Case{Family: "proc", Call: "sysinfo", Run: testProcSysinfo},
		Case{Family: "proc", Call: "getrandom", Run: testProcGetrandom},
		Case{Family: "proc", Call: "prctl", Run: testProcPrctl},
	)
}

func procReadTrim(t T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	OK(t, err)
	return strings.TrimSpace(string(b))
}

func testProcUname(t T, e *Env) {
	k := e.K
	Want(t, k.Uname(nil), api.EINVAL, "nil *Utsname")
	var u api.Utsname
	OK(t, k.Uname(&u), "uname")
	True(t, u.Sysname != "" && u.Release != "" && u.Machine != "", "names filled in: %+v", u)
	if k.ABI().OS == "linux" {
		Eq(t, u.Sysname, "Linux", "sysname")
	}
	if !procIsHost(e) {
		return
	}
	Eq(t, u.Sysname, procReadTrim(t, "/proc/sys/kernel/ostype"), "ostype")
	Eq(t, u.Nodename, procReadTrim(t, "/proc/sys/kernel/hostname"), "hostname")
	Eq(t, u.Release, procReadTrim(t, "/proc/sys/kernel/osrelease"), "osrelease")
	Eq(t, u.Version, procReadTrim(t, "/proc/sys/kernel/version"), "version")
	Eq(t, u.Domainname, procReadTrim(t, "/proc/sys/kernel/domainname"), "domainname")
	h, err := os.Hostname()
	OK(t, err)
	Eq(t, u.Nodename, h, "os.Hostname")
	machine := map[string]string{"amd64": "x86_64", "arm64": "aarch64", "386": "i686", "riscv64": "riscv64", "ppc64le": "ppc64le", "s390x": "s390x"}
	if m, ok := machine[runtime.GOARCH]; ok && runtime.GOARCH != "386" {
		Eq(t, u.Machine, m, "machine for GOARCH %s", runtime.GOARCH)
	}
}

// procInNewUTS runs f on a thread that has entered a new UTS namespace and
// is discarded afterwards, so host and domain names set there never reach
// the host. The namespace is entered with a raw unshare (api has no
// namespace calls yet).
func procInNewUTS(t T, e *Env, f func() error) {
	t.Helper()
	procNeedHost(t, e)
	flag, ok := e.K.Const("CLONE_NEWUTS")
	if !ok {
		t.Skipf("%sno CLONE_NEWUTS in the ABI", NoSysPrefix)
	}
	procLocked(t, func() error {
		if _, err := e.K.Syscall("unshare", uintptr(flag)); err != nil {
			return fmt.Errorf("unshare(CLONE_NEWUTS): %w", err)
		}
		return f()
	})
}

// procSetName checks a name setter inside a new UTS namespace: the new
// name shows in uname and /proc on that thread, the host's does not
// change, and bad names are refused.
func procSetName(t T, e *Env, set func(string) error, file string, get func(*api.Utsname) string) {
	k := e.K
	Want(t, set("a\x00b"), api.EINVAL, "NUL in the name")
	Want(t, set(strings.Repeat("x", 300)), api.EINVAL, "name longer than 256 bytes")
	procNeedHost(t, e) // the rest reads the host's /proc
	hostBefore := procReadTrim(t, file)
	name := "anykernel-" + strconv.Itoa(os.Getpid())
	procInNewUTS(t, e, func() error {
		if err := set(name); err != nil {
			return err
		}
		var u api.Utsname
		if err := k.Uname(&u); err != nil {
			return err
		}
		if got := get(&u); got != name {
			return fmt.Errorf("uname shows %q after setting %q", got, name)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		if got := strings.TrimSpace(string(b)); got != name {
			return fmt.Errorf("%s shows %q in the namespace", file, got)
		}
		if err := set(strings.Repeat("y", 65)); !errors.Is(err, api.EINVAL) {
			return fmt.Errorf("65-byte name: %v, want EINVAL", err)
		}
		if err := set(""); err != nil {
			return fmt.Errorf("empty name: %w", err)
		}
		return nil
	})
	Eq(t, procReadTrim(t, file), hostBefore, "the host's name did not change")
}

func testProcSethostname(t T, e *Env) {
	procSetName(t, e, e.K.Sethostname, "/proc/sys/kernel/hostname", func(u *api.Utsname) string { return u.Nodename })
}

func testProcSetdomainname(t T, e *Env) {
	procSetName(t, e, e.K.Setdomainname, "/proc/sys/kernel/domainname", func(u *api.Utsname) string { return u.Domainname })
}

// procMeminfo returns a /proc/meminfo value in bytes.
func procMeminfo(t T, key string) uint64 {
	t.Helper()
	f, err := procStatus("/proc/meminfo", key)
	OK(t, err)
	True(t, len(f) == 2 && f[1] == "kB", "meminfo %s %v", key, f)
	n, err := strconv.ParseUint(f[0], 10, 64)
	OK(t, err)
	return n * 1024
}

func testProcSysinfo(t T, e *Env) {
	k := e.K
	Want(t, k.Sysinfo(nil), api.EINVAL, "nil *Sysinfo")
	var si api.Sysinfo
	OK(t, k.Sysinfo(&si), "sysinfo")
	True(t, si.Uptime > 0, "uptime %v", si.Uptime)
	True(t, si.TotalRAM > 0 && si.FreeRAM <= si.TotalRAM, "RAM %d free of %d", si.FreeRAM, si.TotalRAM)
	True(t, si.FreeSwap <= si.TotalSwap, "swap %d free of %d", si.FreeSwap, si.TotalSwap)
	True(t, si.Procs > 0, "procs %d", si.Procs)
	for i, l := range si.Loads {
		True(t, l >= 0 && l < 1e6, "load %d: %v", i, l)
	}
	if !procIsHost(e) {
		return
	}
	up := strings.Fields(procReadTrim(t, "/proc/uptime"))
	secs, err := strconv.ParseFloat(up[0], 64)
	OK(t, err)
	d := si.Uptime - time.Duration(secs*float64(time.Second))
	True(t, d > -3*time.Second && d < 3*time.Second, "uptime %v, /proc/uptime %s", si.Uptime, up[0])
	Eq(t, si.TotalRAM, procMeminfo(t, "MemTotal"), "MemTotal")
	Eq(t, si.TotalSwap, procMeminfo(t, "SwapTotal"), "SwapTotal")
	loads := strings.Fields(procReadTrim(t, "/proc/loadavg"))
	l1, err := strconv.ParseFloat(loads[0], 64)
	OK(t, err)
	True(t, si.Loads[0] > l1-1 && si.Loads[0] < l1+1, "1-minute load %v, /proc/loadavg %v", si.Loads[0], l1)
}

func testProcGetrandom(t T, e *Env) {
	k := e.K
	a := make([]byte, 64)
	b := make([]byte, 64)
	n, err := k.Getrandom(a, 0)
	OK(t, err, "getrandom")
	Eq(t, n, len(a), "bytes")
	n, err = k.Getrandom(b, api.GRND_NONBLOCK)
	OK(t, err, "getrandom(GRND_NONBLOCK)")
	Eq(t, n, len(b), "bytes")
	True(t, !bytes.Equal(a, b), "two reads differ")
	True(t, !bytes.Equal(a, make([]byte, 64)), "not all zero")
	n, err = k.Getrandom(nil, 0)
	OK(t, err, "empty buffer")
	Eq(t, n, 0, "empty buffer")
	_, err = k.Getrandom(a, api.GrndFlags(0x100))
	Want(t, err, api.EINVAL, "unknown flag bits")
	_, err = k.Getrandom(a, api.GRND_RANDOM|api.GRND_INSECURE)
	Want(t, err, api.EINVAL, "GRND_RANDOM with GRND_INSECURE")
	// Byte values spread: 4096 bytes hit most of the 256 values.
	big := make([]byte, 4096)
	got := 0
	for got < len(big) {
		n, err := k.Getrandom(big[got:], 0)
		OK(t, err)
		got += n
	}
	var seen [256]bool
	distinct := 0
	for _, c := range big {
		if !seen[c] {
			seen[c] = true
			distinct++
		}
	}
	True(t, distinct > 200, "%d distinct byte values in 4096 random bytes", distinct)
	var buf [32]byte
	Eq(t, procAllocs(100, func() { k.Getrandom(buf[:], 0) }), uint64(0), "allocations per getrandom")
}

func testProcPrctl(t T, e *Env) {
	k := e.K
	Want(t, k.PrctlSetName("a\x00b"), api.EINVAL, "NUL in the name")
	// PR_SET_NAME/PR_GET_NAME: the thread's name, restored.
	procLocked(t, func() error {
		old, err := k.PrctlGetName()
		if err != nil {
			return err
		}
		if err := k.PrctlSetName("anyk-test-name-that-is-long"); err != nil {
			return err
		}
		got, err := k.PrctlGetName()
		if err != nil {
			return err
		}
		if got != "anyk-test-name-" { // the kernel keeps 15 bytes
			return fmt.Errorf("name %q after PR_SET_NAME", got)
		}
		if procIsHost(e) {
			if c, err := os.ReadFile("/proc/thread-self/comm"); err != nil || strings.TrimSpace(string(c)) != got {
				return fmt.Errorf("/proc/thread-self/comm %q, %v", c, err)
			}
		}
		if err := k.PrctlSetName(old); err != nil {
			return err
		}
		if got, err := k.PrctlGetName(); err != nil || got != old {
			return fmt.Errorf("name %q, %v after restoring %q", got, err, old)
		}
		return nil
	})
	// PR_SET_PDEATHSIG/PR_GET_PDEATHSIG: per thread, set back to 0.
	procLocked(t, func() error {
		if s, err := k.PrctlGetPdeathsig(); err != nil || s != 0 {
			return fmt.Errorf("initial pdeathsig %v, %v", s, err)
		}
		if err := k.PrctlSetPdeathsig(api.SIGUSR2); err != nil {
			return err
		}
		if s, err := k.PrctlGetPdeathsig(); err != nil || s != api.SIGUSR2 {
			return fmt.Errorf("pdeathsig %v, %v after setting SIGUSR2", s, err)
		}
		if err := k.PrctlSetPdeathsig(api.Signal(1000)); !errors.Is(err, api.EINVAL) {
			return fmt.Errorf("pdeathsig 1000: %v, want EINVAL", err)
		}
		if err := k.PrctlSetPdeathsig(0); err != nil {
			return err
		}
		if s, err := k.PrctlGetPdeathsig(); err != nil || s != 0 {
			return fmt.Errorf("pdeathsig %v, %v after clearing", s, err)
		}
		return nil
	})
	// PR_GET_DUMPABLE, set to what it is.
	d, err := k.PrctlGetDumpable()
	OK(t, err, "PR_GET_DUMPABLE")
	True(t, d, "an ordinary process is dumpable")
	OK(t, k.PrctlSetDumpable(d), "PR_SET_DUMPABLE to its value")
	d2, err := k.PrctlGetDumpable()
	OK(t, err)
	Eq(t, d2, d, "dumpable unchanged")
	// PR_GET_NO_NEW_PRIVS against /proc; setting it (for good) in a child.
	nnp, err := k.PrctlGetNoNewPrivs()
	OK(t, err, "PR_GET_NO_NEW_PRIVS")
	if procIsHost(e) {
		f, err := procStatus("/proc/self/status", "NoNewPrivs")
		OK(t, err)
		want := "0"
		if nnp {
			want = "1"
		}
		Eq(t, strings.Join(f, ""), want, "/proc NoNewPrivs")
		if !nnp {
			procRunChild(t, e, "nonewprivs")
		}
	}
}
