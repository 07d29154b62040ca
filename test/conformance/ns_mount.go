package conformance

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/anykernel/anykernel/api"
)

// Mounts: mount(2), umount2, pivot_root and the descriptor-based mount API.
// Every case mounts only inside a new mount namespace whose mounts were
// made private first (nsRun), on a thread that is then discarded, so no
// mount ever reaches the host.

func init() {
	Register(
		Case{Family: "mounts", Call: "mount", Root: true, Run: testMount},
		Case{Family: "mounts", Call: "umount2", Root: true, Run: testUmount2},
		Case{Family: "mounts", Call: "pivot_root", Root: true, Run: testPivotRoot},
		Case{Family: "mounts", Call: "fsopen", Root: true, Run: testFsopen},
		Case{Family: "mounts", Call: "fsconfig", Root: true, Run: testFsconfig},
		Case{Family: "mounts", Call: "fsmount", Root: true, Run: testFsmount},
		Case{Family: "mounts", Call: "fspick", Root: true, Run: testFspick},
		Case{Family: "mounts", Call: "move_mount", Root: true, Run: testMoveMount},
		Case{Family: "mounts", Call: "open_tree", Root: true, Run: testOpenTree},
		Case{Family: "mounts", Call: "mount_setattr", Root: true, Run: testMountSetattr},
	)
}

// mountInfo is one line of /proc/PID/mountinfo.
type mountInfo struct {
	point, fstype, source string
	opts                  []string // per-mount options: rw, nosuid, ...
	superOpts             string
}

func (m mountInfo) has(opt string) bool {
	for _, o := range m.opts {
		if o == opt {
			return true
		}
	}
	return false
}

// mountsOf reads the calling thread's mount table.
func mountsOf(t T, k *api.Kernel) []mountInfo {
	t.Helper()
	s, err := readFileK(k, "/proc/thread-self/mountinfo")
	OK(t, err, "read mountinfo")
	return parseMountinfo(s)
}

// parseMountinfo parses the text of /proc/PID/mountinfo.
func parseMountinfo(s string) []mountInfo {
	var out []mountInfo
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		sep := -1
		for i, x := range f {
			if x == "-" {
				sep = i
				break
			}
		}
		if len(f) < 6 || sep < 6 || sep+2 >= len(f) {
			continue
		}
		m := mountInfo{point: unescapeMount(f[4]), opts: strings.Split(f[5], ","), fstype: f[sep+1], source: f[sep+2]}
		if sep+3 < len(f) {
			m.superOpts = f[sep+3]
		}
		out = append(out, m)
	}
	return out
}

// MountPoints returns "point fstype source" for every line of a mountinfo
// text, in order; the host-state check in package test compares them.
func MountPoints(s string) []string {
	var out []string
	for _, m := range parseMountinfo(s) {
		out = append(out, m.point+" "+m.fstype+" "+m.source)
	}
	return out
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			v := 0
			ok := true
			for _, c := range s[i+1 : i+4] {
				if c < '0' || c > '7' {
					ok = false
					break
				}
				v = v*8 + int(c-'0')
			}
			if ok {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// mountAt returns the topmost mount at point in the calling thread's table.
func mountAt(t T, k *api.Kernel, point string) (mountInfo, bool) {
	t.Helper()
	var found mountInfo
	ok := false
	for _, m := range mountsOf(t, k) {
		if m.point == point {
			found, ok = m, true
		}
	}
	return found, ok
}

// mustMount asserts a mount of fstype at point and returns it.
func mustMount(t T, k *api.Kernel, point, fstype string) mountInfo {
	t.Helper()
	m, ok := mountAt(t, k, point)
	True(t, ok, "a mount at %s", point)
	Eq(t, m.fstype, fstype, "file system type at %s", point)
	return m
}

// touch creates a file and reports the error.
func touch(k *api.Kernel, path string) error {
	f, err := k.Open(path, api.O_CREAT|api.O_WRONLY|api.O_CLOEXEC, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// mountDir returns a fresh directory, resolved (mountinfo shows real paths).
func mountDir(t T, e *Env) string {
	t.Helper()
	d := e.TempDir(t)
	r, err := filepath.EvalSymlinks(d)
	OK(t, err)
	return r
}

func testMount(t T, e *Env) {
	k := e.K
	procNeedHost(t, e)
	dir, src := mountDir(t, e), mountDir(t, e)
	OK(t, touch(k, src+"/from-src"))
	nsRun(t, e, api.CLONE_NEWNS, func(t T) {
		OK(t, k.Mount("tmpfs", dir, "tmpfs", api.MS_NOSUID|api.MS_NODEV, "size=128k,mode=700"), "mount tmpfs")
		m := mustMount(t, k, dir, "tmpfs")
		True(t, m.has("nosuid") && m.has("nodev") && m.has("rw"), "mount options: %v", m.opts)
		True(t, strings.Contains(m.superOpts, "size=128k"), "file system options: %s", m.superOpts)
		var st api.Stat
		OK(t, k.Stat(dir, &st))
		Eq(t, st.Mode&0o777, api.Mode(0o700), "mode= applied to the root")
		OK(t, touch(k, dir+"/f"), "write to the tmpfs")

		// Remount read-only: writes fail with EROFS.
		OK(t, k.Mount("", dir, "", api.MS_REMOUNT|api.MS_RDONLY|api.MS_NOSUID|api.MS_NODEV, ""), "remount ro")
		True(t, mustMount(t, k, dir, "tmpfs").has("ro"), "ro after remount")
		Want(t, touch(k, dir+"/g"), api.EROFS, "write to a read-only mount")

		// A bind mount shows src's files at the target.
		sub := dir + "/f" // a file: bind mounts need a target of the same kind
		OK(t, k.Mount(src+"/from-src", sub, "", api.MS_BIND, ""), "bind mount a file")
		_, bound := mountAt(t, k, sub)
		True(t, bound, "a bind mount at %s", sub)
		// Propagation changes take no source or type.
		OK(t, k.Mount("", dir, "", api.MS_REC|api.MS_SLAVE, ""), "make the tree a slave")
		OK(t, k.Mount("", dir, "", api.MS_REC|api.MS_PRIVATE, ""), "and private again")

		// Bad input.
		err := k.Mount("tmpfs", dir+"/missing", "tmpfs", 0, "")
		Want(t, err, fs.ErrNotExist, "mount on a missing target")
		var pe *fs.PathError
		True(t, errors.As(err, &pe) && pe.Op == "mount" && pe.Path == dir+"/missing", "error names the target: %v", err)
		Want(t, k.Mount("x", dir, "no-such-fs-type", 0, ""), api.ENODEV, "unknown file system type")
		Want(t, k.Mount("tmpfs", dir+"\x00", "tmpfs", 0, ""), api.EINVAL, "NUL in the target")
		Want(t, k.Mount("tmpfs", dir, "tmpfs", api.MountFlags(1)<<40, ""), api.EINVAL, "unknown flag bits")
	})
	var st api.Stat
	Want(t, k.Stat(dir+"/f", &st), fs.ErrNotExist, "the tmpfs never showed on the host")
	fl, err := api.ParseMountFlags("bind,rec,RDONLY,~rdonly")
	OK(t, err)
	Eq(t, fl, api.MS_BIND|api.MS_REC, "ParseMountFlags")
	_, err = api.ParseMountFlags("bind,bogus")
	Want(t, err, api.EINVAL, "unknown word")
}

func testUmount2(t T, e *Env) {
	k := e.K
	procNeedHost(t, e)
	dir := mountDir(t, e)
	nsRun(t, e, api.CLONE_NEWNS, func(t T) {
		OK(t, k.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"), "mount")
		OK(t, touch(k, dir+"/f"))
		OK(t, k.Umount2(dir, 0), "umount")
		_, mounted := mountAt(t, k, dir)
		True(t, !mounted, "nothing mounted after umount2")
		var st api.Stat
		Want(t, k.Stat(dir+"/f", &st), fs.ErrNotExist, "the tmpfs's file is gone with it")
		Want(t, k.Umount2(dir, 0), api.EINVAL, "umount2 of a directory that is no mount point")

		// Busy: a plain umount fails, MNT_DETACH detaches at once and
		// the open file keeps working.
		OK(t, k.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"), "mount again")
		f, err := k.Open(dir+"/busy", api.O_CREAT|api.O_RDWR|api.O_CLOEXEC, 0o600)
		OK(t, err)
		defer f.Close()
		OK(t, k.Chdir(dir), "chdir into the mount")
		Want(t, k.Umount2(dir, 0), api.EBUSY, "umount2 of a busy mount")
		OK(t, k.Chdir("/"), "chdir out")
		OK(t, k.Umount2(dir, api.MNT_DETACH), "lazy umount")
		_, mounted = mountAt(t, k, dir)
		True(t, !mounted, "detached at once")
		_, err = f.Write([]byte("still here"))
		OK(t, err, "an open file of a detached mount keeps working")
		Want(t, k.Umount2(dir, api.MNT_EXPIRE|api.MNT_FORCE), api.EINVAL, "MNT_EXPIRE with MNT_FORCE")

		// UMOUNT_NOFOLLOW: a symbolic link to a mount point is not
		// followed.
		OK(t, k.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"), "mount a third time")
		link := filepath.Join(filepath.Dir(dir), filepath.Base(dir)+"-link")
		OK(t, os.Symlink(dir, link))
		defer os.Remove(link)
		Want(t, k.Umount2(link, api.UMOUNT_NOFOLLOW), api.EINVAL, "UMOUNT_NOFOLLOW on a link")
		OK(t, k.Umount2(link, 0), "umount2 through the link")

		Want(t, k.Umount2(dir, api.UmountFlags(1)<<40), api.EINVAL, "unknown flag bits")
		Want(t, k.Umount2(dir+"\x00", 0), api.EINVAL, "NUL in the path")
	})
	fl, err := api.ParseUmountFlags("mnt_detach,umount_nofollow")
	OK(t, err)
	Eq(t, fl, api.MNT_DETACH|api.UMOUNT_NOFOLLOW, "ParseUmountFlags")
}

func testPivotRoot(t T, e *Env) {
	k := e.K
	procNeedHost(t, e)
	dir := mountDir(t, e)
	host, err := readFileK(k, "/proc/thread-self/mountinfo")
	OK(t, err)
	nsRun(t, e, api.CLONE_NEWNS, func(t T) {
		Want(t, k.PivotRoot(dir, dir), api.EBUSY, "pivot_root to a directory of the root mount")
		OK(t, k.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"), "mount the new root")
		OK(t, k.Mkdir(dir+"/old", 0o700))
		Want(t, k.PivotRoot(dir+"/old", dir+"/old"), api.EINVAL, "pivot_root to a directory that is no mount point")
		OK(t, touch(k, dir+"/marker"))
		OK(t, k.PivotRoot(dir, dir+"/old"), "pivot_root")
		OK(t, k.Chdir("/"))
		var st api.Stat
		OK(t, k.Stat("/marker", &st), "the new root's file at /")
		OK(t, k.Stat("/old"+dir, &st), "the old root under /old")
		OK(t, k.Umount2("/old", api.MNT_DETACH), "detach the old root")
		Want(t, k.Stat("/old"+dir, &st), fs.ErrNotExist, "the old root is gone")
		OK(t, k.Mkdir("/proc", 0o555))
		OK(t, k.Mount("proc", "/proc", "proc", api.MS_NOSUID|api.MS_NODEV|api.MS_NOEXEC, ""), "mount /proc in the new root")
		mustMount(t, k, "/", "tmpfs")
		Eq(t, len(mountsOf(t, k)), 2, "two mounts left: / and /proc")

		// The "." "." form: stack the old root on the new one, then
		// detach it.
		OK(t, k.Mkdir("/new", 0o755))
		OK(t, k.Mount("tmpfs", "/new", "tmpfs", 0, "size=64k"))
		OK(t, touch(k, "/new/marker2"))
		OK(t, k.Chdir("/new"))
		OK(t, k.PivotRoot(".", "."), `pivot_root(".", ".")`)
		OK(t, k.Umount2(".", api.MNT_DETACH), "detach the old root stacked on .")
		OK(t, k.Chdir("/"))
		OK(t, k.Stat("/marker2", &st), "the second root")
		Want(t, k.Stat("/marker", &st), fs.ErrNotExist, "the first root is gone")

		Want(t, k.PivotRoot("/", "/\x00"), api.EINVAL, "NUL in put_old")
		Want(t, k.PivotRoot("/missing", "/missing"), fs.ErrNotExist, "missing new root")
	})
	after, err := readFileK(k, "/proc/thread-self/mountinfo")
	OK(t, err)
	Eq(t, strings.Join(MountPoints(after), "\n"), strings.Join(MountPoints(host), "\n"), "the host's mounts are unchanged")
}

// fsTmpfs creates a tmpfs through the new mount API and returns the
// detached mount's descriptor.
func fsTmpfs(t T, k *api.Kernel, opts ...string) *api.Fd {
	t.Helper()
	fc, err := k.Fsopen("tmpfs", api.FSOPEN_CLOEXEC)
	NoSys(t, err)
	OK(t, err, "fsopen tmpfs")
	defer fc.Close()
	for i := 0; i+1 < len(opts); i += 2 {
		OK(t, fc.FsconfigSetString(opts[i], opts[i+1]), "fsconfig %s=%s", opts[i], opts[i+1])
	}
	OK(t, fc.FsconfigCreate(), "fsconfig create")
	mnt, err := fc.Fsmount(api.FSMOUNT_CLOEXEC, 0)
	OK(t, err, "fsmount")
	return mnt
}

func testFsopen(t T, e *Env) {
	k := e.K
	procNeedHost(t, e)
	dir := mountDir(t, e)
	nsRun(t, e, api.CLONE_NEWNS, func(t T) {
		fc, err := k.Fsopen("tmpfs", api.FSOPEN_CLOEXEC)
		NoSys(t, err)
		OK(t, err, "fsopen")
		defer fc.Close()
		True(t, fc.Num() >= 0, "an fs context descriptor")
		OK(t, fc.FsconfigCreate())
		mnt, err := fc.Fsmount(api.FSMOUNT_CLOEXEC, 0)
		OK(t, err)
		defer mnt.Close()
		OK(t, k.MoveMount(mnt, "", nil, dir, api.MOVE_MOUNT_F_EMPTY_PATH))
		mustMount(t, k, dir, "tmpfs")

		_, err = k.Fsopen("no-such-fs-type", api.FSOPEN_CLOEXEC)
		Want(t, err, api.ENODEV, "fsopen of an unknown type")
		_, err = k.Fsopen("tmpfs", api.FsopenFlags(1)<<40)
		Want(t, err, api.EINVAL, "unknown flag bits")
		_, err = k.Fsopen("tmp\x00fs", 0)
		Want(t, err, api.EINVAL, "NUL in the name")
	})
}

func testFsconfig(t T, e *Env) {
	k := e.K
	procNeedHost(t, e)
	dir := mountDir(t, e)
	nsRun(t, e, api.CLONE_NEWNS, func(t T) {
		fc, err := k.Fsopen("tmpfs", api.FSOPEN_CLOEXEC)
		NoSys(t, err)
		OK(t, err)
		defer fc.Close()
		OK(t, fc.FsconfigSetString("size", "256k"), "set_string size")
		OK(t, fc.FsconfigSetString("mode", "0711"), "set_string mode")
		OK(t, fc.FsconfigSetFlag("inode64"), "set_flag")
		err = fc.FsconfigSetString("no-such-option", "1")
		Want(t, err, api.EINVAL, "unknown option")
		True(t, strings.Contains(err.Error(), "no-such-option"), "the error carries the option and the file system's message: %v", err)
		Want(t, fc.Fsconfig(api.FsconfigCmd(99), "", nil, 0), api.EINVAL, "unknown command")
		Want(t, fc.Fsconfig(api.FSCONFIG_SET_FD, "x", nil, -1), api.EINVAL, "negative aux")
		Want(t, fc.FsconfigSetString("size", "1\x00"), api.EINVAL, "NUL in a value")
		Want(t, fc.FsconfigSetPath("source", nil, ""), api.EINVAL, "empty path without a directory")
		OK(t, fc.FsconfigCreate(), "cmd_create")
		Want(t, fc.FsconfigCreate(), api.EBUSY, "a second create")
		mnt, err := fc.Fsmount(api.FSMOUNT_CLOEXEC, 0)
		OK(t, err)
		defer mnt.Close()
		OK(t, k.MoveMount(mnt, "", nil, dir, api.MOVE_MOUNT_F_EMPTY_PATH))
		m := mustMount(t, k, dir, "tmpfs")
		True(t, strings.Contains(m.superOpts, "size=256k") && strings.Contains(m.superOpts, "mode=711"), "options applied: %s", m.superOpts)

		var nilFd *api.Fd
		Want(t, nilFd.FsconfigCreate(), api.EBADF, "fsconfig on a nil Fd")
		fc.Close()
		Want(t, fc.FsconfigSetFlag("ro"), api.EBADF, "fsconfig on a closed Fd")
	})
}

func testFsmount(t T, e *Env) {
	k := e.K
	procNeedHost(t, e)
	dir := mountDir(t, e)
	nsRun(t, e, api.CLONE_NEWNS, func(t T) {
		fc, err := k.Fsopen("tmpfs", api.FSOPEN_CLOEXEC)
		NoSys(t, err)
		OK(t, err)
		defer fc.Close()
		_, err = fc.Fsmount(api.FSMOUNT_CLOEXEC, 0)
		Want(t, err, api.EINVAL, "fsmount before create")
		OK(t, fc.FsconfigCreate())
		mnt, err := fc.Fsmount(api.FSMOUNT_CLOEXEC, api.MOUNT_ATTR_NOEXEC|api.MOUNT_ATTR_NODEV|api.MOUNT_ATTR_RDONLY)
		OK(t, err, "fsmount with attributes")
		defer mnt.Close()
		// A detached mount is usable through its descriptor already.
		var st api.Stat
		OK(t, k.Fstatat(mnt, "", &st, api.AT_EMPTY_PATH))
		True(t, st.IsDir(), "the mount's root is a directory")
		OK(t, k.MoveMount(mnt, "", nil, dir, api.MOVE_MOUNT_F_EMPTY_PATH))
		m := mustMount(t, k, dir, "tmpfs")
		True(t, m.has("noexec") && m.has("nodev") && m.has("ro"), "attributes on the mount: %v", m.opts)
		_, err = fc.Fsmount(api.FsmountFlags(1)<<40, 0)
		Want(t, err, api.EINVAL, "unknown flag bits")
		_, err = fc.Fsmount(0, api.MountAttrFlags(1)<<40)
		Want(t, err, api.EINVAL, "unknown attribute bits")
		a, err := api.ParseMountAttrFlags("rdonly,noexec")
		OK(t, err)
		Eq(t, a, api.MOUNT_ATTR_RDONLY|api.MOUNT_ATTR_NOEXEC, "ParseMountAttrFlags")
	})
}

func testFspick(t T, e *Env) {
	k := e.K
	procNeedHost(t, e)
	dir := mountDir(t, e)
	nsRun(t, e, api.CLONE_NEWNS, func(t T) {
		OK(t, k.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"))
		var before, after api.Statfs
		OK(t, k.Statfs(dir, &before))
		fc, err := k.Fspick(nil, dir, api.FSPICK_CLOEXEC)
		NoSys(t, err)
		OK(t, err, "fspick")
		defer fc.Close()
		OK(t, fc.FsconfigSetString("size", "128k"))
		OK(t, fc.FsconfigReconfigure(), "reconfigure")
		OK(t, k.Statfs(dir, &after))
		Eq(t, after.Blocks*uint64(after.Frsize), 2*before.Blocks*uint64(before.Frsize), "size doubled")
		_, err = k.Fspick(nil, dir+"/missing", api.FSPICK_CLOEXEC)
		Want(t, err, fs.ErrNotExist, "fspick of a missing path")
		_, err = k.Fspick(nil, dir, api.FspickFlags(1)<<40)
		Want(t, err, api.EINVAL, "unknown flag bits")
	})
}

func testMoveMount(t T, e *Env) {
	k := e.K
	procNeedHost(t, e)
	a, b := mountDir(t, e), mountDir(t, e)
	nsRun(t, e, api.CLONE_NEWNS, func(t T) {
		mnt := fsTmpfs(t, k, "size", "64k")
		defer mnt.Close()
		// Attach relative to a directory descriptor.
		parent, err := k.Open(filepath.Dir(a), api.O_RDONLY|api.O_DIRECTORY|api.O_CLOEXEC, 0)
		OK(t, err)
		defer parent.Close()
		OK(t, k.MoveMount(mnt, "", parent, filepath.Base(a), api.MOVE_MOUNT_F_EMPTY_PATH), "attach")
		OK(t, touch(k, a+"/moved"))
		// Move the attached mount by path.
		OK(t, k.MoveMount(nil, a, nil, b, 0), "move an attached mount")
		_, there := mountAt(t, k, a)
		True(t, !there, "nothing left at the source")
		var st api.Stat
		OK(t, k.Stat(b+"/moved", &st), "the mount's file at the target")

		Want(t, k.MoveMount(nil, a, nil, b, 0), api.EINVAL, "moving what is no mount")
		Want(t, k.MoveMount(nil, b, nil, a+"/missing", 0), fs.ErrNotExist, "missing target")
		Want(t, k.MoveMount(nil, b, nil, a, api.MoveMountFlags(1)<<40), api.EINVAL, "unknown flag bits")
		Want(t, k.MoveMount(closedFd(t, k), "", nil, a, api.MOVE_MOUNT_F_EMPTY_PATH), api.EBADF, "closed source Fd")
	})
}

func testOpenTree(t T, e *Env) {
	k := e.K
	procNeedHost(t, e)
	src, dst := mountDir(t, e), mountDir(t, e)
	nsRun(t, e, api.CLONE_NEWNS, func(t T) {
		OK(t, k.Mount("tmpfs", src, "tmpfs", 0, "size=64k"))
		OK(t, k.Mkdir(src+"/sub", 0o755))
		OK(t, k.Mount("tmpfs", src+"/sub", "tmpfs", 0, "size=64k"))
		OK(t, touch(k, src+"/sub/deep"))

		// A plain clone copies one mount; a recursive one the tree.
		one, err := k.OpenTree(nil, src, api.OPEN_TREE_CLONE|api.OPEN_TREE_CLOEXEC, 0)
		NoSys(t, err)
		OK(t, err, "open_tree clone")
		defer one.Close()
		var st api.Stat
		Want(t, k.Fstatat(one, "sub/deep", &st, 0), fs.ErrNotExist, "a non-recursive clone has no submounts")
		tree, err := k.OpenTree(nil, src, api.OPEN_TREE_CLONE|api.OPEN_TREE_CLOEXEC, api.AT_RECURSIVE)
		OK(t, err, "open_tree clone, recursive")
		defer tree.Close()
		OK(t, k.Fstatat(tree, "sub/deep", &st, 0), "a recursive clone has the submount")
		OK(t, k.MoveMount(tree, "", nil, dst, api.MOVE_MOUNT_F_EMPTY_PATH), "attach the clone")
		OK(t, k.Stat(dst+"/sub/deep", &st), "the tree is bound at the target")
		mustMount(t, k, dst+"/sub", "tmpfs")

		// Without OPEN_TREE_CLONE: a handle of the mount itself.
		h, err := k.OpenTree(nil, src, api.OPEN_TREE_CLOEXEC, 0)
		OK(t, err, "open_tree without clone")
		defer h.Close()
		OK(t, h.Stat(&st))
		True(t, st.IsDir(), "a handle of the mount's root")

		_, err = k.OpenTree(nil, src+"/missing", api.OPEN_TREE_CLONE, 0)
		Want(t, err, fs.ErrNotExist, "missing path")
		_, err = k.OpenTree(nil, src, api.OpenTreeFlags(1)<<40, 0)
		Want(t, err, api.EINVAL, "unknown flag bits")
		_, err = k.OpenTree(nil, src, api.OPEN_TREE_CLONE, api.AtFlags(1)<<40)
		Want(t, err, api.EINVAL, "unknown AT_ bits")
	})
}

func testMountSetattr(t T, e *Env) {
	k := e.K
	procNeedHost(t, e)
	src, dst := mountDir(t, e), mountDir(t, e)
	nsRun(t, e, api.CLONE_NEWNS, func(t T) {
		// A bind mount of src at dst, made read-only: src stays writable.
		bind, err := k.OpenTree(nil, src, api.OPEN_TREE_CLONE|api.OPEN_TREE_CLOEXEC, 0)
		NoSys(t, err)
		OK(t, err)
		defer bind.Close()
		OK(t, k.MoveMount(bind, "", nil, dst, api.MOVE_MOUNT_F_EMPTY_PATH))
		err = k.MountSetattr(nil, dst, 0, &api.MountAttr{Set: api.MOUNT_ATTR_RDONLY | api.MOUNT_ATTR_NOSUID})
		NoSys(t, err)
		OK(t, err, "mount_setattr rdonly")
		m, _ := mountAt(t, k, dst)
		True(t, m.has("ro") && m.has("nosuid"), "attributes set: %v", m.opts)
		Want(t, touch(k, dst+"/f"), api.EROFS, "write through the read-only bind mount")
		OK(t, touch(k, src+"/f"), "write to the source")
		var st api.Stat
		OK(t, k.Stat(dst+"/f", &st), "visible through the bind mount")

		// Clear again, and change the propagation; on a detached mount
		// through its descriptor (AT_EMPTY_PATH).
		OK(t, k.MountSetattr(nil, dst, 0|api.AT_RECURSIVE, &api.MountAttr{Clear: api.MOUNT_ATTR_RDONLY, Propagation: api.MS_SHARED}), "clear rdonly, make shared")
		m, _ = mountAt(t, k, dst)
		True(t, m.has("rw"), "read-write again: %v", m.opts)
		OK(t, touch(k, dst+"/g"))
		det, err := k.OpenTree(nil, src, api.OPEN_TREE_CLONE|api.OPEN_TREE_CLOEXEC, 0)
		OK(t, err)
		defer det.Close()
		OK(t, k.MountSetattr(det, "", api.AT_EMPTY_PATH, &api.MountAttr{Set: api.MOUNT_ATTR_NOEXEC}), "on a detached mount")

		// Bad input.
		Want(t, k.MountSetattr(nil, dst, 0, nil), api.EINVAL, "nil attr")
		Want(t, k.MountSetattr(nil, dst, 0, &api.MountAttr{Propagation: api.MS_BIND}), api.EINVAL, "propagation that is none")
		Want(t, k.MountSetattr(nil, dst, 0, &api.MountAttr{Set: api.MountAttrFlags(1) << 40}), api.EINVAL, "unknown attribute bits")
		Want(t, k.MountSetattr(nil, dst+"/missing", 0, &api.MountAttr{Set: api.MOUNT_ATTR_RDONLY}), fs.ErrNotExist, "missing path")
		Want(t, k.MountSetattr(nil, dst, 0, &api.MountAttr{Set: api.MOUNT_ATTR_IDMAP, Userns: closedFd(t, k)}), api.EBADF, "closed user namespace Fd")
	})
}

// closedFd returns an Fd of k that is already closed.
func closedFd(t T, k *api.Kernel) *api.Fd {
	t.Helper()
	f, err := k.Open("/", api.O_RDONLY|api.O_DIRECTORY|api.O_CLOEXEC, 0)
	OK(t, err)
	OK(t, f.Close())
	return f
}
