package hypercall

import (
	"math/bits"
	"sync/atomic"
	"time"
	"unsafe"
)

// Operations on the shared_info page that need no hypercall: the 2-level
// event channel bitmaps and the clocks. Xen changes the page at any time,
// so every access is atomic; bits are set and cleared with locked
// read-modify-write instructions, as Xen does on its side.

func portBit(port uint32) (word int, bit uint64, ok bool) {
	if port >= EventChannels {
		return 0, 0, false
	}
	return int(port / 64), 1 << (port % 64), true
}

// Pending reports whether an event is pending on port.
func (s *SharedInfo) Pending(port uint32) bool {
	w, b, ok := portBit(port)
	return ok && atomic.LoadUint64(&s.EvtchnPending[w])&b != 0
}

// TakePending clears port's pending bit and reports whether it was set.
func (s *SharedInfo) TakePending(port uint32) bool {
	w, b, ok := portBit(port)
	return ok && atomic.AndUint64(&s.EvtchnPending[w], ^b)&b != 0
}

// Mask masks port: Xen still marks events pending but raises no upcall.
func (s *SharedInfo) Mask(port uint32) {
	if w, b, ok := portBit(port); ok {
		atomic.OrUint64(&s.EvtchnMask[w], b)
	}
}

// Masked reports whether port is masked.
func (s *SharedInfo) Masked(port uint32) bool {
	w, b, ok := portBit(port)
	return ok && atomic.LoadUint64(&s.EvtchnMask[w])&b != 0
}

// PvclockParams are a consistent copy of a vcpu_time_info record.
type PvclockParams struct {
	TSCTimestamp   uint64
	SystemTime     uint64
	TSCToSystemMul uint32
	TSCShift       int8
	Flags          uint8
}

// Snapshot reads the record consistently: it retries while Xen is
// updating it (odd version) or updated it during the read.
func (t *VcpuTimeInfo) Snapshot() PvclockParams {
	for {
		v := atomic.LoadUint32(&t.Version)
		if v&1 != 0 {
			continue
		}
		p := PvclockParams{
			TSCTimestamp:   atomic.LoadUint64(&t.TSCTimestamp),
			SystemTime:     atomic.LoadUint64(&t.SystemTime),
			TSCToSystemMul: atomic.LoadUint32(&t.TSCToSystemMul),
		}
		// tsc_shift, flags and pad1 share the 4-byte word at offset 28.
		w := atomic.LoadUint32((*uint32)(unsafe.Pointer(&t.TSCShift)))
		p.TSCShift, p.Flags = int8(w), uint8(w>>8)
		if atomic.LoadUint32(&t.Version) == v {
			return p
		}
	}
}

// Nanos returns Xen system time (ns since Xen booted) at time stamp
// counter value tsc: SystemTime + ((tsc - TSCTimestamp) << shift) * mul >> 32,
// with the product in 128 bits as Xen computes it.
func (p PvclockParams) Nanos(tsc uint64) uint64 {
	d := tsc - p.TSCTimestamp
	if p.TSCShift < 0 {
		d >>= uint(-p.TSCShift)
	} else {
		d <<= uint(p.TSCShift)
	}
	hi, lo := bits.Mul64(d, uint64(p.TSCToSystemMul))
	return p.SystemTime + (hi<<32 | lo>>32)
}

// TSCHz returns the time stamp counter frequency the record implies.
func (p PvclockParams) TSCHz() uint64 {
	if p.TSCToSystemMul == 0 {
		return 0
	}
	hz := (uint64(1e9) << 32) / uint64(p.TSCToSystemMul)
	if p.TSCShift < 0 {
		return hz << uint(-p.TSCShift)
	}
	return hz >> uint(p.TSCShift)
}

// WallClock returns the wall-clock time that corresponds to Xen system
// time 0 (wc_sec_hi:wc_sec, wc_nsec), read consistently.
func (s *SharedInfo) WallClock() time.Time {
	for {
		v := atomic.LoadUint32(&s.WcVersion)
		if v&1 != 0 {
			continue
		}
		sec := int64(atomic.LoadUint32(&s.WcSecHi))<<32 | int64(atomic.LoadUint32(&s.WcSec))
		nsec := int64(atomic.LoadUint32(&s.WcNsec))
		if atomic.LoadUint32(&s.WcVersion) == v {
			return time.Unix(sec, nsec)
		}
	}
}
