package hypercall

import (
	"sync/atomic"

	"github.com/anykernel/anykernel/api"
)

// A byte ring shared with another domain (the console and xenstore rings):
// data is a power-of-two array, prod and cons are free-running 32-bit
// indices in the shared page; the producer writes bytes, then advances
// prod; the consumer reads bytes, then advances cons. Each side writes
// only its own index. The indices are read and written with atomics,
// which order the data accesses around them (on x86 a plain load is an
// acquire and the atomic store a full barrier), and are checked: an
// index the other side set to nonsense is an error, never an
// out-of-range access.

// ring is one direction of a shared ring.
type ring struct {
	data       []byte
	cons, prod *uint32
}

// used returns the number of bytes in the ring, or EIO when the indices
// are inconsistent.
func (r ring) used() (cons, prod uint32, n int, err error) {
	cons = atomic.LoadUint32(r.cons)
	prod = atomic.LoadUint32(r.prod)
	n = int(prod - cons)
	if n > len(r.data) || n < 0 {
		return cons, prod, 0, api.EIO
	}
	return cons, prod, n, nil
}

// write copies as much of p as fits and publishes it; it returns the
// number of bytes written.
func (r ring) write(p []byte) (int, error) {
	cons, prod, used, err := r.used()
	if err != nil {
		return 0, err
	}
	n := min(len(r.data)-used, len(p))
	mask := uint32(len(r.data) - 1)
	for i := 0; i < n; {
		off := int((prod + uint32(i)) & mask)
		i += copy(r.data[off:], p[i:n])
	}
	_ = cons
	atomic.StoreUint32(r.prod, prod+uint32(n))
	return n, nil
}

// read copies out up to len(p) bytes and releases their space; it returns
// the number of bytes read.
func (r ring) read(p []byte) (int, error) {
	cons, _, used, err := r.used()
	if err != nil {
		return 0, err
	}
	n := min(used, len(p))
	mask := uint32(len(r.data) - 1)
	for i := 0; i < n; {
		off := int((cons + uint32(i)) & mask)
		end := min(len(r.data), off+n-i)
		i += copy(p[i:n], r.data[off:end])
	}
	atomic.StoreUint32(r.cons, cons+uint32(n))
	return n, nil
}
