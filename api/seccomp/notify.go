package seccomp

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/anykernel/anykernel/api"
)

// Notifier serves a filter's notification descriptor: it receives the
// calls the filter's ActNotify rules hand over and sends the answers. One
// goroutine should receive at a time (a receive that loses the race for a
// notification waits for the next one); answers may come from anywhere.
type Notifier struct {
	k  *api.Kernel
	fd *api.Fd
	tg *Target
}

// ErrNoTasks is returned by Receive and Serve once no task uses the filter
// any more (every filtered process has exited): nothing more can arrive.
var ErrNoTasks = errors.New("seccomp: no task uses the filter any more")

// NewNotifier serves fd, a notification descriptor of k (returned by
// Install, or received from the filtered process over a Unix socket).
func NewNotifier(k *api.Kernel, fd *api.Fd) (*Notifier, error) {
	tg, err := NewTarget(k)
	if err != nil {
		return nil, err
	}
	if fd == nil || fd.Kernel() != k {
		return nil, &os.SyscallError{Syscall: "seccomp notifier", Err: api.EBADF}
	}
	return &Notifier{k: k, fd: fd, tg: tg}, nil
}

// Fd returns the notification descriptor, to pass to another process.
func (n *Notifier) Fd() *api.Fd { return n.fd }

// Close closes the descriptor. Calls waiting for an answer then fail with
// ENOSYS, and later notified calls too.
func (n *Notifier) Close() error { return n.fd.Close() }

// Request is one call waiting for the supervisor.
type Request struct {
	api.SeccompNotif
	Syscall string // the call's name in the ABI ("syscall_<nr>" if unknown)
	n       *Notifier
}

// Valid reports whether the call is still waiting (its task has not died
// nor been interrupted). Check it after reading the task's memory through
// /proc/<pid>/mem, before acting on what was read.
func (r *Request) Valid() bool {
	ok, err := r.n.fd.SeccompNotifIDValid(r.ID)
	return ok && err == nil
}

// Response is the supervisor's answer to one call.
type Response struct {
	Val      int64     // what the call returns when Errno is 0
	Errno    api.Errno // the call fails with this when not 0
	Continue bool      // run the call as if no filter had stopped it
}

// Return answers with a successful result v.
func Return(v int64) Response { return Response{Val: v} }

// Fail answers with an error.
func Fail(e api.Errno) Response { return Response{Errno: e} }

// Continue lets the call run in the kernel as usual. The target may have
// changed the memory its arguments point to since the supervisor read it:
// Continue is for calls the supervisor only observes, never a check.
func Continue() Response { return Response{Continue: true} }

// Receive waits up to timeout (negative: without limit) for the next
// call. It returns an error wrapping os.ErrDeadlineExceeded when the time
// runs out and ErrNoTasks when no task uses the filter any more. A call
// whose task died before it could be received is skipped.
func (n *Notifier) Receive(timeout time.Duration) (*Request, error) {
	var deadline time.Time
	if timeout >= 0 {
		deadline = time.Now().Add(timeout)
	}
	fds := []api.PollFd{{Fd: n.fd, Events: api.POLLIN}}
	for {
		msec := -1
		if timeout >= 0 {
			left := time.Until(deadline)
			if left < 0 {
				left = 0
			}
			msec = int((left + time.Millisecond - 1) / time.Millisecond)
		}
		fds[0].Revents = 0
		c, err := n.k.Poll(fds, msec)
		if errors.Is(err, api.EINTR) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if c == 0 {
			if timeout >= 0 && !time.Now().Before(deadline) {
				return nil, &os.SyscallError{Syscall: "seccomp notification", Err: os.ErrDeadlineExceeded}
			}
			continue
		}
		if fds[0].Revents&api.POLLIN == 0 {
			if fds[0].Revents&(api.POLLHUP|api.POLLERR) != 0 {
				return nil, ErrNoTasks
			}
			continue
		}
		req := &Request{n: n}
		err = n.fd.SeccompNotifRecv(&req.SeccompNotif)
		if errors.Is(err, api.ENOENT) || errors.Is(err, api.EINTR) {
			continue // the task died, or a signal came first
		}
		if err != nil {
			return nil, err
		}
		req.Syscall = n.tg.SyscallName(uint32(req.Data.Nr))
		return req, nil
	}
}

// Respond answers req. An error wrapping ENOENT means the call stopped
// waiting meanwhile (its task died or was interrupted); a supervisor
// usually ignores it. EINPROGRESS means req was answered already.
func (n *Notifier) Respond(req *Request, resp Response) error {
	r := api.SeccompNotifResp{ID: req.ID, Val: resp.Val, Error: resp.Errno}
	if resp.Continue {
		r = api.SeccompNotifResp{ID: req.ID, Flags: api.SECCOMP_USER_NOTIF_FLAG_CONTINUE}
	}
	return n.fd.SeccompNotifSend(&r)
}

// Serve receives calls and answers each with handler's Response until ctx
// is done (it returns ctx.Err()) or no task uses the filter any more (it
// returns nil). Answers to calls that stopped waiting are dropped.
func (n *Notifier) Serve(ctx context.Context, handler func(*Request) Response) error {
	const slice = 100 * time.Millisecond // how often ctx is looked at
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		req, err := n.Receive(slice)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue
		}
		if errors.Is(err, ErrNoTasks) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := n.Respond(req, handler(req)); err != nil && !errors.Is(err, api.ENOENT) {
			return err
		}
	}
}
