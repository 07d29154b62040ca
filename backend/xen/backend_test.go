//go:build xen

package xen

import (
	"errors"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	linux "github.com/anykernel/anykernel/abi/linux/amd64"
	"github.com/anykernel/anykernel/api"
)

// These tests run hosted (go test -tags xen ./backend/xen/): the platform
// calls go to the host. The conformance suite covers the calls at large
// (go test -tags xen ./test/ -run TestConformance/xen); these check what is
// the backend's own.

func testKernel(t *testing.T) *api.Kernel {
	t.Helper()
	k, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestConstantsAreLinux(t *testing.T) {
	consts := map[string]uint64{
		"AT_SYMLINK_NOFOLLOW": atSymlinkNofollow, "AT_REMOVEDIR": atRemovedir, "AT_EACCESS": atEaccess,
		"AT_SYMLINK_FOLLOW": atSymlinkFollow, "AT_NO_AUTOMOUNT": atNoAutomount, "AT_EMPTY_PATH": atEmptyPath,
		"AT_STATX_SYNC_TYPE": atStatxSyncType,
		"POLLIN":             pollIn, "POLLPRI": pollPri, "POLLOUT": pollOut, "POLLERR": pollErr, "POLLHUP": pollHup,
		"POLLNVAL": pollNval, "POLLRDNORM": pollRdnorm, "POLLWRNORM": pollWrnorm, "POLLRDHUP": pollRdhup,
		"EPOLL_CTL_ADD": epollCtlAdd, "EPOLL_CTL_DEL": epollCtlDel, "EPOLL_CTL_MOD": epollCtlMod,
		"EPOLLEXCLUSIVE": epollExclusive, "EPOLLWAKEUP": epollWakeup, "EPOLLONESHOT": epollOneshot, "EPOLLET": epollET,
		"EPOLL_CLOEXEC": epollCloexec,
		"F_DUPFD":       fDupfd, "F_GETFD": fGetfd, "F_SETFD": fSetfd, "F_GETFL": fGetfl, "F_SETFL": fSetfl,
		"F_GETLK": fGetlk, "F_SETLK": fSetlk, "F_SETLKW": fSetlkw, "F_SETOWN": fSetown, "F_GETOWN": fGetown,
		"F_OFD_GETLK": fOfdGetlk, "F_OFD_SETLK": fOfdSetlk, "F_OFD_SETLKW": fOfdSetlkw,
		"F_DUPFD_CLOEXEC": fDupfdCloexec, "F_SETPIPE_SZ": fSetpipeSz, "F_GETPIPE_SZ": fGetpipeSz,
		"F_ADD_SEALS": fAddSeals, "F_GET_SEALS": fGetSeals,
		"FIOCLEX": fioclex, "FIONCLEX": fionclex, "FIONBIO": fionbio, "FIONREAD": fionread,
		"CLOCK_REALTIME": clockRealtime, "CLOCK_MONOTONIC": clockMonotonic, "CLOCK_PROCESS_CPUTIME_ID": clockProcessCputime,
		"CLOCK_THREAD_CPUTIME_ID": clockThreadCputime, "CLOCK_MONOTONIC_RAW": clockMonotonicRaw,
		"CLOCK_REALTIME_COARSE": clockRealtimeCoarse, "CLOCK_MONOTONIC_COARSE": clockMonotonicCoarse,
		"CLOCK_BOOTTIME": clockBoottime, "CLOCK_REALTIME_ALARM": clockRealtimeAlarm,
		"CLOCK_BOOTTIME_ALARM": clockBoottimeAlarm, "CLOCK_TAI": clockTAI,
		"TFD_TIMER_ABSTIME": tfdTimerAbstime, "TFD_TIMER_CANCEL_ON_SET": tfdTimerCancelOnSet,
		"TFD_CLOEXEC": tfdCloexec, "TFD_NONBLOCK": tfdNonblock,
		"EFD_SEMAPHORE": efdSemaphore, "EFD_CLOEXEC": efdCloexec, "EFD_NONBLOCK": efdNonblock,
		"SFD_CLOEXEC": sfdCloexec, "SFD_NONBLOCK": sfdNonblock,
		"MFD_CLOEXEC": mfdCloexec, "MFD_ALLOW_SEALING": mfdAllowSealing,
		"GRND_NONBLOCK": grndNonblock, "GRND_RANDOM": grndRandom, "GRND_INSECURE": grndInsecure,
		"SPLICE_F_MOVE": spliceMove, "SPLICE_F_NONBLOCK": spliceNonblock, "SPLICE_F_MORE": spliceMore, "SPLICE_F_GIFT": spliceGift,
		"SIGKILL": sigKill, "SIGSTOP": sigStop, "SIGALRM": sigAlrm, "SIGVTALRM": uint64(itimerSignals[1]),
		"SIGPROF": uint64(itimerSignals[2]), "SIG_BLOCK": sigBlock, "SIG_UNBLOCK": sigUnblock, "SIG_SETMASK": sigSetmask,
		"SI_USER": siUser, "SI_TIMER": uint64(1<<64 + siTimer), "SI_TKILL": uint64(1<<64 + siTkill),
		"SIGEV_SIGNAL": sigevSignal, "SIGEV_NONE": sigevNone, "SIGEV_THREAD": sigevThread, "SIGEV_THREAD_ID": sigevThreadID,
		"UIO_MAXIOV": iovMax,
	}
	for name, v := range consts {
		got, ok := linux.Table.Const(name)
		if !ok {
			t.Errorf("%s: not in the linux/amd64 table", name)
			continue
		}
		if got != v {
			t.Errorf("%s = %#x, Linux has %#x", name, v, got)
		}
	}
	if got, _ := linux.Table.Const("AT_FDCWD"); uintptr(got) != fdcwd {
		t.Errorf("AT_FDCWD = %#x, Linux has %#x", fdcwd, got)
	}
	for _, e := range []Errno{ESRCH, EFAULT, EMFILE, ENOTTY, EPIPE} {
		le, ok := linux.Table.ErrnoByName(e.Error())
		if !ok || le.Nr != uintptr(e) {
			t.Errorf("%v = %d, Linux has %d", e, uintptr(e), le.Nr)
		}
	}
}

// stacky calls f at a stack depth of depth frames of a few dozen bytes,
// so that across depths some call into the backend finds the stack full
// and grows it in the middle of serving: the addresses the entry turned
// into pointers must follow the move.
//
//go:noinline
func stacky(depth int, f func() error) error {
	var pad [16]byte
	pad[depth%16] = byte(depth)
	if depth > 0 {
		err := stacky(depth-1, f)
		if pad[depth%16] != byte(depth) {
			return errors.New("stack corrupted")
		}
		return err
	}
	return f()
}

func TestStackMovesDuringCalls(t *testing.T) {
	k := testKernel(t)
	f, err := k.Open("/tmp/stack-test", api.O_RDWR|api.O_CREAT|api.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const msg = "the quick brown fox jumps over the lazy dog"
	if _, err := f.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	r, w, err := k.Pipe2(api.O_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	stop := make(chan struct{})
	var gc sync.WaitGroup
	gc.Add(1)
	go func() { // shrink stacks meanwhile
		defer gc.Done()
		for {
			select {
			case <-stop:
				return
			default:
				runtime.GC()
				time.Sleep(time.Millisecond)
			}
		}
	}()
	defer func() { close(stop); gc.Wait() }()
	for depth := 0; depth < 1200; depth++ {
		done := make(chan error, 1)
		go func() {
			done <- stacky(depth, func() error { return stackCalls(f, r, w, msg) })
		}()
		if err := <-done; err != nil {
			t.Fatalf("depth %d: %v", depth, err)
		}
	}
}

// stackCalls makes calls whose buffers live on its stack (nothing here may
// let them escape to the heap: messages copy them first).
func stackCalls(f, r, w *api.Fd, msg string) error {
	// A read into a stack buffer.
	var b [64]byte
	n, err := f.ReadAt(b[:], 0)
	if err != nil && err != io.EOF {
		return err
	}
	if got := string(b[:n]); got != msg {
		return errors.New("pread into the stack: " + got)
	}
	// Vectored, into stack buffers.
	var x, y [8]byte
	if n, err := f.Preadv([][]byte{x[:], y[:]}, 4); err != nil || n != 16 {
		return errors.New("preadv failed")
	}
	if got := string(x[:]) + string(y[:]); got != msg[4:20] {
		return errors.New("preadv into the stack: " + got)
	}
	// A struct filled by the backend on api's stack.
	var st api.Stat
	if err := f.Stat(&st); err != nil || st.Size != int64(len(msg)) {
		return errors.New("fstat failed")
	}
	// Through a pipe, both ends on the stack.
	in := [5]byte{'h', 'e', 'l', 'l', 'o'}
	if _, err := w.Write(in[:]); err != nil {
		return err
	}
	var out [5]byte
	for got := 0; got < len(out); {
		n, err := r.Read(out[got:])
		if err != nil {
			return err
		}
		got += n
	}
	if out != in {
		return errors.New("pipe: " + string(out[:]))
	}
	return nil
}

func TestDevicesAndFifos(t *testing.T) {
	k := testKernel(t)
	z, err := k.Open("/dev/zero", api.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	b := []byte("xxxx")
	if n, err := z.Read(b); err != nil || n != 4 || string(b) != "\x00\x00\x00\x00" {
		t.Fatalf("/dev/zero: %q %v", b, err)
	}
	full, err := k.Open("/dev/full", api.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	if _, err := full.Write([]byte("x")); !errors.Is(err, api.ENOSPC) {
		t.Fatalf("/dev/full: %v", err)
	}
	u, err := k.Open("/dev/urandom", api.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	r1, r2 := make([]byte, 32), make([]byte, 32)
	u.Read(r1)
	u.Read(r2)
	if string(r1) == string(r2) {
		t.Fatal("/dev/urandom repeats itself")
	}

	// A FIFO: a writer without a reader is ENXIO when non-blocking; a
	// blocking reader waits for a writer.
	if err := k.Mknod("/tmp/fifo", api.S_IFIFO|0o600, 0); err != nil {
		t.Fatal(err)
	}
	defer k.Unlink("/tmp/fifo")
	if _, err := k.Open("/tmp/fifo", api.O_WRONLY|api.O_NONBLOCK, 0); !errors.Is(err, api.ENXIO) {
		t.Fatalf("writer without reader: %v", err)
	}
	got := make(chan string, 1)
	go func() {
		rd, err := k.Open("/tmp/fifo", api.O_RDONLY, 0)
		if err != nil {
			got <- err.Error()
			return
		}
		defer rd.Close()
		b, _ := io.ReadAll(rd)
		got <- string(b)
	}()
	time.Sleep(10 * time.Millisecond)
	wr, err := k.Open("/tmp/fifo", api.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	wr.Write([]byte("through the fifo"))
	wr.Close()
	select {
	case s := <-got:
		if s != "through the fifo" {
			t.Fatalf("fifo: %q", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("fifo reader stuck")
	}
}

func TestIdentity(t *testing.T) {
	k := testKernel(t)
	var u api.Utsname
	if err := k.Uname(&u); err != nil {
		t.Fatal(err)
	}
	if u.Sysname != "Linux" || u.Nodename != "anykernel" || !strings.Contains(u.Release, "anykernel") || u.Machine != "x86_64" {
		t.Fatalf("uname %+v", u)
	}
	if pg := k.Getpgrp(); pg != k.Getpid() {
		t.Fatalf("getpgrp %d, getpid %d", pg, k.Getpid())
	}
	if _, err := k.Setsid(); !errors.Is(err, api.EPERM) {
		t.Fatalf("setsid of the group leader: %v", err)
	}
	// Unserved calls answer ENOSYS.
	if _, err := k.Socket(api.AF_INET, api.SOCK_STREAM, 0, 0); !errors.Is(err, api.ENOSYS) {
		t.Fatalf("socket: %v", err)
	}
}

func TestSignalTimer(t *testing.T) {
	k := testKernel(t)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	old, err := k.SigprocmaskThread(api.SIG_BLOCK, api.SigSetOf(api.SIGALRM))
	if err != nil {
		t.Fatal(err)
	}
	defer k.SigprocmaskThread(api.SIG_SETMASK, old)
	// An interval timer's signal stays pending while blocked.
	if _, err := k.Setitimer(api.ITIMER_REAL, api.Itimerval{Value: api.Timeval{Usec: 2000}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		p, err := k.SigpendingThread()
		if err != nil {
			t.Fatal(err)
		}
		if p.Has(api.SIGALRM) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("SIGALRM never pending")
		}
		time.Sleep(time.Millisecond)
	}
	sf, err := k.Signalfd(api.SigSetOf(api.SIGALRM), api.SFD_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	defer sf.Close()
	infos := make([]api.SignalfdSiginfo, 2)
	if n, err := sf.Read(infos); err != nil || n != 1 || infos[0].Signo != api.SIGALRM {
		t.Fatalf("signalfd: %d %v %+v", n, err, infos[0])
	}
}

func TestEpollNesting(t *testing.T) {
	k := testKernel(t)
	a, err := k.EpollCreate1(api.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := k.EpollCreate1(api.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	r, w, err := k.Pipe2(api.O_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := b.Add(r, api.EPOLLIN, 1); err != nil {
		t.Fatal(err)
	}
	if err := a.Add(b.Fd(), api.EPOLLIN, 2); err != nil {
		t.Fatal(err)
	}
	if err := b.Add(a.Fd(), api.EPOLLIN, 3); !errors.Is(err, api.ELOOP) {
		t.Fatalf("a loop of epolls: %v", err)
	}
	// Readiness travels through the inner epoll.
	w.Write([]byte("x"))
	evs := make([]api.EpollEvent, 4)
	if n, err := a.WaitInto(evs, 1000); err != nil || n != 1 || evs[0].Data != 2 {
		t.Fatalf("outer wait: %d %v %+v", n, err, evs[0])
	}
	// Closing the write end's last descriptor hangs up the read end, even
	// though an epoll watches it: interest lists hold no references.
	if err := b.Add(w, api.EPOLLOUT, 4); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if n, err := b.WaitInto(evs, 1000); err != nil || n != 1 || evs[0].Data != 1 || evs[0].Events&api.EPOLLHUP == 0 {
		t.Fatalf("after closing the write end: %d %v %+v", n, err, evs[:n])
	}
}
