//go:build rump

package bench

import (
	"testing"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/backend/rump"
)

// BenchmarkRump compares api on a rump kernel with the C loop a C program
// would write (rump_sys_* on one bound lwp, all in one cgo call, so the
// per-op time has no cgo cost):
//
//	RUMP_PREFIX=/opt/rump go test -tags rump -run '^$' -bench Rump -benchmem ./test/bench
func BenchmarkRump(b *testing.B) {
	k, err := rump.New(rump.Options{Components: []string{"vfs", "fs.tmpfs"}})
	if err != nil {
		b.Skip(err)
	}
	cloop := func(b *testing.B, op string, fd int) {
		b.ReportAllocs()
		b.ResetTimer()
		if err := rump.CLoop(k, op, fd, b.N); err != nil {
			b.Fatal(err)
		}
	}

	b.Run("getpid/api", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			k.Getpid()
		}
	})
	b.Run("getpid/c", func(b *testing.B) { cloop(b, "getpid", -1) })
	// For reference: C on a thread with no lwp bound, where rump makes an
	// implicit lwp per call.
	b.Run("getpid/c-unbound", func(b *testing.B) { cloop(b, "getpid-unbound", -1) })

	zero, err := k.Open("/dev/zero", api.O_RDONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer zero.Close()
	b.Run("read1/api", func(b *testing.B) {
		var buf [1]byte
		b.ReportAllocs()
		for b.Loop() {
			if _, err := zero.Read(buf[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read1/c", func(b *testing.B) { cloop(b, "read1", zero.Num()) })

	b.Run("fstat/api", func(b *testing.B) {
		var st api.Stat
		b.ReportAllocs()
		for b.Loop() {
			if err := zero.Stat(&st); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fstat/c", func(b *testing.B) { cloop(b, "fstat", zero.Num()) })
}
