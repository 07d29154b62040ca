package knet

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anykernel/anykernel/api"
)

// The poller: Go's runtime netpoller knows only the host's descriptors
// (host sockets wait there: host.go), so each other Kernel with waiters
// gets one goroutine of its own that polls (the
// kernel's poll(2)) every descriptor a Read, Write, Accept or Dial is
// waiting on, plus the read end of a wake pipe in the same kernel. Waiting
// goroutines park on channels, not on kernel calls: deadlines are Go
// timers, and a deadline change or a Close wakes them at once without a
// call into the kernel. Writing one byte to the pipe interrupts the
// poller's poll when the set changes (a new waiter, a descriptor that must
// be let go). A kernel that cannot make a pipe (nor a socketpair) is
// polled in short slices instead.
//
// The poller ends after a second without waiters, closing its pipe, so an
// idle Kernel is not kept alive by this package.

// pollSlice is the poll timeout of a poller without a wake pipe.
const pollSlice = 20 // ms

// pollIdle is how long a poller without waiters lives on.
const pollIdle = 1000 // ms

var wakeByte = []byte{0}

// waiter is one goroutine waiting for events on one descriptor. Each
// Conn, Listener and PacketConn keeps one per direction, reused by the
// goroutine that takes it (busy), so that a wait allocates nothing; a
// goroutine that finds it taken (concurrent ReadFroms, Accepts) makes
// its own.
type waiter struct {
	busy   atomic.Bool
	fd     *api.Fd
	events api.PollEvents
	ready  chan struct{} // buffered: the poller never blocks on it
	timer  *time.Timer   // the deadline's, made on first use
}

// take returns w for one wait, or a new waiter when w is in use (or nil).
func (w *waiter) take() *waiter {
	if w == nil || !w.busy.CompareAndSwap(false, true) {
		w = &waiter{}
		w.busy.Store(true)
	}
	if w.ready == nil {
		w.ready = make(chan struct{}, 1)
	}
	// A wake that came after the last wait had given up.
	select {
	case <-w.ready:
	default:
	}
	return w
}

func (w *waiter) put() { w.busy.Store(false) }

type poller struct {
	k       *api.Kernel
	mu      sync.Mutex
	ws      []*waiter
	wr, ww  *api.Fd // the wake pipe; nil without one
	polling bool    // the loop is in Poll (or about to enter it)
	woken   bool    // a byte is in the pipe
	running bool
	cur     []api.PollFd  // the set being polled, while polling
	round   chan struct{} // made by a closeFd waiting for the current poll; closed when it returns
}

// pollers holds the live poller of each Kernel; lock order: pollers, then
// a poller's mu.
var pollers struct {
	sync.Mutex
	m map[*api.Kernel]*poller
}

// register adds w to k's poller, starting one if needed, and returns it.
func register(k *api.Kernel, w *waiter) *poller {
	pollers.Lock()
	p := pollers.m[k]
	if p == nil {
		if pollers.m == nil {
			pollers.m = map[*api.Kernel]*poller{}
		}
		p = &poller{k: k}
		p.wr, p.ww = wakePipe(k)
		pollers.m[k] = p
	}
	p.mu.Lock()
	pollers.Unlock()
	p.ws = append(p.ws, w)
	if !p.running {
		p.running = true
		go p.loop()
	}
	p.wakeLocked()
	p.mu.Unlock()
	return p
}

// wakePipe makes the poller's wake channel in k: a pipe, else a socket
// pair; nil where k has neither.
func wakePipe(k *api.Kernel) (r, w *api.Fd) {
	if r, w, err := k.Pipe2(api.O_NONBLOCK | api.O_CLOEXEC); err == nil {
		return r, w
	}
	if r, w, err := k.Socketpair(api.AF_UNIX, api.SOCK_STREAM, api.SOCK_NONBLOCK|api.SOCK_CLOEXEC, 0); err == nil {
		return r, w
	}
	return nil, nil
}

// wakeLocked interrupts a poll in progress.
func (p *poller) wakeLocked() {
	if p.polling && !p.woken && p.ww != nil {
		p.woken = true
		p.ww.Write(wakeByte)
	}
}

// closeFd closes fd and returns once the kernel has closed it: a
// descriptor the poller is polling stays open (api.Fd defers the close)
// until the poll returns, so the poll is interrupted and waited for. As
// in package net, a listener's port is free when Close returns.
func closeFd(fd *api.Fd) error {
	err := fd.Close()
	pollers.Lock()
	p := pollers.m[fd.Kernel()]
	pollers.Unlock()
	if p == nil {
		return err
	}
	p.mu.Lock()
	var round chan struct{}
	if p.pollingLocked(fd) {
		if p.round == nil {
			p.round = make(chan struct{})
		}
		round = p.round
		p.wakeLocked()
	}
	p.mu.Unlock()
	if round != nil {
		select {
		case <-round:
		case <-time.After(5 * time.Second):
			// Without a wake pipe (or with a stuck kernel) the poll
			// may last: the close then completes when it returns.
		}
	}
	return err
}

// pollingLocked reports whether the poll in progress holds fd.
func (p *poller) pollingLocked(fd *api.Fd) bool {
	if !p.polling {
		return false
	}
	for i := range p.cur {
		// Only Fd: Poll writes Revents meanwhile.
		if p.cur[i].Fd == fd {
			return true
		}
	}
	return false
}

// unregisterLocked drops w from the waiters; false if it was not there.
func (p *poller) unregisterLocked(w *waiter) bool {
	for i, x := range p.ws {
		if x == w {
			last := len(p.ws) - 1
			p.ws[i] = p.ws[last]
			p.ws[last] = nil
			p.ws = p.ws[:last]
			return true
		}
	}
	return false
}

// remove drops w if it is still registered (it left before its
// descriptor was ready: a deadline, a Close), and then wakes a poll that
// holds its descriptor, so that the poller does not hold on to it. Once
// remove returns, the poller does not notify w for this wait.
func (p *poller) remove(w *waiter) {
	p.mu.Lock()
	if p.unregisterLocked(w) && p.pollingLocked(w.fd) {
		p.wakeLocked()
	}
	p.mu.Unlock()
}

func notify(w *waiter) {
	select {
	case w.ready <- struct{}{}:
	default:
	}
}

func (p *poller) loop() {
	var fds []api.PollFd
	var who []*waiter
	var drain [64]byte
	idleFor := 0 // ms polled without waiters
	for {
		pollers.Lock()
		p.mu.Lock()
		if len(p.ws) == 0 && idleFor >= pollIdle {
			// A second without waiters: end, and let k go.
			p.running = false
			delete(pollers.m, p.k)
			p.mu.Unlock()
			pollers.Unlock()
			if p.wr != nil {
				p.wr.Close()
				p.ww.Close()
			}
			return
		}
		pollers.Unlock()
		fds, who = fds[:0], who[:0]
		if p.wr != nil {
			fds = append(fds, api.PollFd{Fd: p.wr, Events: api.POLLIN})
			who = append(who, nil)
		}
		kept := p.ws[:0]
		for _, w := range p.ws {
			if w.fd.Num() < 0 {
				notify(w) // closed: its I/O call reports it
				continue
			}
			kept = append(kept, w)
			fds = append(fds, api.PollFd{Fd: w.fd, Events: w.events})
			who = append(who, w)
		}
		clear(p.ws[len(kept):])
		p.ws = kept
		timeout := -1
		switch {
		case p.wr == nil:
			timeout = pollSlice
		case len(p.ws) == 0:
			timeout = pollIdle
		}
		if len(p.ws) == 0 {
			idleFor += timeout
		} else {
			idleFor = 0
		}
		p.polling = true
		p.cur = fds
		p.mu.Unlock()

		_, err := p.k.Poll(fds, timeout)

		p.mu.Lock()
		p.polling = false
		p.cur = nil
		if p.round != nil {
			close(p.round)
			p.round = nil
		}
		if err != nil {
			// EINTR: again. EBADF: a descriptor was closed after the
			// set was built; the next round drops it. Anything else:
			// wake everyone, whose I/O call then meets the error.
			if !errors.Is(err, api.EINTR) && !errors.Is(err, api.EBADF) {
				for _, w := range p.ws {
					notify(w)
				}
				p.ws = p.ws[:0]
				p.mu.Unlock()
				time.Sleep(pollSlice * time.Millisecond)
				continue
			}
			p.mu.Unlock()
			continue
		}
		for i := range fds {
			if fds[i].Revents == 0 {
				continue
			}
			if w := who[i]; w != nil {
				// Only if it still waits: a waiter that gave up
				// meanwhile may be waiting again, for another event.
				if p.unregisterLocked(w) {
					notify(w)
				}
				continue
			}
			for {
				if n, err := p.wr.Read(drain[:]); err != nil || n < len(drain) {
					break
				}
			}
			p.woken = false
			idleFor = 0
		}
		clear(who)
		p.mu.Unlock()
	}
}

// deadline is one direction's deadline: changing it wakes the goroutines
// waiting under the old one, which then look again.
type deadline struct {
	mu      sync.Mutex
	t       time.Time
	changed chan struct{} // made on demand, closed when t changes
}

func (d *deadline) get() (time.Time, <-chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.changed == nil {
		d.changed = make(chan struct{})
	}
	return d.t, d.changed
}

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	d.t = t
	if d.changed != nil {
		close(d.changed)
		d.changed = nil
	}
	d.mu.Unlock()
}

// expired reports whether the deadline has passed (no call into the
// kernel: a timed-out operation fails even when it could proceed, as in
// package net).
func (d *deadline) expired() bool {
	d.mu.Lock()
	t := d.t
	d.mu.Unlock()
	return !t.IsZero() && !time.Now().Before(t)
}

// errDone reports that wait's done channel was closed.
var errDone = errors.New("knet: wait abandoned")

// wait parks until fd may be ready for events, d passes (an error that
// is os.ErrDeadlineExceeded), closing is closed (net.ErrClosed) or done
// is closed (errDone). A nil return means "try the call again", not a
// promise that it will not say EAGAIN.
//
// w is the caller's waiter for this direction (nil: none), reused when
// free.
func wait(w *waiter, fd *api.Fd, events api.PollEvents, d *deadline, closing, done <-chan struct{}) error {
	w = w.take()
	defer w.put()
	w.fd, w.events = fd, events
	for {
		var t time.Time
		var changed <-chan struct{}
		if d != nil {
			t, changed = d.get()
		}
		var timer *time.Timer
		var fire <-chan time.Time
		if !t.IsZero() {
			left := time.Until(t)
			if left <= 0 {
				return os.ErrDeadlineExceeded
			}
			if w.timer == nil {
				w.timer = time.NewTimer(left)
			} else {
				w.timer.Reset(left)
			}
			timer = w.timer
			fire = timer.C
		}
		p := register(fd.Kernel(), w)
		var err error
		again := false
		select {
		case <-w.ready:
		case <-fire:
			err = os.ErrDeadlineExceeded
		case <-changed:
			again = true
		case <-closing:
			err = net.ErrClosed
		case <-done:
			err = errDone
		}
		if timer != nil {
			timer.Stop()
		}
		p.remove(w)
		if !again {
			return err
		}
	}
}

// waitFor is wait in Go's netpoller where the socket has the host fast
// path (h; d is then mirrored in h's File, and done is not supported),
// else in knet's poller.
func waitFor(h *hostFd, w *waiter, fd *api.Fd, events api.PollEvents, d *deadline, closing, done <-chan struct{}) error {
	if h != nil {
		return h.wait(events, closing)
	}
	return wait(w, fd, events, d, closing, done)
}

// retry handles the error of one nonblocking datagram call. It returns
// nil when the call should be made again: after EAGAIN once the poller
// says the socket may be ready, at once after EINTR. EBADF after a Close
// is net.ErrClosed; anything else is returned as it is.
//
// spin, when not nil, counts EAGAINs in a row: a send can fail with
// EAGAIN although poll says the socket is writable (an unconnected Unix
// datagram socket whose receiver's queue is full: Linux's poll looks at
// the sender's buffer only), and waiting for POLLOUT alone would then
// spin. From the second EAGAIN in a row it first pauses, a little longer
// each time, up to 20ms.
//
// h is the socket's host fast path (nil: none), w its waiter for this
// direction in knet's poller.
func retry(h *hostFd, w *waiter, fd *api.Fd, err error, events api.PollEvents, d *deadline, closing <-chan struct{}, spin *int) error {
	switch {
	case errors.Is(err, api.EAGAIN):
		if spin != nil {
			if *spin > 0 {
				pause(time.Duration(min(*spin, 20))*time.Millisecond, closing)
			}
			*spin++
		}
		return waitFor(h, w, fd, events, d, closing, nil)
	case errors.Is(err, api.EINTR):
		return nil
	case errors.Is(err, api.EBADF) && isClosed(closing):
		return net.ErrClosed
	}
	return err
}

// pause sleeps for dur, or until closing is closed. The caller looks at
// its deadline afterwards, so a pause ends no later than dur after it.
func pause(dur time.Duration, closing <-chan struct{}) {
	t := time.NewTimer(dur)
	select {
	case <-t.C:
	case <-closing:
	}
	t.Stop()
}

func isClosed(closing <-chan struct{}) bool {
	select {
	case <-closing:
		return true
	default:
		return false
	}
}
