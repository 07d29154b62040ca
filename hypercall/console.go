package hypercall

import (
	"sync"
	"time"

	"github.com/anykernel/anykernel/api"
)

// Console is the guest end of a PV console ring: Write produces into the
// out ring for the backend (xenconsoled in dom0), Read consumes what the
// backend put in the in ring.
//
// In an anykernel image the shim owns the out ring: it writes the
// program's stdout and stderr there from write(2), and two producers on
// one ring would corrupt it. There, write through the shim (os.Stdout)
// and use this type to read input and to wait for output to drain
// (Flush).
type Console struct {
	ev   Events
	port uint32
	in   ring
	out  ring
	w    *portWaiter

	rmu, wmu sync.Mutex
}

// NewConsole returns the guest end of the console ring r, whose backend
// is signalled on event channel port of ev.
func NewConsole(r *ConsoleInterface, ev Events, port uint32) *Console {
	return &Console{
		ev:   ev,
		port: port,
		in:   newRing(r.In[:], &r.InCons, &r.InProd),
		out:  newRing(r.Out[:], &r.OutCons, &r.OutProd),
		w:    newPortWaiter(ev, port),
	}
}

// Write puts p on the out ring, waiting for the backend to make room when
// the ring is full; it gives up with api.ETIMEDOUT after timeout 10s
// without progress.
func (c *Console) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	done := 0
	deadline := time.Now().Add(10 * time.Second)
	for done < len(p) {
		t := c.w.ticket()
		n, err := c.out.write(p[done:])
		if err != nil {
			return done, err
		}
		if n > 0 {
			done += n
			deadline = time.Now().Add(10 * time.Second)
			if err := c.ev.Notify(c.port); err != nil {
				return done, err
			}
			continue
		}
		if err := c.w.wait(t, deadline); err != nil {
			return done, err
		}
	}
	return done, nil
}

// Read reads what the backend sent, waiting until at least one byte is
// there or until deadline (zero: no deadline), when it returns
// api.ETIMEDOUT.
func (c *Console) Read(p []byte, deadline time.Time) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for {
		t := c.w.ticket()
		n, err := c.in.read(p)
		if err != nil {
			return 0, err
		}
		if n > 0 {
			// The backend may be waiting for room.
			return n, c.ev.Notify(c.port)
		}
		if err := c.w.wait(t, deadline); err != nil {
			return 0, err
		}
	}
}

// Unsent returns how many bytes of output the backend has not consumed
// yet.
func (c *Console) Unsent() (int, error) {
	_, _, n, err := c.out.used()
	return n, err
}

// Flush waits until the backend has consumed all output, or until
// deadline (api.ETIMEDOUT). It looks again every few milliseconds, as a
// backend need not signal that it consumed output.
func (c *Console) Flush(deadline time.Time) error {
	for {
		t := c.w.ticket()
		n, err := c.Unsent()
		if err != nil || n == 0 {
			return err
		}
		if err := c.ev.Notify(c.port); err != nil {
			return err
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return api.ETIMEDOUT
		}
		slice := time.Now().Add(5 * time.Millisecond)
		if !deadline.IsZero() && deadline.Before(slice) {
			slice = deadline
		}
		if err := c.w.wait(t, slice); err != nil && err != api.ETIMEDOUT {
			return err
		}
	}
}
