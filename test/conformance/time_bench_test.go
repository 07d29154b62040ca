package conformance

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/backend/native"
)

// The clock read is a hot path: through the native backend's vDSO path it
// must beat x/sys/unix.ClockGettime (a syscall) by 3× or more, and allocate
// nothing.

func nativeKernel(tb testing.TB) *api.Kernel {
	k, err := native.New()
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func TestClockGettimeAllocs(t *testing.T) {
	k := nativeKernel(t)
	var ts api.Timespec
	for _, c := range []api.ClockID{api.CLOCK_REALTIME, api.CLOCK_MONOTONIC, api.CLOCK_BOOTTIME} {
		if n := testing.AllocsPerRun(1000, func() { k.ClockGettime(c, &ts) }); n != 0 {
			t.Errorf("ClockGettime(%v): %v allocs/op", c, n)
		}
	}
	if n := testing.AllocsPerRun(1000, func() { k.ClockGettimeSyscall(api.CLOCK_MONOTONIC, &ts) }); n != 0 {
		t.Errorf("ClockGettimeSyscall: %v allocs/op", n)
	}
}

func BenchmarkClockGettime(b *testing.B) {
	k := nativeKernel(b)
	var ts api.Timespec
	b.ReportAllocs()
	for b.Loop() {
		k.ClockGettime(api.CLOCK_MONOTONIC, &ts)
	}
}

func BenchmarkClockGettimeRealtime(b *testing.B) {
	k := nativeKernel(b)
	var ts api.Timespec
	b.ReportAllocs()
	for b.Loop() {
		k.ClockGettime(api.CLOCK_REALTIME, &ts)
	}
}

func BenchmarkClockGettimeSyscall(b *testing.B) {
	k := nativeKernel(b)
	var ts api.Timespec
	b.ReportAllocs()
	for b.Loop() {
		k.ClockGettimeSyscall(api.CLOCK_MONOTONIC, &ts)
	}
}

// BenchmarkXSysClockGettime is the baseline.
func BenchmarkXSysClockGettime(b *testing.B) {
	var ts unix.Timespec
	b.ReportAllocs()
	for b.Loop() {
		unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	}
}
