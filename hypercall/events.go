package hypercall

import (
	"sync"
	"time"

	"github.com/anykernel/anykernel/api"
)

// Events is what the ring protocols need from event channels: a way to
// kick the other end and a way to wait until it kicks back. *Xen
// implements it with EVTCHNOP_send, the pending bits in shared_info and
// the shim's upcall wait (SCHEDOP_poll under a shim without upcalls);
// hosted tests implement it in memory.
type Events interface {
	// Notify signals the other end of port.
	Notify(port uint32) error
	// Wait blocks until port has been signalled since the previous Wait
	// on it returned (a signal is consumed by the Wait that sees it), or
	// until deadline, when it returns api.ETIMEDOUT; a zero deadline
	// means none.
	Wait(port uint32, deadline time.Time) error
}

// portWaiter lets many goroutines wait on one event channel: one at a
// time waits on the channel itself, the others wait for it to wake and
// broadcast. Each caller takes a ticket before it checks its condition
// (ring contents), so that a wake-up between the check and the wait is
// never lost: wait returns at once when any waiter woke since the ticket.
type portWaiter struct {
	ev   Events
	port uint32
	tok  chan struct{} // capacity 1: held by whoever waits on the port

	mu  sync.Mutex
	gen chan struct{} // closed (and replaced) each time a waiter wakes
}

func newPortWaiter(ev Events, port uint32) *portWaiter {
	return &portWaiter{ev: ev, port: port, tok: make(chan struct{}, 1), gen: make(chan struct{})}
}

// ticket returns the current generation; take it before checking the
// condition you will wait for.
func (w *portWaiter) ticket() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.gen
}

// wait blocks until the port fires, someone else saw it fire since t was
// taken, or deadline passes (api.ETIMEDOUT).
func (w *portWaiter) wait(t <-chan struct{}, deadline time.Time) error {
	select {
	case <-t:
		return nil
	default:
	}
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if d <= 0 {
			return api.ETIMEDOUT
		}
		tm := time.NewTimer(d)
		defer tm.Stop()
		timeout = tm.C
	}
	select {
	case <-t:
		return nil
	case <-timeout:
		return api.ETIMEDOUT
	case w.tok <- struct{}{}:
	}
	// The previous holder wakes the others before it lets go of tok, so
	// a wake-up since t shows here.
	select {
	case <-t:
		<-w.tok
		return nil
	default:
	}
	err := w.ev.Wait(w.port, deadline)
	w.mu.Lock()
	close(w.gen)
	w.gen = make(chan struct{})
	w.mu.Unlock()
	<-w.tok
	return err
}
