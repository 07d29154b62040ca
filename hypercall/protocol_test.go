package hypercall

import (
	"bytes"
	"errors"
	"math/big"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anykernel/anykernel/api"
)

func TestRing(t *testing.T) {
	var data [16]byte
	var cons, prod uint32 = 0xfffffff0, 0xfffffff0 // indices wrap around 2^32 too
	r := ring{data: data[:], cons: &cons, prod: &prod}
	rng := rand.New(rand.NewPCG(1, 2))
	var sent, got []byte
	next := byte(0)
	for i := 0; i < 2000; i++ {
		if rng.IntN(2) == 0 {
			p := make([]byte, rng.IntN(20))
			for j := range p {
				p[j] = next
				next++
			}
			n, err := r.write(p)
			if err != nil {
				t.Fatal(err)
			}
			sent = append(sent, p[:n]...)
			next -= byte(len(p) - n)
		} else {
			p := make([]byte, rng.IntN(20))
			n, err := r.read(p)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, p[:n]...)
		}
		if _, _, n, _ := r.used(); n > len(data) {
			t.Fatalf("used %d", n)
		}
	}
	for {
		var p [7]byte
		n, _ := r.read(p[:])
		if n == 0 {
			break
		}
		got = append(got, p[:n]...)
	}
	if !bytes.Equal(sent, got) || len(sent) < 1000 {
		t.Fatalf("sent %d bytes, got %d, equal %v", len(sent), len(got), bytes.Equal(sent, got))
	}
	// Nonsense from the other side is an error, not an overrun.
	prod = cons + 17
	if _, err := r.read(make([]byte, 4)); err != api.EIO {
		t.Errorf("read with prod-cons > size: %v", err)
	}
	if _, err := r.write([]byte("x")); err != api.EIO {
		t.Errorf("write with prod-cons > size: %v", err)
	}
	prod = cons - 1
	if _, err := r.read(make([]byte, 4)); err != api.EIO {
		t.Errorf("read with prod behind cons: %v", err)
	}
}

// consoleBackend plays xenconsoled: it echoes what the guest writes back
// into the in ring, uppercased, slowly.
func consoleBackend(t *testing.T, r *ConsoleInterface, ev end, stop chan struct{}) {
	in := newRing(r.In[:], &r.InCons, &r.InProd)
	out := newRing(r.Out[:], &r.OutCons, &r.OutProd)
	var pending []byte
	for {
		select {
		case <-stop:
			return
		default:
		}
		var buf [100]byte // small reads: the guest must wait for room
		n, err := out.read(buf[:])
		if err != nil {
			t.Error(err)
			return
		}
		pending = append(pending, bytes.ToUpper(buf[:n])...)
		m, _ := in.write(pending)
		pending = pending[m:]
		if n > 0 || m > 0 {
			ev.Notify(0)
		}
		ev.Wait(0, time.Now().Add(2*time.Millisecond))
	}
}

func TestConsole(t *testing.T) {
	r := new(ConsoleInterface)
	p := newChanPair()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); consoleBackend(t, r, end{p, 1}, stop) }()
	defer func() { close(stop); wg.Wait() }()
	c := NewConsole(r, end{p, 0}, 3)

	msg := bytes.Repeat([]byte("hello, console! "), 500) // 8000 bytes: 4x the out ring
	errc := make(chan error, 1)
	go func() {
		n, err := c.Write(msg)
		if err == nil && n != len(msg) {
			err = errors.New("short write")
		}
		errc <- err
	}()
	var got []byte
	buf := make([]byte, 333)
	for len(got) < len(msg) {
		n, err := c.Read(buf, time.Now().Add(5*time.Second))
		if err != nil {
			t.Fatalf("Read after %d bytes: %v", len(got), err)
		}
		got = append(got, buf[:n]...)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, bytes.ToUpper(msg)) {
		t.Fatalf("echo differs")
	}
	if err := c.Flush(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Unsent(); n != 0 || err != nil {
		t.Fatalf("Unsent = %d, %v", n, err)
	}
	if _, err := c.Read(buf, time.Now().Add(20*time.Millisecond)); err != api.ETIMEDOUT {
		t.Fatalf("Read with nothing to read: %v, want ETIMEDOUT", err)
	}
	if n, err := c.Read(nil, time.Time{}); n != 0 || err != nil {
		t.Fatalf("Read(nil) = %d, %v", n, err)
	}
}

func TestConsoleFlushTimeout(t *testing.T) {
	r := new(ConsoleInterface)
	p := newChanPair()
	c := NewConsole(r, end{p, 0}, 3) // no backend
	if _, err := c.Write([]byte("stuck")); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Unsent(); n != 5 {
		t.Fatalf("Unsent = %d", n)
	}
	if err := c.Flush(time.Now().Add(30 * time.Millisecond)); err != api.ETIMEDOUT {
		t.Fatalf("Flush without a backend: %v", err)
	}
}

func TestSharedInfoEvents(t *testing.T) {
	s := new(SharedInfo)
	for _, port := range []uint32{0, 1, 63, 64, 1000, EventChannels - 1} {
		if s.Pending(port) || s.Masked(port) {
			t.Fatalf("port %d pending or masked at start", port)
		}
		s.EvtchnPending[port/64] |= 1 << (port % 64) // as Xen sets it
		if !s.Pending(port) {
			t.Errorf("port %d not pending", port)
		}
		if !s.TakePending(port) || s.Pending(port) || s.TakePending(port) {
			t.Errorf("TakePending(%d) wrong", port)
		}
		s.Mask(port)
		if !s.Masked(port) || s.EvtchnMask[port/64] != 1<<(port%64) {
			t.Errorf("Mask(%d) set %#x", port, s.EvtchnMask[port/64])
		}
		s.EvtchnMask[port/64] = 0
	}
	// Out of range ports are never pending and change nothing.
	s.Mask(EventChannels)
	if s.Pending(EventChannels) || s.TakePending(1<<31) || s.Masked(EventChannels) {
		t.Errorf("out-of-range port")
	}
	for _, w := range s.EvtchnMask {
		if w != 0 {
			t.Fatalf("out-of-range Mask changed the bitmap")
		}
	}
}

func TestPvclock(t *testing.T) {
	// Reference: the formula of xen.h evaluated with big integers.
	ref := func(p PvclockParams, tsc uint64) uint64 {
		d := new(big.Int).SetUint64(tsc - p.TSCTimestamp)
		if p.TSCShift < 0 {
			d.Rsh(d, uint(-p.TSCShift))
		} else {
			d.Lsh(d, uint(p.TSCShift))
			d.And(d, new(big.Int).SetUint64(^uint64(0))) // the shift is in 64 bits
		}
		d.Mul(d, new(big.Int).SetUint64(uint64(p.TSCToSystemMul)))
		d.Rsh(d, 32)
		return p.SystemTime + d.Uint64()
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 10000; i++ {
		p := PvclockParams{
			TSCTimestamp:   rng.Uint64(),
			SystemTime:     rng.Uint64() >> 4,
			TSCToSystemMul: rng.Uint32(),
			TSCShift:       int8(rng.IntN(5) - 2),
		}
		tsc := p.TSCTimestamp + rng.Uint64()>>uint(rng.IntN(64))
		if got, want := p.Nanos(tsc), ref(p, tsc); got != want {
			t.Fatalf("%+v at %d: %d, want %d", p, tsc, got, want)
		}
	}
	// A 2 GHz TSC: mul = 2^32 / 2 with shift 0 (ns = ticks / 2).
	p := PvclockParams{TSCTimestamp: 1000, SystemTime: 5e9, TSCToSystemMul: 1 << 31}
	if got := p.Nanos(1000 + 2e9); got != 6e9 {
		t.Errorf("2 GHz: %d ns", got)
	}
	if hz := p.TSCHz(); hz != 2e9 {
		t.Errorf("TSCHz = %d", hz)
	}
	p.TSCShift = -1 // 4 GHz
	if hz := p.TSCHz(); hz != 4e9 {
		t.Errorf("TSCHz with shift -1 = %d", hz)
	}
}

func TestVcpuTimeInfoSnapshot(t *testing.T) {
	var ti VcpuTimeInfo
	ti.Version = 2
	ti.SystemTime = 100
	ti.TSCTimestamp = 7
	ti.TSCToSystemMul = 0x80000000
	ti.TSCShift = -3
	ti.Flags = pvclockTSCStable
	p := ti.Snapshot()
	if p.SystemTime != 100 || p.TSCTimestamp != 7 || p.TSCToSystemMul != 0x80000000 || p.TSCShift != -3 || p.Flags != pvclockTSCStable {
		t.Fatalf("Snapshot = %+v", p)
	}
	// A writer that updates the record like Xen (odd version while
	// writing): a reader never sees a torn pair.
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := uint64(1); !stop.Load(); i++ {
			atomic.AddUint32(&ti.Version, 1)
			atomic.StoreUint64(&ti.SystemTime, i)
			atomic.StoreUint64(&ti.TSCTimestamp, i)
			atomic.AddUint32(&ti.Version, 1)
		}
	}()
	for i := 0; i < 20000; i++ {
		if p := ti.Snapshot(); p.SystemTime != p.TSCTimestamp && p.SystemTime != 100 {
			t.Fatalf("torn read: %+v", p)
		}
	}
	stop.Store(true)
	wg.Wait()

	var s SharedInfo
	s.WcVersion, s.WcSec, s.WcSecHi, s.WcNsec = 4, 0x5, 0x1, 250
	if got := s.WallClock(); !got.Equal(time.Unix(1<<32|5, 250)) {
		t.Errorf("WallClock = %v", got)
	}
}

func TestGrantTable(t *testing.T) {
	entries := make([]GrantEntryV1, 16)
	entries[GrantRefXenstore] = GrantEntryV1{Flags: gtfPermitAccess, Frame: 0xfeffc}
	g := NewGrantTable(entries)
	if g.Len() != 16 || g.Free() != 16-GrantReservedEntries {
		t.Fatalf("Len %d Free %d", g.Len(), g.Free())
	}
	ref, err := g.Grant(3, 0x1234, true)
	if err != nil || ref < GrantReservedEntries {
		t.Fatalf("Grant = %d, %v", ref, err)
	}
	if e := entries[ref]; e.Flags != gtfPermitAccess|gtfReadonly || e.Domid != 3 || e.Frame != 0x1234 {
		t.Fatalf("entry %+v", e)
	}
	if f, d, fr, err := g.Entry(ref); err != nil || f != gtfPermitAccess|gtfReadonly || d != 3 || fr != 0x1234 {
		t.Fatalf("Entry = %#x %d %#x %v", f, d, fr, err)
	}
	if f, _, fr, _ := g.Entry(GrantRefXenstore); f != gtfPermitAccess || fr != 0xfeffc {
		t.Fatalf("reserved entry = %#x %#x", f, fr)
	}
	// Mapped by the other side: End must refuse.
	entries[ref].Flags |= gtfReading
	if err := g.End(ref); !errors.Is(err, api.EBUSY) {
		t.Fatalf("End while mapped: %v, want EBUSY", err)
	}
	entries[ref].Flags &^= gtfReading
	if err := g.End(ref); err != nil {
		t.Fatal(err)
	}
	if e := entries[ref]; e.Flags != 0 {
		t.Fatalf("entry after End: %+v", e)
	}
	if err := g.End(ref); !errors.Is(err, api.EINVAL) {
		t.Fatalf("second End: %v, want EINVAL", err)
	}
	for _, bad := range []GrantRef{0, GrantRefXenstore, 16, 1 << 20} {
		if err := g.End(bad); !errors.Is(err, api.EINVAL) {
			t.Errorf("End(%d) = %v, want EINVAL", bad, err)
		}
	}
	if _, err := g.Grant(3, 1<<32, false); !errors.Is(err, api.EINVAL) {
		t.Errorf("Grant of a 33-bit frame: %v", err)
	}
	// Fill the table, then free and reuse.
	var refs []GrantRef
	for {
		r, err := g.Grant(0, uint64(len(refs)), false)
		if err != nil {
			if !errors.Is(err, api.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
		if entries[r].Flags != gtfPermitAccess {
			t.Fatalf("writable grant flags %#x", entries[r].Flags)
		}
		refs = append(refs, r)
	}
	if len(refs) != 16-GrantReservedEntries || g.Free() != 0 {
		t.Fatalf("granted %d", len(refs))
	}
	if err := g.End(refs[3]); err != nil {
		t.Fatal(err)
	}
	if r, err := g.Grant(1, 9, false); err != nil || r != refs[3] {
		t.Fatalf("reuse = %d, %v", r, err)
	}
	if _, _, _, err := g.Entry(16); !errors.Is(err, api.EINVAL) {
		t.Errorf("Entry out of range: %v", err)
	}
}

func TestIdentify(t *testing.T) {
	leaves := map[uint32][4]uint32{}
	cpuid := func(leaf, sub uint32) (a, b, c, d uint32) {
		r := leaves[leaf]
		return r[0], r[1], r[2], r[3]
	}
	if _, ok := identify(cpuid); ok {
		t.Fatal("found Xen in empty CPUID")
	}
	// Viridian first, Xen at 0x40000100 (as with viridian=1).
	leaves[0x40000000] = [4]uint32{0x40000006, 0x7263694d, 0x666f736f, 0x76482074} // "Microsoft Hv"
	leaves[0x40000100] = [4]uint32{0x40000105, cpuidSignatureB, cpuidSignatureC, cpuidSignatureD}
	leaves[0x40000101] = [4]uint32{4<<16 | 17}
	leaves[0x40000102] = [4]uint32{1, 0x40000000}
	leaves[0x40000103] = [4]uint32{0, 0, 2500000, 0}
	leaves[0x40000104] = [4]uint32{cpuidDomIDPresent, 0, 7, 0}
	id, ok := identify(cpuid)
	want := Identity{Base: 0x40000100, Major: 4, Minor: 17, HypercallPages: 1, HypercallMSR: 0x40000000, TSCKHz: 2500000, DomID: 7, HasDomID: true}
	if !ok || id != want {
		t.Fatalf("identify = %+v %v, want %+v", id, ok, want)
	}
	// Too few leaves for the hypercall page: not usable.
	leaves[0x40000100] = [4]uint32{0x40000101, cpuidSignatureB, cpuidSignatureC, cpuidSignatureD}
	if _, ok := identify(cpuid); ok {
		t.Fatal("accepted Xen without the hypercall leaf")
	}
	// Without the HVM leaf there is no domain id.
	leaves[0x40000100] = [4]uint32{0x40000103, cpuidSignatureB, cpuidSignatureC, cpuidSignatureD}
	if id, ok := identify(cpuid); !ok || id.HasDomID || id.TSCKHz != 2500000 {
		t.Fatalf("identify without leaf 5 = %+v %v", id, ok)
	}
}

// On a host (ring 3) Open must refuse cleanly, whatever CPUID says.
func TestOpenOnHost(t *testing.T) {
	x, err := Open()
	if x != nil || !errors.Is(err, ErrNoXen) || !errors.Is(err, api.ENOSYS) || !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("Open on a host = %v, %v; want ErrNoXen", x, err)
	}
}

// The ticket rule of portWaiter: a wake-up between taking the ticket and
// waiting is not lost, whoever consumed the event.
func TestPortWaiter(t *testing.T) {
	p := newChanPair()
	w := newPortWaiter(end{p, 0}, 1)
	other := end{p, 1}
	// Signal before the wait: returns at once.
	tk := w.ticket()
	other.Notify(1)
	if err := w.wait(tk, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	// Nothing: times out.
	start := time.Now()
	if err := w.wait(w.ticket(), time.Now().Add(30*time.Millisecond)); err != api.ETIMEDOUT || time.Since(start) < 30*time.Millisecond {
		t.Fatalf("wait without a signal: %v after %v", err, time.Since(start))
	}
	// Several waiters, one signal: all wake (one on the port, the others
	// by broadcast).
	const n = 5
	var wg sync.WaitGroup
	errs := make(chan error, n)
	tickets := make([]<-chan struct{}, n)
	for i := range tickets {
		tickets[i] = w.ticket()
	}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- w.wait(tickets[i], time.Now().Add(5*time.Second))
		}()
	}
	time.Sleep(20 * time.Millisecond)
	other.Notify(1)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("waiter: %v", err)
		}
	}
	// A ticket taken before someone else consumed the signal still
	// returns at once.
	tk = w.ticket()
	other.Notify(1)
	if err := w.wait(w.ticket(), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := w.wait(tk, time.Now().Add(20*time.Millisecond)); err != nil {
		t.Fatalf("stale ticket: %v, want an immediate return", err)
	}
}
