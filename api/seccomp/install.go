package seccomp

import (
	"fmt"

	"github.com/anykernel/anykernel/api"
)

// Options tune Install.
type Options struct {
	// ThreadOnly installs the filter on the calling OS thread only,
	// without SECCOMP_FILTER_FLAG_TSYNC; the goroutine stays locked to
	// that thread (see api.Kernel.SeccompSetModeFilter). By default the
	// filter goes to every thread of the process, as a Go program needs.
	ThreadOnly bool
	// NoNewPrivs sets no_new_privs even when the thread has CAP_SYS_ADMIN
	// (without it, the kernel requires it anyway).
	NoNewPrivs bool
	// Log asks the kernel to log every action but ALLOW
	// (SECCOMP_FILTER_FLAG_LOG).
	Log bool
	// SpecAllow keeps speculative-store-bypass mitigation off
	// (SECCOMP_FILTER_FLAG_SPEC_ALLOW).
	SpecAllow bool
	// Trusted skips the check that the kernel knows every action of the
	// policy (an unknown action kills the process when it is taken).
	Trusted bool
}

// retOf maps actions to the api enumeration, for SECCOMP_GET_ACTION_AVAIL.
var retOf = [...]api.SeccompRet{
	ActAllow: api.SECCOMP_RET_ALLOW, ActErrno: api.SECCOMP_RET_ERRNO, ActTrap: api.SECCOMP_RET_TRAP,
	ActLog: api.SECCOMP_RET_LOG, ActKillThread: api.SECCOMP_RET_KILL_THREAD,
	ActKillProcess: api.SECCOMP_RET_KILL_PROCESS, ActTrace: api.SECCOMP_RET_TRACE, ActNotify: api.SECCOMP_RET_USER_NOTIF,
}

// Install compiles p for k's ABI and installs it, for good. When p hands
// calls to a supervisor (ActNotify), it returns a Notifier on the filter's
// notification descriptor, which the caller passes to the supervisor
// (another process, over a Unix socket; a thread of this process works
// only if it never makes a notified call itself); otherwise the Notifier
// is nil.
func Install(k *api.Kernel, p *Policy, o Options) (*Notifier, error) {
	tg, err := NewTarget(k)
	if err != nil {
		return nil, err
	}
	prog, err := Compile(tg, p)
	if err != nil {
		return nil, err
	}
	if !o.Trusted {
		seen := map[ActionKind]bool{p.Default.Kind: true, p.badArch().Kind: true}
		for _, r := range p.Rules {
			seen[r.Action.Kind] = true
		}
		for a := range seen {
			if err := k.SeccompGetActionAvail(retOf[a]); err != nil {
				return nil, fmt.Errorf("seccomp: the kernel cannot take action %s: %w", a, err)
			}
		}
	}
	fd, err := InstallProgram(k, prog, p.UsesNotify(), o)
	if err != nil || fd == nil {
		return nil, err
	}
	return &Notifier{k: k, fd: fd, tg: tg}, nil
}

// InstallProgram installs a compiled program; listener asks for the
// notification descriptor (SECCOMP_FILTER_FLAG_NEW_LISTENER), which it
// returns.
func InstallProgram(k *api.Kernel, prog []api.SockFilter, listener bool, o Options) (*api.Fd, error) {
	var fl api.SeccompFilterFlags
	if !o.ThreadOnly {
		fl |= api.SECCOMP_FILTER_FLAG_TSYNC
	}
	if listener {
		fl |= api.SECCOMP_FILTER_FLAG_NEW_LISTENER
	}
	if o.Log {
		fl |= api.SECCOMP_FILTER_FLAG_LOG
	}
	if o.SpecAllow {
		fl |= api.SECCOMP_FILTER_FLAG_SPEC_ALLOW
	}
	return k.SeccompSetModeFilter(prog, fl, o.NoNewPrivs)
}
