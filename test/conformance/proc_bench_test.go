package conformance

import (
	"testing"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/backend/native"
)

// Benchmarks and allocation checks of the processes family's hot calls on
// the host kernel:
//
//	go test -run ProcAllocs -bench Proc -benchmem ./test/conformance

func procHost(tb testing.TB) *api.Kernel {
	tb.Helper()
	k, err := native.New()
	if err != nil {
		tb.Skipf("native backend: %v", err)
	}
	return k
}

// TestProcAllocs checks that getpid, getuid and getrandom do not allocate.
func TestProcAllocs(t *testing.T) {
	k := procHost(t)
	var buf [32]byte
	for name, f := range map[string]func(){
		"getpid":    func() { k.Getpid() },
		"getuid":    func() { k.Getuid() },
		"gettid":    func() { k.Gettid() },
		"getrandom": func() { k.Getrandom(buf[:], 0) },
	} {
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s: %v allocations per call, want 0", name, n)
		}
	}
}

// BenchmarkProcGetpid measures getpid, a raw syscall; it must not allocate.
func BenchmarkProcGetpid(b *testing.B) {
	k := procHost(b)
	b.ReportAllocs()
	for b.Loop() {
		if k.Getpid() <= 0 {
			b.Fatal("getpid failed")
		}
	}
	if n := testing.AllocsPerRun(100, func() { k.Getpid() }); n != 0 {
		b.Fatalf("getpid: %v allocations per call, want 0", n)
	}
}

// BenchmarkProcGetrandom measures a 32-byte getrandom; it must not
// allocate.
func BenchmarkProcGetrandom(b *testing.B) {
	k := procHost(b)
	var buf [32]byte
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if _, err := k.Getrandom(buf[:], 0); err != nil {
			b.Fatal(err)
		}
	}
}
