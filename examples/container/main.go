// Command container runs a command in a small Linux container built only on
// anykernel's API: new user (where the kernel allows it), PID, mount, UTS,
// IPC and network namespaces; a veth pair to the host with an address on
// each end; a root directory entered with pivot_root; a host name; a
// reduced capability set; and a seccomp filter. It is the heir of
// ljsyscall's lxc example.
//
//	container [flags] [--] command [arg...]
//	sudo go run ./examples/container -hostname box -- /bin/sh
//
// Without -rootfs it assembles a root file system of its own in a
// temporary directory from a static busybox (Debian: apt-get install
// busybox-static), with a link for every applet, and removes it afterwards.
// The exit status is the command's (128+n when signal n ended it).
//
// How it works. The parent starts the container's first process with
// package api/nsexec, which re-executes this program in the new namespaces
// (a Go program cannot fork, so this is how its code gets to run as the
// first process of a new PID namespace). The parent then creates the veth
// pair, putting one end, eth0, straight into the child's network namespace,
// and tells the child to go on. The child (init.go) sets up eth0, mounts
// the root file system, /proc, /dev and /tmp with the descriptor-based
// mount API, pivots into the root, sets its host name, drops capabilities,
// installs the seccomp filter and executes the command, which becomes PID
// 1 of the container.
//
// Flags:
//
//	-rootfs DIR       root directory (default: a busybox root of our own)
//	-hostname NAME    host name inside (default "container")
//	-net=false        no veth pair: an empty network namespace (lo only)
//	-addr CIDR        eth0's address inside (default 10.199.0.2/24)
//	-hostaddr CIDR    the host end's address (default 10.199.0.1/24)
//	-userns=false     no user namespace, even where allowed
//	-uidmap IN:OUT:N  user namespace uid map (default 0:<your uid>:1); -gidmap likewise
//	-caps LIST        capabilities kept (default: Docker's default set)
//	-seccomp TEXT     seccomp rules (api/seccomp text format) tried before
//	                  the built-in ones, e.g. "errno EHOSTDOWN sethostname"
//	-ro               mount the root read-only (mount_setattr)
//	-v                say what is being done, on stderr
package main

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/nsexec"
	"github.com/anykernel/anykernel/api/seccomp"
	"github.com/anykernel/anykernel/backend/native"
)

// config is what the parent hands to the container's first process (as
// JSON, in its only argument).
type config struct {
	Rootfs   string
	Hostname string
	Args     []string
	Env      []string
	Net      bool
	Addr     string // eth0's address inside, CIDR
	Gateway  string // the host end's address: the default route
	Caps     uint64 // api.CapSet kept
	Seccomp  string // the whole policy, text format
	ReadOnly bool
	Verbose  bool
}

// defaultCaps is Docker's default capability set.
const defaultCaps = "chown,dac_override,fsetid,fowner,mknod,net_raw,setgid,setuid,setfcap,setpcap,net_bind_service,sys_chroot,kill,audit_write"

// defaultSeccomp are the calls a container has no business making; -seccomp
// rules come before them, so they can override.
const defaultSeccomp = `
errno EPERM mount umount2 pivot_root fsopen fsconfig fsmount fspick move_mount open_tree mount_setattr
errno EPERM unshare setns swapon swapoff reboot kexec_load kexec_file_load
errno EPERM init_module finit_module delete_module acct settimeofday clock_settime adjtimex
errno EPERM keyctl add_key request_key bpf perf_event_open open_by_handle_at userfaultfd
errno EPERM ptrace process_vm_readv process_vm_writev
`

func main() {
	// A re-executed container process runs its entry point here and
	// never returns.
	nsexec.Init()
	os.Exit(run(os.Args[1:]))
}

func init() {
	nsexec.Register(initEntry, containerInit)
}

// run is the parent: it parses args, starts the container and waits for
// it, and returns the exit status.
func run(args []string) int {
	fs := flag.NewFlagSet("container", flag.ContinueOnError)
	cfg := &config{}
	fs.StringVar(&cfg.Rootfs, "rootfs", "", "root directory (default: a busybox root of our own)")
	fs.StringVar(&cfg.Hostname, "hostname", "container", "host name inside")
	fs.BoolVar(&cfg.Net, "net", true, "a veth pair to the host")
	fs.StringVar(&cfg.Addr, "addr", "10.199.0.2/24", "eth0's address inside")
	hostAddr := fs.String("hostaddr", "10.199.0.1/24", "the host end's address")
	userns := fs.Bool("userns", true, "a user namespace, where allowed")
	uidmap := fs.String("uidmap", "", "uid map IN:OUT:COUNT (default 0:<euid>:1)")
	gidmap := fs.String("gidmap", "", "gid map IN:OUT:COUNT (default 0:<egid>:1)")
	caps := fs.String("caps", defaultCaps, "capabilities kept")
	rules := fs.String("seccomp", "", "extra seccomp rules, tried first")
	fs.BoolVar(&cfg.ReadOnly, "ro", false, "read-only root")
	fs.BoolVar(&cfg.Verbose, "v", false, "verbose")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg.Args = fs.Args()
	if len(cfg.Args) == 0 {
		cfg.Args = []string{"/bin/sh"}
	}
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "container:", err)
		return 125
	}
	k, err := native.New()
	if err != nil {
		return fail(err)
	}
	set, err := api.ParseCapSet(*caps)
	if err != nil {
		return fail(err)
	}
	cfg.Caps = uint64(set)
	cfg.Seccomp = "default allow\n" + *rules + "\n" + defaultSeccomp
	tg, err := seccomp.NewTarget(k)
	if err != nil {
		return fail(err)
	}
	if _, err := seccomp.Parse(tg, cfg.Seccomp); err != nil {
		return fail(fmt.Errorf("seccomp policy: %w", err))
	}
	var gw netip.Prefix
	if cfg.Net {
		in, err := netip.ParsePrefix(cfg.Addr)
		if err != nil {
			return fail(err)
		}
		if gw, err = netip.ParsePrefix(*hostAddr); err != nil {
			return fail(err)
		}
		if in.Addr().Is4() != gw.Addr().Is4() {
			return fail(errors.New("-addr and -hostaddr are of different families"))
		}
		cfg.Gateway = gw.Addr().String()
	}
	cfg.Env = []string{"PATH=/bin:/sbin:/usr/bin:/usr/sbin", "HOME=/root", "TERM=" + os.Getenv("TERM")}

	if cfg.Rootfs == "" {
		dir, err := os.MkdirTemp("", "anykernel-container-")
		if err != nil {
			return fail(err)
		}
		defer os.RemoveAll(dir)
		cfg.Rootfs = dir + "/rootfs"
		if err := buildRootfs(cfg.Rootfs); err != nil {
			return fail(err)
		}
		cfg.logf("assembled a busybox root in %s", cfg.Rootfs)
	}

	ns := api.CLONE_NEWPID | api.CLONE_NEWNS | api.CLONE_NEWUTS | api.CLONE_NEWIPC | api.CLONE_NEWNET
	opts := &nsexec.Options{Namespaces: ns}
	if *userns {
		if err := nsexec.Probe(ns | api.CLONE_NEWUSER); err != nil {
			cfg.logf("no user namespace: %v", err)
		} else {
			opts.Namespaces |= api.CLONE_NEWUSER
			if opts.UidMap, err = parseMap(*uidmap, os.Geteuid()); err != nil {
				return fail(err)
			}
			if opts.GidMap, err = parseMap(*gidmap, os.Getegid()); err != nil {
				return fail(err)
			}
		}
	}
	cfg.logf("namespaces %v", opts.Namespaces)

	arg, err := cfg.encode()
	if err != nil {
		return fail(err)
	}
	opts.Args = []string{arg}
	// The child waits on this pipe until its network is in place.
	syncR, syncW, err := os.Pipe()
	if err != nil {
		return fail(err)
	}
	cmd := nsexec.Command(initEntry, opts)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{syncR}
	if err := cmd.Start(); err != nil {
		return fail(err)
	}
	syncR.Close()
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		for s := range sigs {
			cmd.Process.Signal(s)
		}
	}()
	if cfg.Net {
		hostIf := "akc" + strconv.Itoa(cmd.Process.Pid)
		cleanup, err := hostVeth(k, cfg, hostIf, cmd.Process.Pid, gw)
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			return fail(fmt.Errorf("network: %w", err))
		}
		defer cleanup()
	}
	syncW.Write([]byte{1})
	syncW.Close()
	err = cmd.Wait()
	signal.Stop(sigs)
	close(sigs)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	if err != nil {
		return fail(err)
	}
	return 0
}

// parseMap parses IN:OUT:COUNT; "" maps root inside to id outside.
func parseMap(s string, id int) ([]api.IDMap, error) {
	if s == "" {
		return []api.IDMap{{Inside: 0, Outside: id, Count: 1}}, nil
	}
	f := strings.Split(s, ":")
	if len(f) != 3 {
		return nil, fmt.Errorf("id map %q: want IN:OUT:COUNT", s)
	}
	var n [3]int
	for i, x := range f {
		v, err := strconv.Atoi(x)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("id map %q: %q is not a number", s, x)
		}
		n[i] = v
	}
	return []api.IDMap{{Inside: n[0], Outside: n[1], Count: n[2]}}, nil
}

func (c *config) logf(format string, args ...any) {
	if c.Verbose {
		fmt.Fprintf(os.Stderr, "container: "+format+"\n", args...)
	}
}
