package conformance

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/procfs"
)

// The /proc readers of api/procfs, compared with what the api calls
// (getpid, getppid, getuid, ...) and Go's os say. /proc describes host
// processes, so these cases need the host kernel.

func init() {
	Register(
		Case{Family: "procfs", Call: "procfs.Ps", Run: testProcfsPs},
		Case{Family: "procfs", Call: "procfs.Status", Run: testProcfsStatus},
		Case{Family: "procfs", Call: "procfs.Stat", Run: testProcfsStat},
		Case{Family: "procfs", Call: "procfs.Cmdline", Run: testProcfsCmdline},
		Case{Family: "procfs", Call: "procfs.Environ", Run: testProcfsEnviron},
		Case{Family: "procfs", Call: "procfs.Fds", Run: testProcfsFds},
		Case{Family: "procfs", Call: "procfs.Maps", Run: testProcfsMaps},
		Case{Family: "procfs", Call: "procfs.Mountinfo", Run: testProcfsMountinfo},
	)
}

// smNeedProc skips a case unless the kernel under test is the host's and
// has /proc.
func smNeedProc(t T, e *Env) {
	t.Helper()
	if !smIsHost(e) {
		t.Skipf("needs the host kernel (/proc describes host processes)")
	}
	var st api.Stat
	if err := e.K.Stat("/proc/self/status", &st); err != nil {
		t.Skipf("no /proc here: %v", err)
	}
}

// smStart starts cmd as a child; cleanup kills and reaps it.
func smStart(t T, cmd *exec.Cmd) *os.Process {
	t.Helper()
	OK(t, cmd.Start(), "start %v", cmd.Args)
	p := cmd.Process
	t.Cleanup(func() {
		p.Kill()
		cmd.Wait()
	})
	return p
}

// smEventually polls cond every few milliseconds for up to a second.
func smEventually(cond func() bool) bool {
	deadline := time.Now().Add(time.Second)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testProcfsPs(t T, e *Env) {
	smNeedProc(t, e)
	k := e.K
	child := smStart(t, exec.Command("sleep", "30"))
	pids, err := procfs.Pids(k)
	OK(t, err, "Pids")
	True(t, slices.IsSorted(pids), "pids sorted")
	True(t, slices.Contains(pids, k.Getpid()), "Pids has our pid %d", k.Getpid())
	True(t, slices.Contains(pids, child.Pid), "Pids has the child %d", child.Pid)
	True(t, slices.Contains(pids, 1), "Pids has pid 1")
	// Go's os sees the same numeric entries, give or take processes
	// that came or went meanwhile.
	ents, err := os.ReadDir("/proc")
	OK(t, err)
	n := 0
	for _, de := range ents {
		if _, err := strconv.Atoi(de.Name()); err == nil {
			n++
		}
	}
	True(t, n > 0 && smAbs(n-len(pids)) <= max(16, n/4), "os sees %d processes, Pids %d", n, len(pids))

	ps, err := procfs.Ps(k)
	OK(t, err, "Ps")
	var self, kid *procfs.PsEntry
	for i := range ps {
		switch ps[i].Pid {
		case k.Getpid():
			self = &ps[i]
		case child.Pid:
			kid = &ps[i]
		}
		if i > 0 {
			True(t, ps[i-1].Pid < ps[i].Pid, "Ps in pid order")
		}
	}
	True(t, self != nil, "Ps lists us")
	True(t, kid != nil, "Ps lists the child")
	Eq(t, self.PPid, k.Getppid(), "our parent")
	Eq(t, kid.PPid, k.Getpid(), "the child's parent is us")
	Eq(t, kid.Name, "sleep", "the child's name")
	Eq(t, strings.Join(kid.Cmdline, " "), "sleep 30", "the child's command line")
	Eq(t, strings.Join(self.Cmdline, "\x00"), strings.Join(os.Args, "\x00"), "our command line")
}

func smAbs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func testProcfsStatus(t T, e *Env) {
	smNeedProc(t, e)
	k := e.K
	st, err := procfs.Self(k).Status()
	OK(t, err, "Status")
	Eq(t, st.Pid, k.Getpid(), "Pid")
	Eq(t, st.Tgid, k.Getpid(), "Tgid")
	Eq(t, st.PPid, k.Getppid(), "PPid")
	Eq(t, st.PPid, os.Getppid(), "PPid as os says")
	Eq(t, st.Uid[0], k.Getuid(), "real uid")
	Eq(t, st.Uid[1], k.Geteuid(), "effective uid")
	Eq(t, st.Gid[0], k.Getgid(), "real gid")
	Eq(t, st.Gid[1], k.Getegid(), "effective gid")
	ruid, euid, suid, err := k.Getresuid()
	OK(t, err)
	Eq(t, st.Uid, [4]int{ruid, euid, suid, st.Uid[3]}, "uids as getresuid says")
	groups, err := k.Getgroups()
	OK(t, err)
	slices.Sort(groups)
	g := slices.Clone(st.Groups)
	slices.Sort(g)
	Eq(t, smInts(g), smInts(groups), "groups as getgroups says")
	True(t, st.Threads >= 1, "Threads %d", st.Threads)
	tasks, err := procfs.Self(k).Tasks()
	OK(t, err, "Tasks")
	True(t, slices.Contains(tasks, k.Getpid()), "the main thread is a task")
	True(t, smAbs(len(tasks)-st.Threads) <= 8, "Threads %d vs %d tasks", st.Threads, len(tasks))
	True(t, st.VmRSS > 0 && st.VmRSS%1024 == 0, "VmRSS in bytes: %d", st.VmRSS)
	True(t, st.VmSize >= st.VmRSS, "VmSize %d >= VmRSS %d", st.VmSize, st.VmRSS)
	True(t, st.State == 'R' || st.State == 'S', "our state %c (%s)", st.State, st.StateName)
	comm, err := procfs.Self(k).Comm()
	OK(t, err)
	Eq(t, st.Name, comm, "Name is comm")
	if st.HasUmask {
		Eq(t, st.Umask, umaskOf(t, e), "Umask")
	}
	Eq(t, st.Fields["Pid"], strconv.Itoa(k.Getpid()), "raw field")

	// A sleeping child, seen from outside.
	child := smStart(t, exec.Command("sleep", "30"))
	var cs *procfs.Status
	True(t, smEventually(func() bool {
		cs, err = procfs.Pid(k, child.Pid).Status()
		return err == nil && cs.Name == "sleep" && cs.State == 'S'
	}), "the child sleeps: %v %+v", err, cs)
	Eq(t, cs.PPid, k.Getpid(), "the child's parent")
	Eq(t, cs.StateName, "sleeping")
	Eq(t, cs.Threads, 1, "one thread")

	// Names are unescaped; a process that is gone is ErrNotExist.
	s, err := procfs.ParseStatus([]byte("Name:\ta\\nb\\\\c\nState:\tZ (zombie)\nPid:\t7\nUid:\t1\t2\t3\t4\nVmRSS:\t  12 kB\n"))
	OK(t, err, "ParseStatus")
	Eq(t, s.Name, "a\nb\\c", "unescaped name")
	Eq(t, s.Uid, [4]int{1, 2, 3, 4})
	Eq(t, s.VmRSS, int64(12*1024))
	Eq(t, s.State, byte('Z'))
	_, err = procfs.ParseStatus([]byte("Name:\tx\nUid:\t1 2\nPid:\t1\n"))
	True(t, err != nil, "a Uid line with 2 ids is an error")
	_, err = procfs.Pid(k, smGonePid(t, e)).Status()
	Want(t, err, fs.ErrNotExist, "a gone process")
}

func smInts(v []int) string {
	var b strings.Builder
	for _, n := range v {
		b.WriteString(strconv.Itoa(n))
		b.WriteByte(' ')
	}
	return b.String()
}

// smGonePid returns the pid of a child that has exited and been reaped.
func smGonePid(t T, e *Env) int {
	t.Helper()
	cmd := exec.Command("true")
	OK(t, cmd.Run(), "run true")
	return cmd.Process.Pid
}

func testProcfsStat(t T, e *Env) {
	smNeedProc(t, e)
	k := e.K
	st, err := procfs.Self(k).Stat()
	OK(t, err, "Stat")
	Eq(t, st.Pid, k.Getpid(), "pid")
	Eq(t, st.PPid, k.Getppid(), "ppid")
	Eq(t, st.Pgrp, k.Getpgrp(), "pgrp")
	sid, err := k.Getsid(0)
	OK(t, err)
	Eq(t, st.Session, sid, "session")
	comm, err := procfs.Self(k).Comm()
	OK(t, err)
	Eq(t, st.Comm, comm, "comm")
	True(t, st.NumThreads >= 1, "threads")
	True(t, st.VSize > 0 && st.Rss > 0, "vsize %d rss %d", st.VSize, st.Rss)
	True(t, st.State == 'R' || st.State == 'S', "state %c", st.State)
	True(t, st.StartTime > 0, "start time")

	// A command name with spaces and parentheses: run sleep through a
	// link so named.
	dir := e.TempDir(t)
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skipf("no sleep(1): %v", err)
	}
	name := "a) (b c"
	link := filepath.Join(dir, name)
	OK(t, os.Symlink(sleep, link))
	child := smStart(t, exec.Command(link, "30"))
	var cs *procfs.Stat
	True(t, smEventually(func() bool {
		cs, err = procfs.Pid(k, child.Pid).Stat()
		return err == nil && cs.Comm == name && cs.State == 'S'
	}), "the child's stat: %v %+v", err, cs)
	Eq(t, cs.Pid, child.Pid, "child pid")
	Eq(t, cs.PPid, k.Getpid(), "child ppid after a tricky comm")
	Eq(t, cs.NumThreads, int64(1), "child threads")
	Eq(t, cs.Rest[0], "S", "Rest starts with the state")

	_, err = procfs.ParseStat([]byte("12 no parens S 1"))
	True(t, err != nil, "a line without (comm) is an error")
	_, err = procfs.ParseStat([]byte("12 (x) S 1 2 3"))
	True(t, err != nil, "a short line is an error")
}

func testProcfsCmdline(t T, e *Env) {
	smNeedProc(t, e)
	k := e.K
	cl, err := procfs.Self(k).Cmdline()
	OK(t, err, "Cmdline")
	Eq(t, strings.Join(cl, "\x00"), strings.Join(os.Args, "\x00"), "our argv")
	args := []string{"sh", "-c", "sleep 30; : 'an arg with spaces'", "x", "", "last"}
	cmd := exec.Command("/bin/sh")
	cmd.Args = args
	child := smStart(t, cmd)
	var got []string
	True(t, smEventually(func() bool {
		got, err = procfs.Pid(k, child.Pid).Cmdline()
		return err == nil && len(got) > 0 && got[0] == "sh"
	}), "child cmdline: %v %q", err, got)
	Eq(t, strings.Join(got, "|"), strings.Join(args, "|"), "child argv, empty argument included")
	// Kernel threads have none (pid 2 is kthreadd where /proc shows it).
	if s, err := procfs.Pid(k, 2).Status(); err == nil && s.PPid == 0 {
		cl, err := procfs.Pid(k, 2).Cmdline()
		OK(t, err)
		Eq(t, len(cl), 0, "a kernel thread has no command line")
	}
	exe, err := procfs.Self(k).Exe()
	OK(t, err, "Exe")
	osExe, err := os.Executable()
	OK(t, err)
	Eq(t, exe, osExe, "Exe as os.Executable")
	cwd, err := procfs.Self(k).Cwd()
	OK(t, err, "Cwd")
	wd, err := k.Getcwd()
	OK(t, err)
	Eq(t, cwd, wd, "Cwd as getcwd")
}

func testProcfsEnviron(t T, e *Env) {
	smNeedProc(t, e)
	k := e.K
	cmd := exec.Command("sleep", "30")
	cmd.Env = []string{"ANYKERNEL_A=1", "ANYKERNEL_B=with space", "ANYKERNEL_C="}
	child := smStart(t, cmd)
	var env []string
	var err error
	True(t, smEventually(func() bool {
		env, err = procfs.Pid(k, child.Pid).Environ()
		return err == nil && len(env) == 3
	}), "child environ: %v %q", err, env)
	Eq(t, strings.Join(env, "|"), strings.Join(cmd.Env, "|"), "child environment")
	self, err := procfs.Self(k).Environ()
	OK(t, err, "our Environ")
	// What we started with: every entry has a '='.
	for _, kv := range self {
		True(t, strings.Contains(kv, "="), "entry %q", kv)
	}
}

func testProcfsFds(t T, e *Env) {
	smNeedProc(t, e)
	k := e.K
	p := CreateFile(t, e, "fdfile", []byte("x"))
	f, err := k.Open(p, api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	defer f.Close()
	r, w, err := k.Pipe2(api.O_CLOEXEC)
	OK(t, err)
	defer r.Close()
	defer w.Close()
	fds, err := procfs.Self(k).Fds()
	OK(t, err, "Fds")
	byNum := map[int]string{}
	for i, fd := range fds {
		byNum[fd.Num] = fd.Target
		if i > 0 {
			True(t, fds[i-1].Num < fd.Num, "sorted")
		}
	}
	Eq(t, byNum[f.Num()], p, "the file's descriptor")
	True(t, strings.HasPrefix(byNum[r.Num()], "pipe:["), "pipe read end: %q", byNum[r.Num()])
	Eq(t, byNum[r.Num()], byNum[w.Num()], "both ends are one pipe")
	n := f.Num()
	OK(t, f.Close())
	fds, err = procfs.Self(k).Fds()
	OK(t, err)
	for _, fd := range fds {
		True(t, fd.Num != n || fd.Target != p, "closed descriptor %d still listed", n)
	}
	// Go's view: the same set of numbers, give or take descriptors
	// opened meanwhile by the runtime.
	ents, err := os.ReadDir("/proc/self/fd")
	OK(t, err)
	True(t, smAbs(len(ents)-len(fds)) <= 2, "os sees %d fds, Fds %d", len(ents), len(fds))
}

func testProcfsMaps(t T, e *Env) {
	smNeedProc(t, e)
	k := e.K
	ps := k.PageSize()
	b, err := k.Mmap(0, 3*ps, api.PROT_READ, api.MAP_PRIVATE|api.MAP_ANONYMOUS, nil, 0)
	OK(t, err, "mmap")
	addr := uint64(addrOf(b))
	maps, err := procfs.Self(k).Maps()
	OK(t, err, "Maps")
	var m *procfs.Map
	for i := range maps {
		if maps[i].Contains(addr) {
			m = &maps[i]
		}
	}
	True(t, m != nil, "a mapping holds %#x", addr)
	True(t, m.End >= addr+uint64(3*ps), "the whole region: %+v", *m)
	Eq(t, m.Perms[:3], "r--", "read-only")
	Eq(t, m.Inode, uint64(0), "anonymous")
	OK(t, k.Munmap(b))

	// A mapped file carries its path, spaces and all.
	p := CreateFile(t, e, "mapped file", make([]byte, ps))
	f, err := k.Open(p, api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	defer f.Close()
	fb, err := k.Mmap(0, ps, api.PROT_READ, api.MAP_SHARED, f, 0)
	OK(t, err, "mmap a file")
	defer k.Munmap(fb)
	var st api.Stat
	OK(t, f.Stat(&st))
	maps, err = procfs.Self(k).Maps()
	OK(t, err)
	found := false
	for _, m := range maps {
		if m.Contains(uint64(addrOf(fb))) {
			found = true
			Eq(t, m.Path, p, "path of the mapped file")
			Eq(t, m.Inode, st.Ino, "inode")
			Eq(t, m.Perms, "r--s", "shared read-only")
			Eq(t, m.Major, api.Major(st.Dev), "device major")
			Eq(t, m.Minor, api.Minor(st.Dev), "device minor")
		}
	}
	True(t, found, "the file mapping is listed")
	hasStack := false
	for _, m := range maps {
		hasStack = hasStack || m.Path == "[stack]"
	}
	True(t, hasStack, "[stack] is listed")
}

func testProcfsMountinfo(t T, e *Env) {
	smNeedProc(t, e)
	k := e.K
	ms, err := procfs.Mountinfo(k)
	OK(t, err, "Mountinfo")
	raw, err := os.ReadFile("/proc/self/mountinfo")
	OK(t, err)
	Eq(t, len(ms), strings.Count(string(raw), "\n"), "one Mount per line")
	ids := map[int]bool{}
	var root, proc *procfs.Mount
	for i := range ms {
		m := &ms[i]
		True(t, !ids[m.ID], "unique mount id %d", m.ID)
		ids[m.ID] = true
		if m.MountPoint == "/" {
			root = m
		}
		if m.MountPoint == "/proc" {
			proc = m
		}
	}
	True(t, root != nil, "/ is mounted")
	True(t, proc != nil && proc.FSType == "proc", "/proc is procfs: %+v", proc)
	// The device numbers match stat's.
	var st api.Stat
	OK(t, k.Stat("/proc", &st))
	Eq(t, proc.Major, api.Major(st.Dev), "/proc major")
	Eq(t, proc.Minor, api.Minor(st.Dev), "/proc minor")
	True(t, proc.HasOption("rw") || proc.HasOption("ro"), "options %q", proc.Options)

	m, err := procfs.ParseMountinfo([]byte("36 35 98:0 /mnt1 /mnt\\040two rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue\n"))
	OK(t, err, "ParseMountinfo")
	Eq(t, len(m), 1)
	Eq(t, m[0].MountPoint, "/mnt two", "escaped space")
	Eq(t, strings.Join(m[0].Optional, ","), "master:1,shared:2", "optional fields")
	Eq(t, m[0].FSType, "ext3")
	Eq(t, m[0].Source, "/dev/root")
	Eq(t, m[0].SuperOptions, "rw,errors=continue")
	Eq(t, m[0].Major, uint32(98))
	_, err = procfs.ParseMountinfo([]byte("36 35 98:0 / / rw no-separator ext3\n"))
	True(t, err != nil, "a line without - is an error")
}
