// Package nsexec runs Go code in Linux namespaces, the two ways a Go
// program can.
//
// Netns handles run a function inside another network namespace on an OS
// thread of its own, and put the thread back afterwards (or let the runtime
// discard it when that fails). That is enough for per-thread state such as
// the network namespace, but not for everything: the user namespace of a
// multithreaded process cannot change, a new PID namespace only takes
// children, and a mount namespace set up by one thread is not the other
// threads'. A Go program is multithreaded from its first instruction.
//
// For work that must start in fresh namespaces, nsexec re-executes the
// program: Command returns an *exec.Cmd that starts the running binary again
// in new namespaces (the kernel creates them at clone time, so every thread
// of the new process's runtime is born inside), and in that process Init
// runs the entry point registered under the command's name instead of main:
//
//	func init() {
//		nsexec.Register("sandbox", func() int {
//			// pid 1 of a new PID namespace, root of a new user namespace...
//			return 0 // the exit status
//		})
//	}
//
//	func main() {
//		nsexec.Init() // first thing: in a re-executed child it never returns
//		cmd := nsexec.Command("sandbox", &nsexec.Options{
//			Namespaces: api.CLONE_NEWUSER | api.CLONE_NEWPID | api.CLONE_NEWNS | api.CLONE_NEWNET,
//		})
//		cmd.Stdout = os.Stdout
//		err := cmd.Run()
//		...
//	}
//
// In a test binary, call Init first thing in TestMain (or from an init
// function of a package that registers its entries in package-level
// variable initializers, which run before any init function).
//
// Only the host kernel has namespaces and processes to re-execute: package
// nsexec is for the native backend.
package nsexec

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/backend/native"
)

// Environment variables that carry the entry point's name and the
// namespaces it was started in to the re-executed child.
const (
	envEntry = "ANYKERNEL_NSEXEC"
	envFlags = "ANYKERNEL_NSEXEC_FLAGS"
)

var (
	mu      sync.Mutex
	entries = map[string]func() int{}
)

// Register names an entry point for re-executed children. Call it from an
// init function (or a package-level variable initializer), so that it is
// registered in the child before Init runs. It returns true, so that
// `var _ = nsexec.Register(...)` works. Registering a name twice panics.
func Register(name string, f func() int) bool {
	mu.Lock()
	defer mu.Unlock()
	if name == "" || f == nil {
		panic("nsexec: Register needs a name and a function")
	}
	if _, dup := entries[name]; dup {
		panic("nsexec: entry point " + strconv.Quote(name) + " registered twice")
	}
	entries[name] = f
	return true
}

// probeEntry is nsexec's own entry point: Probe starts it to see whether
// namespaces can be created.
const probeEntry = "nsexec.probe"

func init() {
	Register(probeEntry, func() int { return 0 })
}

// IsChild reports whether this process is a child started by Command (and
// not yet dispatched by Init).
func IsChild() bool { return os.Getenv(envEntry) != "" }

// Init dispatches a re-executed child: if this process was started by
// Command, Init prepares it, runs the entry point registered under the
// command's name and exits with the status it returns. Otherwise Init
// returns at once. Call it first thing in main or TestMain.
//
// Before the entry point runs, Init removes nsexec's variables from the
// environment (so that the entry's own children are not dispatched again)
// and, when the child has a new mount namespace, makes every mount in it
// private, so that nothing the entry mounts propagates to the parent's
// namespace.
func Init() {
	name := os.Getenv(envEntry)
	if name == "" {
		return
	}
	flags, _ := strconv.ParseUint(os.Getenv(envFlags), 10, 64)
	os.Unsetenv(envEntry)
	os.Unsetenv(envFlags)
	mu.Lock()
	f, ok := entries[name]
	mu.Unlock()
	if !ok {
		fmt.Fprintf(os.Stderr, "nsexec: no entry point %q registered in %s\n", name, os.Args[0])
		os.Exit(126)
	}
	if api.CloneFlags(flags)&api.CLONE_NEWNS != 0 {
		k, err := native.New()
		if err == nil {
			err = k.Mount("", "/", "", api.MS_REC|api.MS_PRIVATE, "")
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "nsexec: %s: making mounts private: %v\n", name, err)
			os.Exit(126)
		}
	}
	os.Exit(f())
}

// Options say how Command starts the child.
type Options struct {
	// Namespaces are the CLONE_NEW* namespaces the child starts in.
	Namespaces api.CloneFlags
	// UidMap and GidMap map ids of a new user namespace; without them the
	// caller's effective uid and gid become root (0) inside.
	UidMap, GidMap []api.IDMap
	// Args are passed to the entry point as os.Args[1:].
	Args []string
	// NoPdeathsig leaves the child running if the thread that started it
	// exits. By default the child gets SIGKILL then (prctl
	// PR_SET_PDEATHSIG): a child must not outlive a test that crashed.
	// Start the command from a goroutine that is not locked to a thread
	// about to end (Netns.Do, Kernel.Unshare), or set this.
	NoPdeathsig bool
}

// Command returns a command that runs the entry point registered as name in
// a new process of the running binary, started in the namespaces opts
// asks for (nil: the caller's). Set its standard streams, ExtraFiles and
// so on as for any *exec.Cmd, then Start or Run it; add to its Env rather
// than replacing it, since Env carries the entry point's name. An unknown name or bad
// options make Start fail (the command's Err is set).
func Command(name string, opts *Options) *exec.Cmd {
	if opts == nil {
		opts = &Options{}
	}
	cmd := &exec.Cmd{Path: "/proc/self/exe", Args: append([]string{os.Args[0]}, opts.Args...)}
	mu.Lock()
	_, ok := entries[name]
	mu.Unlock()
	if !ok {
		cmd.Err = fmt.Errorf("nsexec: no entry point %q registered", name)
		return cmd
	}
	attr, err := sysProcAttr(opts)
	if err != nil {
		cmd.Err = err
		return cmd
	}
	cmd.SysProcAttr = attr
	cmd.Env = append(environ(), envEntry+"="+name, envFlags+"="+strconv.FormatUint(uint64(opts.Namespaces), 10))
	return cmd
}

// environ is the caller's environment without nsexec's variables.
func environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, envEntry+"=") || strings.HasPrefix(kv, envFlags+"=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

const allNamespaces = api.CLONE_NEWNS | api.CLONE_NEWCGROUP | api.CLONE_NEWUTS | api.CLONE_NEWIPC |
	api.CLONE_NEWUSER | api.CLONE_NEWPID | api.CLONE_NEWNET | api.CLONE_NEWTIME

// Probe reports whether this process can start a child in the namespaces
// of flags, by starting one that exits at once. The error says why not
// (EPERM where user namespaces are disabled or the process lacks the
// privilege, EINVAL or ENOSYS where the kernel lacks a namespace type).
func Probe(flags api.CloneFlags) error {
	cmd := Command(probeEntry, &Options{Namespaces: flags})
	out, err := cmd.CombinedOutput()
	if err != nil {
		var en syscall.Errno
		if errors.As(err, &en) {
			return fmt.Errorf("nsexec: starting a child in %v: %w", flags, hostErrno(en))
		}
		if len(out) > 0 {
			return fmt.Errorf("nsexec: child in %v: %v: %s", flags, err, strings.TrimSpace(string(out)))
		}
		return fmt.Errorf("nsexec: child in %v: %w", flags, err)
	}
	return nil
}

// hostErrno converts an errno of Go's syscall package (the host's
// numbering) to api's, by name through the host's ABI table.
func hostErrno(en syscall.Errno) error {
	k, err := native.New()
	if err != nil {
		return en
	}
	for _, e := range k.ABI().Errnos {
		if e.Nr != uintptr(en) {
			continue
		}
		for i := api.Errno(1); i < 1024; i++ {
			if i.Name() == e.Name {
				return i
			}
		}
	}
	return en
}
