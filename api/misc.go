package api

import "os"

// The miscellaneous families of ljsyscall's Linux surface: terminals and
// pseudo-terminals (term.go), POSIX message queues (mq.go), Linux AIO
// (aio.go), fanotify (fanotify.go) and ptrace (ptrace.go).
//
// Each resolves its constants and layouts at New. None is required of an
// ABI: a part whose constants or structs the table lacks answers ENOSYS, so
// a backend without it (a NetBSD rump kernel has no fanotify) still works.

// miscState is the per-Kernel state of terminals, message queues, AIO,
// fanotify and ptrace, filled in at New.
type miscState struct {
	term termState
	mq   mqState
	aio  aioState
	fan  fanState
	pt   ptraceState
}

func (s *miscState) init(k *Kernel) error {
	for _, f := range []func(*Kernel) error{s.term.init, s.mq.init, s.aio.init, s.fan.init, s.pt.init} {
		if err := f(k); err != nil {
			return err
		}
	}
	return nil
}

// abiConst is one constant of the ABI that a call needs; ok is false when
// the table lacks it, and the call answers ENOSYS.
type abiConst struct {
	v  uint64
	ok bool
}

// constOf reads a constant that may be missing.
func constOf(k *Kernel, name string) abiConst {
	v, ok := k.table.Const(name)
	return abiConst{v, ok}
}

// constsOf reads several constants; all reports whether every one was there.
func constsOf(k *Kernel, pairs ...any) (all bool) {
	all = true
	for i := 0; i+1 < len(pairs); i += 2 {
		c := constOf(k, pairs[i+1].(string))
		*pairs[i].(*abiConst) = c
		all = all && c.ok
	}
	return all
}

// miscBits rejects bits that name no member of family f and converts the
// rest to the ABI, so that a stray bit is an error even where the
// conversion is the identity (the kernel would often truncate it away).
func (k *Kernel) miscBits(op string, f *family, v uint64) (uint64, error) {
	if extra := v &^ k.bits[f.id].known; extra != 0 {
		return 0, badArg(op, "unknown "+f.goType+" bits "+f.formatBits(extra))
	}
	a, err := k.flagsToABI(f, v)
	if err != nil {
		return 0, miscErr(op, err)
	}
	return a, nil
}

// miscErr wraps an error that is not a bare Errno with the call's name.
func miscErr(call string, err error) error { return os.NewSyscallError(call, err) }
