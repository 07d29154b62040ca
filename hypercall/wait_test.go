package hypercall

import (
	"errors"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/anykernel/anykernel/api"
)

// Hosted checks of Xen.Wait's decisions that need no hypervisor: the
// answers it gives from the pending bits and the deadline alone, before
// it would block. The blocking itself runs in the image (TestXenImage:
// wait_upcall, wait_idle).

func hostedXen(upcalls bool) *Xen {
	info := &shimXenInfo{Magic: xenInfoMagic, Size: shimXenInfoV1Size}
	if upcalls {
		info.Size = uint64(unsafe.Sizeof(*info))
		info.UpcallVector = 0xf3
	}
	return &Xen{shinfo: new(SharedInfo), info: info}
}

func TestWaitHosted(t *testing.T) {
	for _, upcalls := range []bool{true, false} {
		x := hostedXen(upcalls)
		s := x.shinfo
		// A pending, unmasked port: taken at once, consumed.
		s.EvtchnPending[1] = 1 << 3
		if err := x.Wait(67, time.Now().Add(time.Hour)); err != nil {
			t.Errorf("upcalls %v: Wait on a pending port: %v", upcalls, err)
		}
		if s.Pending(67) {
			t.Errorf("upcalls %v: Wait left the pending bit set", upcalls)
		}
		// Nothing pending and the deadline passed: ETIMEDOUT, no call.
		if err := x.Wait(67, time.Now().Add(-time.Second)); err != api.ETIMEDOUT {
			t.Errorf("upcalls %v: Wait past its deadline: %v, want ETIMEDOUT", upcalls, err)
		}
		// A port beyond the 2-level ABI: EINVAL naming it.
		err := x.Wait(EventChannels, time.Time{})
		if !errors.Is(err, api.EINVAL) || err.Error() == api.EINVAL.Error() {
			t.Errorf("upcalls %v: Wait(%d): %v, want EINVAL naming the port", upcalls, EventChannels, err)
		}
	}
}

func TestShimStatsHosted(t *testing.T) {
	if st := hostedXen(false).ShimStats(); st != (ShimStats{}) {
		t.Errorf("a shim without upcalls: %+v, want zero", st)
	}
	x := hostedXen(true)
	x.info.Upcalls, x.info.EvtchnBlocks, x.info.IdleNs = 5, 2, 1500
	want := ShimStats{UpcallVector: 0xf3, Upcalls: 5, EventBlocks: 2, Idle: 1500 * time.Nanosecond}
	if st := x.ShimStats(); st != want {
		t.Errorf("ShimStats %+v, want %+v", st, want)
	}
}

// TestEvtchnWaitOnHost: the shim-private system call number means nothing
// to a real kernel, which must refuse it (ENOSYS), not do something else.
func TestEvtchnWaitOnHost(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("hypercall: the system call exists only on linux/amd64")
	}
	if e := evtchnWait(0, 0); e != api.ENOSYS {
		t.Errorf("SYS_ANYKERNEL_EVTCHN_WAIT on the host kernel: %v, want ENOSYS", e)
	}
}
