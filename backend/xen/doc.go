// Package xen is the backend of the unikernel's library OS: an api.Kernel
// whose system calls are answered in Go, inside the image (build tag xen).
//
// It speaks the linux/amd64 ABI (so api's layouts apply) and answers in
// Linux numbering. It serves the console on descriptors 0-2 (through the
// boot shim's write and read, which batch into the Xen PV console ring, or
// the serial port under plain QEMU; also /dev/console and /dev/tty), an
// in-memory file system with POSIX semantics (package memfs, with /tmp,
// /dev/null, /dev/zero, /dev/full, /dev/random and /dev/urandom), pipes
// and FIFOs, eventfd, inotify, timerfd, poll, select and epoll over them,
// clocks and sleeps (the shim's clocks), POSIX and interval timers,
// getrandom (RDRAND/RDSEED from Go assembly, the shim's getrandom as the
// fallback), and a process model of one: getpid, gettid, getppid, the ids
// of root, getpgrp, getpgid, getsid (the process leads its group and
// session), uname, exit_group. Signals are emulated for the calls api makes
// with them (per-thread masks, tgkill and kill, sigpending, signalfd, the
// masks of ppoll, pselect6 and epoll_pwait): a pending signal a thread does
// not block is taken when it returns from a call, and interrupts a wait
// with EINTR; there are no handlers. Every other call answers ENOSYS.
//
//	k, err := xen.New()
//	f, err := k.Open("/tmp/x", api.O_RDWR|api.O_CREAT, 0o644)
//
// The same code runs hosted (go test -tags xen): the "platform" calls it
// makes (console write and read, clock_gettime, gettid) are Linux system
// calls, which the shim serves inside the image and the host kernel
// outside it.
//
// Memory safety: api passes addresses that may point into the calling
// goroutine's stack. Backend.Syscall is //go:nosplit and turns every
// address argument (it knows them per call) into an unsafe.Pointer before
// anything that can grow the stack; the runtime then adjusts them if the
// stack moves. Addresses inside argument structs are converted there too
// (pselect6's sigmask, iovec bases of up to 16 vectors); api keeps vectors
// of up to 8 in typed pointers on its own stack, so vectors beyond 16 must
// not live on a goroutine stack.
package xen
