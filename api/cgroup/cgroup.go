// Package cgroup drives cgroup v2 (the unified hierarchy) through an
// *api.Kernel: find where it is mounted and which cgroup a process is in,
// create and remove cgroups, move processes, enable controllers, set limits
// and read statistics, freeze and kill whole cgroups.
//
// A cgroup is a directory of the cgroup2 file system; every operation is a
// read or a write of one of its files, so the rules are the kernel's (see
// Documentation/admin-guide/cgroup-v2.rst): a process moves only into a
// cgroup whose common ancestor with its current one the mover may write;
// controllers are enabled top-down through cgroup.subtree_control, and not
// in a non-root cgroup that holds processes itself ("no internal
// processes"); a cgroup is removed only when it holds no process and no
// child.
package cgroup

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/fsutil"
	"github.com/anykernel/anykernel/api/procfs"
)

// ErrNoCgroup2 says the kernel has no cgroup2 file system mounted where the
// caller can see it.
var ErrNoCgroup2 = errors.New("cgroup: no cgroup2 file system is mounted")

// Mountpoint returns where the cgroup2 file system is mounted in the
// calling process's mount namespace ("/sys/fs/cgroup" on a pure v2 system,
// "/sys/fs/cgroup/unified" on a hybrid one), from /proc/self/mountinfo.
func Mountpoint(k *api.Kernel) (string, error) {
	m, err := mount(k)
	if err != nil {
		return "", err
	}
	return m.MountPoint, nil
}

// mount returns the first cgroup2 mount whose root is the hierarchy's (or
// the cgroup namespace's) root, falling back to any cgroup2 mount.
func mount(k *api.Kernel) (*procfs.Mount, error) {
	ms, err := procfs.Mountinfo(k)
	if err != nil {
		return nil, err
	}
	var found *procfs.Mount
	for i := range ms {
		if ms[i].FSType != "cgroup2" {
			continue
		}
		if ms[i].Root == "/" {
			return &ms[i], nil
		}
		if found == nil {
			found = &ms[i]
		}
	}
	if found == nil {
		return nil, ErrNoCgroup2
	}
	return found, nil
}

// Cgroup is one cgroup, named by its directory.
type Cgroup struct {
	K    *api.Kernel
	Path string // its directory: the mount point joined with the cgroup's name
}

// Open returns the cgroup at directory dir (it is not checked).
func Open(k *api.Kernel, dir string) *Cgroup { return &Cgroup{K: k, Path: path.Clean(dir)} }

// Root returns the root cgroup of the mounted hierarchy.
func Root(k *api.Kernel) (*Cgroup, error) {
	mp, err := Mountpoint(k)
	if err != nil {
		return nil, err
	}
	return Open(k, mp), nil
}

// Self returns the cgroup v2 of the calling process.
func Self(k *api.Kernel) (*Cgroup, error) { return OfPid(k, k.Getpid()) }

// OfPid returns the cgroup v2 of process pid, from /proc/<pid>/cgroup (the
// "0::" line) and the mount's root (so it is right inside a cgroup
// namespace and with a mount of a subtree).
func OfPid(k *api.Kernel, pid int) (*Cgroup, error) {
	m, err := mount(k)
	if err != nil {
		return nil, err
	}
	b, err := fsutil.ReadFile(k, procfs.Pid(k, pid).Dir()+"/cgroup")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		rel, ok := strings.CutPrefix(line, "0::")
		if !ok {
			continue
		}
		// Paths outside the mount's root show as "/../x": not reachable.
		r := strings.TrimSuffix(m.Root, "/")
		if r != "" && rel != r && !strings.HasPrefix(rel, r+"/") {
			return nil, fmt.Errorf("cgroup: process %d is in %s, outside the mounted subtree %s", pid, rel, m.Root)
		}
		rel = strings.TrimPrefix(rel, r)
		return Open(k, m.MountPoint+"/"+strings.TrimPrefix(rel, "/")), nil
	}
	return nil, fmt.Errorf("cgroup: process %d has no cgroup v2 line in /proc/%d/cgroup", pid, pid)
}

// Name returns the cgroup's path inside the hierarchy, "/" for the root
// ("/a/b" for <mountpoint>/a/b).
func (c *Cgroup) Name() (string, error) {
	mp, err := Mountpoint(c.K)
	if err != nil {
		return "", err
	}
	rel, ok := strings.CutPrefix(c.Path, mp)
	if !ok || (rel != "" && rel[0] != '/') {
		return "", fmt.Errorf("cgroup: %s is not under the cgroup2 mount %s", c.Path, mp)
	}
	if rel == "" {
		rel = "/"
	}
	return rel, nil
}

// Child returns the cgroup name below c (it is not created).
func (c *Cgroup) Child(name string) *Cgroup { return Open(c.K, c.Path+"/"+name) }

// Parent returns the cgroup above c.
func (c *Cgroup) Parent() *Cgroup { return Open(c.K, path.Dir(c.Path)) }

// Create makes a new child cgroup called name (a single path component).
func (c *Cgroup) Create(name string) (*Cgroup, error) {
	if name == "" || name == "." || name == ".." || strings.Contains(name, "/") {
		return nil, &fs.PathError{Op: "cgroup create", Path: c.Path + "/" + name, Err: api.EINVAL}
	}
	ch := c.Child(name)
	if err := c.K.Mkdir(ch.Path, 0o755); err != nil {
		return nil, err
	}
	return ch, nil
}

// Remove removes the cgroup, which must hold no process and no child
// (EBUSY otherwise). The kernel may take a moment to forget processes that
// just exited; Remove retries EBUSY for up to a second while the cgroup is
// no longer populated.
func (c *Cgroup) Remove() error {
	deadline := time.Now().Add(time.Second)
	for {
		err := c.K.Rmdir(c.Path)
		if err == nil || !errors.Is(err, api.EBUSY) || time.Now().After(deadline) {
			return err
		}
		if pop, perr := c.Populated(); perr != nil || pop {
			return err
		}
		if st, serr := c.Stat(); serr != nil || st["nr_descendants"] > 0 {
			return err
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Read returns the contents of the cgroup's file name ("pids.max",
// "memory.stat", ...), without the trailing newline.
func (c *Cgroup) Read(name string) (string, error) {
	b, err := fsutil.ReadFile(c.K, c.file(name))
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}

// Write writes value to the cgroup's file name in a single write, which is
// how the kernel wants each command.
func (c *Cgroup) Write(name, value string) error {
	f, err := c.K.Open(c.file(name), api.O_WRONLY|api.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Write([]byte(value)); err != nil {
		return fmt.Errorf("cgroup: write %q to %s: %w", value, c.file(name), err)
	}
	return f.Close()
}

// ReadInt reads a file holding one integer; "max" reads as -1.
func (c *Cgroup) ReadInt(name string) (int64, error) {
	v, err := c.Read(name)
	if err != nil {
		return 0, err
	}
	v = strings.TrimSpace(v)
	if v == "max" {
		return -1, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cgroup: %s: %w", c.file(name), err)
	}
	return n, nil
}

// WriteInt writes an integer to a file; a negative n writes "max".
func (c *Cgroup) WriteInt(name string, n int64) error {
	if n < 0 {
		return c.Write(name, "max")
	}
	return c.Write(name, strconv.FormatInt(n, 10))
}

// ReadKeyed reads a flat keyed file ("key value" lines: cgroup.events,
// cgroup.stat, pids.events, memory.stat, cpu.stat) into a map.
func (c *Cgroup) ReadKeyed(name string) (map[string]int64, error) {
	v, err := c.Read(name)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, line := range strings.Split(v, "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		out[f[0]] = n
	}
	return out, nil
}

func (c *Cgroup) file(name string) string { return c.Path + "/" + name }

// Procs lists the processes in the cgroup itself (not its children).
func (c *Cgroup) Procs() ([]int, error) { return c.readPids("cgroup.procs") }

// Threads lists the threads in the cgroup itself.
func (c *Cgroup) Threads() ([]int, error) { return c.readPids("cgroup.threads") }

func (c *Cgroup) readPids(name string) ([]int, error) {
	v, err := c.Read(name)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, w := range strings.Fields(v) {
		n, err := strconv.Atoi(w)
		if err != nil {
			return out, fmt.Errorf("cgroup: %s: %w", c.file(name), err)
		}
		out = append(out, n)
	}
	return out, nil
}

// AddProc moves process pid (all its threads) into the cgroup.
func (c *Cgroup) AddProc(pid int) error {
	if pid <= 0 {
		return &fs.PathError{Op: "cgroup add", Path: c.file("cgroup.procs"), Err: api.EINVAL}
	}
	return c.Write("cgroup.procs", strconv.Itoa(pid))
}

// Controllers lists the controllers available in the cgroup
// (cgroup.controllers): those its parent enabled for its children.
func (c *Cgroup) Controllers() ([]string, error) { return c.words("cgroup.controllers") }

// SubtreeControl lists the controllers enabled for the cgroup's children.
func (c *Cgroup) SubtreeControl() ([]string, error) { return c.words("cgroup.subtree_control") }

func (c *Cgroup) words(name string) ([]string, error) {
	v, err := c.Read(name)
	if err != nil {
		return nil, err
	}
	return strings.Fields(v), nil
}

// EnableControllers enables controllers ("pids", "memory", ...) for the
// cgroup's children. Each must be in Controllers; in a non-root cgroup
// holding processes the kernel refuses with EBUSY.
func (c *Cgroup) EnableControllers(names ...string) error { return c.control("+", names) }

// DisableControllers disables controllers for the cgroup's children.
func (c *Cgroup) DisableControllers(names ...string) error { return c.control("-", names) }

func (c *Cgroup) control(sign string, names []string) error {
	if len(names) == 0 {
		return nil
	}
	var b strings.Builder
	for i, n := range names {
		if n == "" || strings.ContainsAny(n, " +-\n") {
			return &fs.PathError{Op: "cgroup control", Path: n, Err: api.EINVAL}
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(sign + n)
	}
	return c.Write("cgroup.subtree_control", b.String())
}

// HasController reports whether controller name is available in c.
func (c *Cgroup) HasController(name string) (bool, error) {
	cs, err := c.Controllers()
	if err != nil {
		return false, err
	}
	for _, x := range cs {
		if x == name {
			return true, nil
		}
	}
	return false, nil
}

// Populated reports whether the cgroup or a descendant holds a process
// (cgroup.events).
func (c *Cgroup) Populated() (bool, error) {
	ev, err := c.ReadKeyed("cgroup.events")
	if err != nil {
		return false, err
	}
	return ev["populated"] != 0, nil
}

// Freeze stops (true) or resumes (false) every process in the cgroup and
// below (cgroup.freeze, Linux 5.2). Freezing completes asynchronously: see
// Frozen.
func (c *Cgroup) Freeze(on bool) error {
	v := "0"
	if on {
		v = "1"
	}
	return c.Write("cgroup.freeze", v)
}

// Frozen reports whether the cgroup has become frozen (cgroup.events).
func (c *Cgroup) Frozen() (bool, error) {
	ev, err := c.ReadKeyed("cgroup.events")
	if err != nil {
		return false, err
	}
	return ev["frozen"] != 0, nil
}

// Kill sends SIGKILL to every process in the cgroup and below at once
// (cgroup.kill, Linux 5.14).
func (c *Cgroup) Kill() error { return c.Write("cgroup.kill", "1") }

// SetPidsMax limits the number of processes and threads in the cgroup
// (pids.max; negative: no limit). The pids controller must be enabled.
func (c *Cgroup) SetPidsMax(n int64) error { return c.WriteInt("pids.max", n) }

// PidsCurrent returns the number of processes and threads in the cgroup
// and below (pids.current).
func (c *Cgroup) PidsCurrent() (int64, error) { return c.ReadInt("pids.current") }

// SetMemoryMax sets the hard memory limit in bytes (memory.max; negative:
// no limit). The memory controller must be enabled.
func (c *Cgroup) SetMemoryMax(n int64) error { return c.WriteInt("memory.max", n) }

// MemoryCurrent returns the memory used by the cgroup and below, in bytes.
func (c *Cgroup) MemoryCurrent() (int64, error) { return c.ReadInt("memory.current") }

// SetMaxDescendants limits how many cgroups may exist below c
// (cgroup.max.descendants, a core limit needing no controller; negative:
// no limit). Creating one more fails with EAGAIN.
func (c *Cgroup) SetMaxDescendants(n int64) error { return c.WriteInt("cgroup.max.descendants", n) }

// SetMaxDepth limits how deep the tree below c may grow
// (cgroup.max.depth; negative: no limit).
func (c *Cgroup) SetMaxDepth(n int64) error { return c.WriteInt("cgroup.max.depth", n) }

// Stat reads cgroup.stat: nr_descendants, nr_dying_descendants, ...
func (c *Cgroup) Stat() (map[string]int64, error) { return c.ReadKeyed("cgroup.stat") }
