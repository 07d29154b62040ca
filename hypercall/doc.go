// Package hypercall speaks Xen's guest ABI from Go, for programs that run
// in ring 0 inside an anykernel image (build/image, build/shim) booted as
// a Xen PVH domain:
//
//   - detection through CPUID (Identity) and a hypercall page of our own,
//     filled by Xen when its frame is written to the MSR CPUID names;
//   - HVM parameters (HVMParam): the xenstore and console rings' frames
//     and event channels;
//   - event channels: send (Notify), unmask, mask, the pending bits, poll
//     (SCHEDOP_poll) and a blocking Wait that sleeps only its thread (the
//     shim takes Xen's event upcalls and wakes it, see Xen.Wait);
//     alloc_unbound, bind_interdomain, close;
//   - grant table version 1 (GrantTable): its frames mapped into the
//     program, grants of our frames to other domains and their end;
//   - a xenstore client (Xenstore): the ring protocol, read, write,
//     directory, mkdir, rm, permissions, watches, transactions, and the
//     daemon's error strings mapped to api's errnos;
//   - the PV console ring (Console): read and write;
//   - shared_info: the 2-level event bitmaps, pvclock (vcpu_time_info)
//     and the wall clock (SystemTime, WallClock);
//   - sched_op: yield, block, poll, shutdown.
//
// Open returns the hypervisor; it fails cleanly with ErrNoXen (which
// unwraps to api.ENOSYS) on plain QEMU and in ordinary processes.
//
//	x, err := hypercall.Open()
//	xs, err := x.Xenstore()
//	name, err := xs.Name()
//	err = xs.Write("data/greeting", "hello")
//
// The protocol code (rings, the xenstore wire format and client, grant
// entries, event bitmaps, pvclock arithmetic) is pure Go over memory and
// the small Events interface, and is unit-tested on any host with
// in-memory rings; only xen.go and machine_linux_amd64.s touch the
// machine (CPUID, WRMSR, RDTSC, CR3, calls into the hypercall page). The
// image tests (TestXenImage, examples/xen/kv) run the real thing on Xen.
// Every constant and struct layout in abi.go is checked against Debian's
// libxen-dev headers by TestLayoutAgainstC.
//
// The shim owns what it needs for the Go runtime: the PV console's output
// (programs write through os.Stdout), the timer, the event channel upcall
// (HVM_PARAM_CALLBACK_IRQ: it acknowledges each upcall, counts it and
// wakes the threads blocked in its private system call
// SYS_ANYKERNEL_EVTCHN_WAIT; which ports fired is for the program to read
// from the pending bits), and shared_info, which it maps for its clocks and
// tells the program about through the auxiliary vector (AT_ANYKERNEL_XEN,
// see build/shim/src/shim.h); Xen lets a domain map shared_info at one
// place only.
//
// Memory: physical memory below 4 GiB is identity mapped in the image, so
// frame numbers from Xen are addresses; other memory (the Go heap and
// stacks) is translated by walking the page tables (Xen.Frame).
// Hypercall arguments live on the calling goroutine's stack; the
// assembly stubs never grow the stack, and guest handles inside argument
// structs are unsafe.Pointer fields, so the runtime sees and moves them.
package hypercall
