// Package procfs reads Linux's /proc through an *api.Kernel: the list of
// processes (Ps), and per process its status, stat, command line,
// environment, open descriptors, memory maps and mount table.
//
// Processes come and go: a process that exits between listing and reading
// gives errors that satisfy errors.Is(err, fs.ErrNotExist) (ENOENT, or ESRCH
// from some files), and Ps leaves it out.
package procfs

import (
	"errors"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/fsutil"
)

// Root is where procfs is mounted.
const Root = "/proc"

// Proc is one process of a kernel, named by pid. Making one reads nothing;
// each method reads its file when called.
type Proc struct {
	K   *api.Kernel
	Pid int
}

// Self returns the calling process (its pid from getpid, so the answer
// does not depend on which thread asks, as /proc/self would not either).
func Self(k *api.Kernel) Proc { return Proc{K: k, Pid: k.Getpid()} }

// Pid returns process pid.
func Pid(k *api.Kernel, pid int) Proc { return Proc{K: k, Pid: pid} }

// Dir is the process's directory, /proc/<pid>.
func (p Proc) Dir() string { return Root + "/" + strconv.Itoa(p.Pid) }

func (p Proc) file(name string) string { return p.Dir() + "/" + name }

func (p Proc) read(name string) ([]byte, error) { return fsutil.ReadFile(p.K, p.file(name)) }

// Pids lists the pids of every process (thread groups, not threads), in
// increasing order.
func Pids(k *api.Kernel) ([]int, error) {
	ents, err := k.ReadDir(Root)
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, de := range ents {
		if n, err := strconv.Atoi(de.Name); err == nil && n > 0 {
			pids = append(pids, n)
		}
	}
	sort.Ints(pids)
	return pids, nil
}

// PsEntry is one line of Ps: a process's status with its command line.
type PsEntry struct {
	Status
	Cmdline []string // empty for kernel threads
}

// Ps lists every process with its status and command line, in pid order,
// like ps(1); processes that exit while it reads are left out.
func Ps(k *api.Kernel) ([]PsEntry, error) {
	pids, err := Pids(k)
	if err != nil {
		return nil, err
	}
	out := make([]PsEntry, 0, len(pids))
	for _, pid := range pids {
		p := Pid(k, pid)
		st, err := p.Status()
		if err != nil {
			if gone(err) {
				continue
			}
			return out, err
		}
		cl, err := p.Cmdline()
		if err != nil && !gone(err) {
			return out, err
		}
		out = append(out, PsEntry{Status: *st, Cmdline: cl})
	}
	return out, nil
}

// gone reports whether err says the process no longer exists.
func gone(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, api.ESRCH)
}

// Cmdline returns the process's arguments (argv), split at NUL bytes. It is
// empty for kernel threads and zombies.
func (p Proc) Cmdline() ([]string, error) {
	b, err := p.read("cmdline")
	if err != nil {
		return nil, err
	}
	return splitNUL(b), nil
}

// Environ returns the process's initial environment, "KEY=value" strings
// (what it was given at exec; later changes inside the process do not show
// here). Reading another user's needs privilege.
func (p Proc) Environ() ([]string, error) {
	b, err := p.read("environ")
	if err != nil {
		return nil, err
	}
	return splitNUL(b), nil
}

func splitNUL(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	s := string(b)
	s = strings.TrimSuffix(s, "\x00")
	return strings.Split(s, "\x00")
}

// Comm returns the process's command name (up to 15 bytes, what
// prctl(PR_SET_NAME) sets), without the trailing newline.
func (p Proc) Comm() (string, error) {
	b, err := p.read("comm")
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}

// Exe returns the path of the process's executable.
func (p Proc) Exe() (string, error) { return p.K.Readlink(p.file("exe")) }

// Cwd returns the process's current directory.
func (p Proc) Cwd() (string, error) { return p.K.Readlink(p.file("cwd")) }

// FdInfo is one open descriptor of a process.
type FdInfo struct {
	Num    int
	Target string // the link's target: a path, "pipe:[1234]", "socket:[5678]", "anon_inode:[eventfd]", ...
}

// Fds lists the process's open descriptors in increasing order, each with
// what it refers to. Descriptors closed while it reads are left out.
func (p Proc) Fds() ([]FdInfo, error) {
	dir := p.file("fd")
	ents, err := p.K.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := make([]FdInfo, 0, len(ents))
	for _, de := range ents {
		n, err := strconv.Atoi(de.Name)
		if err != nil {
			continue
		}
		t, err := p.K.Readlink(dir + "/" + de.Name)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return out, err
		}
		out = append(out, FdInfo{Num: n, Target: t})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Num < out[j].Num })
	return out, nil
}

// Tasks lists the thread ids of the process, in increasing order.
func (p Proc) Tasks() ([]int, error) {
	ents, err := p.K.ReadDir(p.file("task"))
	if err != nil {
		return nil, err
	}
	var tids []int
	for _, de := range ents {
		if n, err := strconv.Atoi(de.Name); err == nil {
			tids = append(tids, n)
		}
	}
	sort.Ints(tids)
	return tids, nil
}
