// Command xenguest exercises package hypercall against the real
// hypervisor. hypercall's TestXenImage boots it as a Xen PVH domU (and
// TestQEMUNoXen under plain QEMU) and reads its console: one line per
// check, "ok NAME: detail" or "FAIL NAME: detail", then the exit status
// (0 when every check passed, 1 otherwise; 69 when there is no Xen).
//
// With the argument "shutdown" it instead ends the domain with
// SCHEDOP_shutdown (poweroff) right after flushing the console.
package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/hypercall"
)

var failed, checks int

func check(name string, ok bool, format string, args ...any) {
	checks++
	status := "ok"
	if !ok {
		status = "FAIL"
		failed++
	}
	fmt.Printf("%s %s: %s\n", status, name, fmt.Sprintf(format, args...))
}

// page is a page-aligned, backed 4 KiB buffer on the heap.
func page() []byte {
	b := make([]byte, 3*4096)
	off := (4096 - int(uintptr(unsafe.Pointer(&b[0]))%4096)) % 4096
	p := b[off : off+4096]
	for i := range p {
		p[i] = byte(i)
	}
	return p
}

var global [3 * 4096]byte

func main() {
	x, err := hypercall.Open()
	if err != nil {
		fmt.Printf("xenguest: no Xen here: %v\n", err)
		if errors.Is(err, hypercall.ErrNoXen) && errors.Is(err, api.ENOSYS) {
			os.Exit(69)
		}
		os.Exit(1)
	}
	id := x.Identity()
	check("open", id.Major >= 4 && id.HypercallMSR != 0, "Xen %d.%d, leaves at %#x, hypercall MSR %#x, TSC %d kHz, domid %d (%v)",
		id.Major, id.Minor, id.Base, id.HypercallMSR, id.TSCKHz, id.DomID, id.HasDomID)

	if len(os.Args) > 1 && os.Args[1] == "shutdown" {
		fmt.Println("xenguest: shutting down with SCHEDOP_shutdown(poweroff)")
		if c, err := x.Console(); err == nil {
			c.Flush(time.Now().Add(5 * time.Second)) // best effort: the line above should reach the log
		}
		err := x.Shutdown(hypercall.ShutdownPoweroff)
		fmt.Printf("FAIL shutdown: returned %v\n", err)
		os.Exit(1)
	}

	major, minor, extra := x.Version()
	check("xen_version", major == id.Major && minor == id.Minor && extra != "", "XENVER_version %d.%d, extraversion %q", major, minor, extra)

	// errors.Join rather than go-multierror here: this guest is built into
	// a unikernel image, and the standard library keeps it small.
	storePFN, err1 := x.HVMParam(hypercall.HVMParamStorePFN)
	storePort, err2 := x.HVMParam(hypercall.HVMParamStoreEvtchn)
	consPFN, err3 := x.HVMParam(hypercall.HVMParamConsolePFN)
	consPort, err4 := x.HVMParam(hypercall.HVMParamConsoleEvtch)
	check("hvm_param", errors.Join(err1, err2, err3, err4) == nil && storePFN != 0 && storePort != 0 && consPFN != 0 && consPort != 0,
		"xenstore frame %#x port %d, console frame %#x port %d (%v)", storePFN, storePort, consPFN, consPort, errors.Join(err1, err2, err3, err4))
	// The shim asks for event upcalls on a vector of its own
	// (HVM_PARAM_CALLBACK_TYPE_VECTOR is 2 in the top byte).
	vec := x.ShimStats().UpcallVector
	cb, err := x.HVMParam(hypercall.HVMParamCallbackIRQ)
	if err == nil {
		err = x.SetHVMParam(hypercall.HVMParamCallbackIRQ, cb) // set again, unchanged
	}
	check("hvm_set_param", err == nil && vec != 0 && cb == 2<<56|uint64(vec), "HVM_PARAM_CALLBACK_IRQ %#x, the shim's upcall vector %#x, set back (%v)", cb, vec, err)
	_, err = x.HVMParam(100000)
	check("hvm_param_invalid", errors.Is(err, api.EINVAL), "HVMOP_get_param(100000): %v", err)

	// Page-table walk: a global is identity mapped (2 MiB pages), a heap
	// page lies above 4 GiB and is backed by some pool frame.
	gp := unsafe.Pointer(&global[4096])
	gf, err := x.Frame(gp)
	check("frame_global", err == nil && gf == uint64(uintptr(gp))>>12, "global at %p is frame %#x (%v)", gp, gf, err)
	hp := page()
	hf, err := x.Frame(unsafe.Pointer(&hp[0]))
	check("frame_heap", err == nil && hf != 0 && uint64(uintptr(unsafe.Pointer(&hp[0]))) > 1<<32 && hf < 1<<20,
		"heap page at %p is frame %#x (%v)", &hp[0], hf, err)

	// pvclock.
	t1 := x.SystemTime()
	w0 := time.Now()
	time.Sleep(30 * time.Millisecond)
	t2 := x.SystemTime()
	d := time.Duration(t2 - t1)
	check("pvclock", d >= 30*time.Millisecond && d < 3*time.Second, "system time %v, advanced %v over a 30ms sleep (Go saw %v)", time.Duration(t2), d, time.Since(w0))
	p := x.SharedInfo().VcpuInfo[0].Time.Snapshot()
	check("pvclock_params", p.TSCToSystemMul != 0 && p.TSCHz() > 1e8, "TSC %d MHz, shift %d, flags %#x", p.TSCHz()/1e6, p.TSCShift, p.Flags)
	wall := x.WallClock()
	check("wallclock", time.Until(wall).Abs() < 2*time.Second && wall.Year() >= 2024, "%s (Go's clock: %s)", wall.UTC().Format(time.RFC3339Nano), time.Now().UTC().Format(time.RFC3339Nano))

	events(x)

	check("yield", x.Yield() == nil, "SCHEDOP_yield")
	start := time.Now()
	err = x.Block()
	check("block", err == nil && time.Since(start) < 5*time.Second, "SCHEDOP_block returned after %v (%v)", time.Since(start), err)

	grants(x, storePFN, consPFN)
	xenstore(x, id)
	console(x)

	fmt.Printf("xenguest: %d checks, %d failed\n", checks, failed)
	if failed > 0 {
		os.Exit(1)
	}
}

func events(x *hypercall.Xen) {
	s := x.SharedInfo()
	a, err := x.AllocUnbound(hypercall.DomIDSelf)
	check("evtchn_alloc_unbound", err == nil && a != 0, "port %d (%v)", a, err)
	b, err := x.BindInterdomain(hypercall.DomIDSelf, a)
	check("evtchn_bind_interdomain", err == nil && b != 0 && b != a, "port %d bound to %d (%v)", b, a, err)
	// Binding marks the new local port pending (Xen's fix-up for
	// notifications lost while the remote end was unbound).
	bound := s.TakePending(b)
	s.TakePending(a)
	err = x.Notify(b)
	check("evtchn_send", err == nil && s.Pending(a) && !s.Pending(b), "send on %d makes %d pending (%v; %d was pending after the bind: %v)", b, a, err, b, bound)
	check("evtchn_take", s.TakePending(a) && !s.Pending(a), "pending bit cleared")
	s.Mask(a)
	x.Notify(b)
	check("evtchn_mask", s.Masked(a) && s.Pending(a), "a masked port still becomes pending")
	err = x.Unmask(a)
	check("evtchn_unmask", err == nil && !s.Masked(a), "EVTCHNOP_unmask (%v)", err)
	start := time.Now()
	err = x.Poll([]uint32{a}, 5*time.Second)
	check("sched_poll_pending", err == nil && time.Since(start) < time.Second, "returned after %v with the port pending (%v)", time.Since(start), err)
	s.TakePending(a)
	start = time.Now()
	err = x.Wait(a, time.Now().Add(50*time.Millisecond))
	check("wait_timeout", err == api.ETIMEDOUT && time.Since(start) >= 50*time.Millisecond && time.Since(start) < 2*time.Second,
		"%v after %v", err, time.Since(start))
	go func() {
		time.Sleep(20 * time.Millisecond)
		x.Notify(b)
	}()
	start = time.Now()
	err = x.Wait(a, time.Now().Add(5*time.Second))
	check("wait_notified", err == nil && time.Since(start) >= 15*time.Millisecond && time.Since(start) < 2*time.Second,
		"woken after %v (%v)", time.Since(start), err)
	waitUpcall(x, a, b)
	waitIdle(x)
	err = errors.Join(x.CloseChannel(b), x.CloseChannel(a))
	check("evtchn_close", err == nil, "%v", err)
	err = x.Notify(b)
	check("evtchn_send_closed", errors.Is(err, api.EINVAL) || errors.Is(err, api.ENOENT), "send on a closed port: %v", err)
}

// waitUpcall: a Notify from another goroutine wakes a Wait through the
// shim's upcall, and the waiting thread blocked in the shim (not the vCPU
// in Xen): the other goroutine got its rounds done meanwhile.
func waitUpcall(x *hypercall.Xen, a, b uint32) {
	const rounds = 20
	x.SharedInfo().TakePending(a)
	before := x.ShimStats()
	var waiting atomic.Bool
	waiting.Store(true)
	var doneWhileWaiting atomic.Int64
	go func() {
		n := 0
		for ; n < rounds && waiting.Load(); n++ {
			time.Sleep(time.Millisecond)
		}
		doneWhileWaiting.Store(int64(n))
		x.Notify(b)
	}()
	// No deadline, like an appliance watching control/shutdown; a
	// watchdog notifies too after 30s, so that a broken wait fails the
	// check rather than hanging the guest.
	var watchdog atomic.Bool
	wd := time.AfterFunc(30*time.Second, func() { watchdog.Store(true); x.Notify(b) })
	err := x.Wait(a, time.Time{})
	wd.Stop()
	waiting.Store(false)
	after := x.ShimStats()
	n := doneWhileWaiting.Load()
	check("wait_upcall", err == nil && !watchdog.Load() && n == rounds && after.EventBlocks > before.EventBlocks && after.Upcalls > before.Upcalls && !x.SharedInfo().Masked(a),
		"Wait without a deadline woken by a Notify after the other goroutine's %d/%d sleeps (%v, watchdog %v); shim: %d upcalls, %d blocked waits, idle %v meanwhile",
		n, rounds, err, watchdog.Load(), after.Upcalls-before.Upcalls, after.EventBlocks-before.EventBlocks, after.Idle-before.Idle)
}

// waitIdle: while one goroutine waits 300ms on a port that never fires,
// another one counts 1ms sleeps. With Wait the waiting thread blocks in
// the shim and the runtime hands its P to the other goroutine (which
// therefore makes progress at all: it would not if the wait held the P),
// and the vCPU idles in the shim between the sleeps; with a SCHEDOP_poll
// loop (Wait's old way, still what a shim without upcalls gets) the vCPU
// sleeps in Xen in slices of up to 10ms and the other goroutine runs only
// between them. The counts are printed for BENCHMARKS.md.
func waitIdle(x *hypercall.Xen) {
	c, err := x.AllocUnbound(hypercall.DomIDSelf) // never bound: never fires
	if err != nil {
		check("wait_idle", false, "EVTCHNOP_alloc_unbound: %v", err)
		return
	}
	defer x.CloseChannel(c)
	poll := func(port uint32, deadline time.Time) error { return pollWait(x, port, deadline) }
	measure := func(wait func(port uint32, deadline time.Time) error) (rounds int64, d hypercall.ShimStats, err error) {
		var stop atomic.Bool
		var n atomic.Int64
		done := make(chan struct{})
		go func() {
			defer close(done)
			for !stop.Load() {
				time.Sleep(time.Millisecond)
				n.Add(1)
			}
		}()
		before := x.ShimStats()
		err = wait(c, time.Now().Add(300*time.Millisecond))
		rounds = n.Load()
		after := x.ShimStats()
		stop.Store(true)
		<-done
		return rounds, hypercall.ShimStats{Upcalls: after.Upcalls - before.Upcalls, EventBlocks: after.EventBlocks - before.EventBlocks, Idle: after.Idle - before.Idle}, err
	}
	// The same 300ms beside a goroutine that just sleeps: what the other
	// goroutine gets on this machine (timer latency under nested
	// virtualisation is several ms) when nobody waits for an event.
	sleep := func(uint32, time.Time) error { time.Sleep(300 * time.Millisecond); return api.ETIMEDOUT }
	alone, _, _ := measure(sleep)
	rounds, d, err := measure(x.Wait)
	check("wait_idle", err == api.ETIMEDOUT && rounds > 0 && d.EventBlocks > 0 && d.Idle > 0,
		"Wait 300ms (%v): the other goroutine slept 1ms %d times (%d beside a sleeping goroutine); the waiting thread blocked in the shim %d times, the vCPU idled there %v",
		err, rounds, alone, d.EventBlocks, d.Idle)
	pollRounds, d, err := measure(poll)
	check("wait_idle_poll", err == api.ETIMEDOUT && d.EventBlocks == 0,
		"SCHEDOP_poll loop 300ms (%v): the other goroutine slept 1ms %d times (%d beside Wait, %d beside a sleeping goroutine); the vCPU idled in the shim %v",
		err, pollRounds, rounds, alone, d.Idle)
}

// pollWait is how Wait waited before the shim took upcalls: SCHEDOP_poll
// in slices of at most 10ms, letting other goroutines run in between.
func pollWait(x *hypercall.Xen, port uint32, deadline time.Time) error {
	ports := []uint32{port}
	for {
		if x.SharedInfo().TakePending(port) {
			return nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return api.ETIMEDOUT
		}
		if err := x.Poll(ports, min(left, 10*time.Millisecond)); err != nil {
			return err
		}
		if !x.SharedInfo().Pending(port) {
			runtime.Gosched()
		}
	}
}

func grants(x *hypercall.Xen, storePFN, consPFN uint64) {
	g, err := x.GrantTable()
	if err != nil {
		check("grant_table", false, "%v", err)
		return
	}
	check("grant_table", g.Len() >= 512 && g.Free() == g.Len()-hypercall.GrantReservedEntries, "%d entries mapped, %d free", g.Len(), g.Free())
	f, d, fr, err := g.Entry(hypercall.GrantRefXenstore)
	check("grant_reserved_xenstore", err == nil && f&1 != 0 && d == 0 && uint64(fr) == storePFN, "ref 1: flags %#x domain %d frame %#x (xenstore frame %#x)", f, d, fr, storePFN)
	f, d, fr, err = g.Entry(hypercall.GrantRefConsole)
	check("grant_reserved_console", err == nil && f&1 != 0 && d == 0 && uint64(fr) == consPFN, "ref 0: flags %#x domain %d frame %#x (console frame %#x)", f, d, fr, consPFN)
	p := page()
	gfn, err := x.Frame(unsafe.Pointer(&p[0]))
	if err != nil {
		check("grant_access", false, "%v", err)
		return
	}
	ref, err := g.Grant(0, gfn, true)
	f, d, fr, _ = g.Entry(ref)
	check("grant_access", err == nil && f == 1|4 && d == 0 && uint64(fr) == gfn, "ref %d: flags %#x domain %d frame %#x (%v)", ref, f, d, fr, err)
	err = g.End(ref)
	f, _, _, _ = g.Entry(ref)
	check("grant_end", err == nil && f == 0, "flags %#x after End (%v)", f, err)
	err = g.End(ref)
	check("grant_end_twice", errors.Is(err, api.EINVAL), "%v", err)
}

func xenstore(x *hypercall.Xen, id hypercall.Identity) {
	c, err := x.Xenstore()
	if err != nil {
		check("xenstore", false, "%v", err)
		return
	}
	name, err := c.Name()
	check("xenstore_name", err == nil && name != "", "name %q (%v)", name, err)
	domid, err := c.DomainID()
	check("xenstore_domid", err == nil && domid != 0 && (!id.HasDomID || domid == id.DomID), "domid %d, CPUID says %d (%v)", domid, id.DomID, err)
	home, err := c.DomainPath(domid)
	check("xenstore_domain_path", err == nil && home == "/local/domain/"+strconv.Itoa(int(domid)), "%q (%v)", home, err)
	perms, err := c.Perms("data")
	check("xenstore_perms", err == nil && len(perms) > 0 && perms[0].Domain == domid, "data: %v (%v)", perms, err)

	val := "written at " + time.Now().UTC().Format(time.RFC3339Nano) + " " + strings.Repeat("#", 1500)
	err = c.Write("data/hypercall-test", val)
	got, err2 := c.Read(home + "/data/hypercall-test")
	check("xenstore_write_read", err == nil && err2 == nil && got == val, "%d bytes back (%v, %v)", len(got), err, err2)
	names, err := c.Directory("data")
	check("xenstore_directory", err == nil && slices.Contains(names, "hypercall-test"), "data: %q (%v)", names, err)
	_, err = c.Read("data/no-such-key")
	check("xenstore_enoent", errors.Is(err, fs.ErrNotExist) && errors.Is(err, api.ENOENT), "%v", err)
	err = c.Write("name", "renamed")
	check("xenstore_eacces", errors.Is(err, api.EACCES), "writing our own name: %v", err)
	_, err = c.Read("/local/domain/0/name")
	check("xenstore_other_domain", errors.Is(err, api.EACCES) || errors.Is(err, api.ENOENT), "reading dom0's name: %v", err)

	err = c.Transaction(func(tx *hypercall.Tx) error {
		if err := tx.Write("data/tx-a", "1"); err != nil {
			return err
		}
		return tx.Write("data/tx-b", "2")
	})
	a, _ := c.Read("data/tx-a")
	b, _ := c.Read("data/tx-b")
	check("xenstore_transaction", err == nil && a == "1" && b == "2", "committed a=%q b=%q (%v)", a, b, err)
	tx, err := c.Begin()
	if err == nil {
		tx.Write("data/tx-aborted", "x")
		err = tx.Abort()
	}
	_, err2 = c.Read("data/tx-aborted")
	check("xenstore_abort", err == nil && errors.Is(err2, fs.ErrNotExist), "%v, then read: %v", err, err2)

	w, err := c.Watch("data/watched")
	if err != nil {
		check("xenstore_watch", false, "%v", err)
		return
	}
	first, err := w.Next(5 * time.Second)
	check("xenstore_watch", err == nil && first == "data/watched", "initial event %q (%v)", first, err)
	c.Write("data/watched/leaf", "x")
	ev, err := w.Next(5 * time.Second)
	check("xenstore_watch_event", err == nil && ev == "data/watched/leaf", "event %q (%v)", ev, err)
	err = w.Close()
	check("xenstore_unwatch", err == nil, "%v", err)
	err = c.Remove("data/hypercall-test")
	_, err2 = c.Read("data/hypercall-test")
	check("xenstore_rm", err == nil && errors.Is(err2, fs.ErrNotExist), "%v, then read: %v", err, err2)
}

func console(x *hypercall.Xen) {
	c, err := x.Console()
	if err != nil {
		check("console", false, "%v", err)
		return
	}
	// The shim owns the out ring, but it reads the indices afresh on
	// every write: with nothing else printing meanwhile, Go may add a line.
	line := "ok console_write: this line went straight from Go into the PV console ring\n"
	if n, err := c.Write([]byte(line)); err != nil || n != len(line) {
		check("console_write", false, "%d bytes, %v", n, err)
	}
	err = c.Flush(time.Now().Add(5 * time.Second))
	n, err2 := c.Unsent()
	check("console_flush", err == nil && err2 == nil && n == 0, "%d bytes unsent (%v, %v)", n, err, err2)
	var buf [64]byte
	n, err = c.Read(buf[:], time.Now().Add(20*time.Millisecond))
	check("console_read", err == api.ETIMEDOUT || (err == nil && n > 0), "no input: %d bytes, %v", n, err)
}
