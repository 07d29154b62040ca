package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/seccomp"
	"github.com/anykernel/anykernel/backend/native"
)

// initEntry is the nsexec entry point of the container's first process.
const initEntry = "anykernel-container-init"

// setupFailed is the exit status when the container could not be set up
// (as docker run's 125).
const setupFailed = 125

func (c *config) encode() (string, error) {
	b, err := json.Marshal(c)
	return base64.StdEncoding.EncodeToString(b), err
}

func decodeConfig(s string) (*config, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	c := &config{}
	return c, json.Unmarshal(b, c)
}

// containerInit runs as PID 1 of the new namespaces, re-executed by
// nsexec; it sets up the container and executes the command in its place.
func containerInit() int {
	// Capabilities are per thread, and execve takes the calling thread's:
	// stay on one thread from dropping them to executing the command. (The
	// process-wide setters would do for a program without cgo; this one
	// links the net package, which may bring cgo in.)
	runtime.LockOSThread()
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "container init: want one argument")
		return setupFailed
	}
	cfg, err := decodeConfig(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "container init:", err)
		return setupFailed
	}
	if err := setup(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "container init:", err)
		return setupFailed
	}
	os.Setenv("PATH", "/bin:/sbin:/usr/bin:/usr/sbin")
	path, err := exec.LookPath(cfg.Args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "container init:", err)
		return 127
	}
	err = syscall.Exec(path, cfg.Args, cfg.Env)
	fmt.Fprintf(os.Stderr, "container init: exec %s: %v\n", path, err)
	return 126
}

// setup does everything between the namespaces' creation and the command.
func setup(cfg *config) error {
	k, err := native.New()
	if err != nil {
		return err
	}
	// The parent moves eth0 in, then writes one byte; EOF means it gave
	// up.
	sync := os.NewFile(3, "sync")
	var b [1]byte
	n, _ := sync.Read(b[:])
	sync.Close()
	if n != 1 {
		return errors.New("the parent gave up")
	}
	if err := containerNet(k, cfg); err != nil {
		return fmt.Errorf("network: %w", err)
	}
	cfg.logf("network up")
	if err := setupRoot(k, cfg); err != nil {
		return err
	}
	cfg.logf("root pivoted")
	if err := k.Sethostname(cfg.Hostname); err != nil {
		return err
	}
	if err := dropCaps(k, api.CapSet(cfg.Caps)); err != nil {
		return fmt.Errorf("capabilities: %w", err)
	}
	tg, err := seccomp.NewTarget(k)
	if err != nil {
		return err
	}
	p, err := seccomp.Parse(tg, cfg.Seccomp)
	if err != nil {
		return err
	}
	if _, err := seccomp.Install(k, p, seccomp.Options{NoNewPrivs: true}); err != nil {
		return fmt.Errorf("seccomp: %w", err)
	}
	return nil
}

// setupRoot mounts the container's file systems and pivots into its root.
// The mounts made here are private (nsexec made every mount of the new
// namespace private before the entry point ran).
func setupRoot(k *api.Kernel, cfg *config) error {
	r := cfg.Rootfs
	// pivot_root wants the new root to be a mount point: bind the
	// directory onto itself, as a detached recursive clone attached in
	// place.
	tree, err := k.OpenTree(nil, r, api.OPEN_TREE_CLONE|api.OPEN_TREE_CLOEXEC, api.AT_RECURSIVE)
	if err != nil {
		return err
	}
	err = k.MoveMount(tree, "", nil, r, api.MOVE_MOUNT_F_EMPTY_PATH)
	tree.Close()
	if err != nil {
		return err
	}
	// /proc of the new PID namespace.
	if err := newMount(k, "proc", r+"/proc", api.MOUNT_ATTR_NOSUID|api.MOUNT_ATTR_NODEV|api.MOUNT_ATTR_NOEXEC); err != nil {
		return err
	}
	// /dev: a tmpfs with the host's harmless device nodes bound in.
	if err := newMount(k, "tmpfs", r+"/dev", api.MOUNT_ATTR_NOSUID|api.MOUNT_ATTR_NOEXEC, "mode", "755", "size", "64k"); err != nil {
		return err
	}
	for _, d := range []string{"null", "zero", "full", "random", "urandom", "tty"} {
		f, err := k.Open(r+"/dev/"+d, api.O_CREAT|api.O_WRONLY|api.O_CLOEXEC, 0o666)
		if err != nil {
			return err
		}
		f.Close()
		if err := k.Mount("/dev/"+d, r+"/dev/"+d, "", api.MS_BIND, ""); err != nil {
			return err
		}
	}
	for name, target := range map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"} {
		if err := k.Symlink(target, r+"/dev/"+name); err != nil {
			return err
		}
	}
	if err := newMount(k, "tmpfs", r+"/tmp", api.MOUNT_ATTR_NOSUID|api.MOUNT_ATTR_NODEV, "mode", "1777", "size", "16m"); err != nil {
		return err
	}
	// pivot_root(".", "."): the old root ends up stacked on the new one,
	// and detaching "." then removes it; no directory for it needed.
	if err := k.Chdir(r); err != nil {
		return err
	}
	if err := k.PivotRoot(".", "."); err != nil {
		return err
	}
	if err := k.Umount2(".", api.MNT_DETACH); err != nil {
		return err
	}
	if err := k.Chdir("/"); err != nil {
		return err
	}
	if cfg.ReadOnly {
		if err := k.MountSetattr(nil, "/", 0, &api.MountAttr{Set: api.MOUNT_ATTR_RDONLY}); err != nil {
			return err
		}
	}
	return nil
}

// newMount creates a file system with the descriptor-based mount API and
// attaches it at target; opts are key, value pairs.
func newMount(k *api.Kernel, fstype, target string, attrs api.MountAttrFlags, opts ...string) error {
	fc, err := k.Fsopen(fstype, api.FSOPEN_CLOEXEC)
	if err != nil {
		return err
	}
	defer fc.Close()
	for i := 0; i+1 < len(opts); i += 2 {
		if err := fc.FsconfigSetString(opts[i], opts[i+1]); err != nil {
			return err
		}
	}
	if err := fc.FsconfigCreate(); err != nil {
		return fmt.Errorf("%s: %w", fstype, err)
	}
	m, err := fc.Fsmount(api.FSMOUNT_CLOEXEC, attrs)
	if err != nil {
		return err
	}
	defer m.Close()
	return k.MoveMount(m, "", nil, target, api.MOVE_MOUNT_F_EMPTY_PATH)
}

// dropCaps limits the calling thread, and so what execve gives the
// command, to keep: the bounding set first (that needs CAP_SETPCAP), then
// the effective, permitted and inheritable sets.
func dropCaps(k *api.Kernel, keep api.CapSet) error {
	for c := api.Capability(0); c < 64; c++ {
		if keep.Has(c) {
			continue
		}
		in, err := k.CapbsetRead(c)
		if errors.Is(err, api.EINVAL) {
			break // beyond the kernel's last capability
		}
		if err != nil {
			return err
		}
		if in {
			if err := k.CapbsetDropThread(c); err != nil {
				return fmt.Errorf("drop %v from the bounding set: %w", c, err)
			}
		}
	}
	cur, err := k.Capget(0)
	if err != nil {
		return err
	}
	return k.CapsetThread(api.Caps{Effective: cur.Effective & keep, Permitted: cur.Permitted & keep, Inheritable: cur.Inheritable & keep})
}
