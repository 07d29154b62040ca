package bench

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkC is the C reference for BenchmarkNative and BenchmarkNativeCalls:
// the same operations in a C loop, in the same run.
func BenchmarkC(b *testing.B) {
	if !haveC {
		b.Skip("the C reference needs cgo: CGO_ENABLED=1 and gcc (apt-get install gcc)")
	}
	path := filepath.Join(b.TempDir(), "4k")
	if err := os.WriteFile(path, make([]byte, 8192), 0o644); err != nil {
		b.Fatal(err)
	}
	zero, err := unix.Open("/dev/zero", unix.O_RDONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Close(zero)
	file, err := unix.Open(path, unix.O_RDONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Close(file)
	for _, op := range []struct {
		name string
		fd   int
	}{{"read1", zero}, {"pread4k", file}, {"fstat", file}, {"getpid", -1}, {"clock_gettime", -1}} {
		b.Run(op.name+"/c", func(b *testing.B) {
			if err := cLoop(op.name, op.fd, b.N); err != nil {
				b.Fatal(err)
			}
		})
	}
}
