package bench

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/backend/native"
)

func kernel(b *testing.B) *api.Kernel {
	k, err := native.New()
	if err != nil {
		b.Fatal(err)
	}
	return k
}

func BenchmarkNative(b *testing.B) {
	k := kernel(b)
	dir := b.TempDir()
	path := filepath.Join(dir, "4k")
	if err := os.WriteFile(path, make([]byte, 8192), 0o644); err != nil {
		b.Fatal(err)
	}

	b.Run("read1/api", func(b *testing.B) {
		f, err := k.Open("/dev/zero", api.O_RDONLY, 0)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		var buf [1]byte
		b.ReportAllocs()
		for b.Loop() {
			if _, err := f.Read(buf[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read1/xsys", func(b *testing.B) {
		fd, err := unix.Open("/dev/zero", unix.O_RDONLY, 0)
		if err != nil {
			b.Fatal(err)
		}
		defer unix.Close(fd)
		var buf [1]byte
		b.ReportAllocs()
		for b.Loop() {
			if _, err := unix.Read(fd, buf[:]); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("pread4k/api", func(b *testing.B) {
		f, err := k.Open(path, api.O_RDONLY, 0)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		buf := make([]byte, 4096)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := f.ReadAt(buf, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pread4k/xsys", func(b *testing.B) {
		fd, err := unix.Open(path, unix.O_RDONLY, 0)
		if err != nil {
			b.Fatal(err)
		}
		defer unix.Close(fd)
		buf := make([]byte, 4096)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := unix.Pread(fd, buf, 0); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("fstat/api", func(b *testing.B) {
		f, err := k.Open(path, api.O_RDONLY, 0)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		var st api.Stat
		b.ReportAllocs()
		for b.Loop() {
			if err := f.Stat(&st); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fstat/xsys", func(b *testing.B) {
		fd, err := unix.Open(path, unix.O_RDONLY, 0)
		if err != nil {
			b.Fatal(err)
		}
		defer unix.Close(fd)
		var st unix.Stat_t
		b.ReportAllocs()
		for b.Loop() {
			if err := unix.Fstat(fd, &st); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkNativeCalls(b *testing.B) {
	k := kernel(b)
	b.Run("getpid/api", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			k.Getpid()
		}
	})
	b.Run("getpid/xsys", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			unix.Getpid()
		}
	})

	b.Run("clock_gettime/api", func(b *testing.B) {
		var ts api.Timespec
		b.ReportAllocs()
		for b.Loop() {
			if err := k.ClockGettime(api.CLOCK_MONOTONIC, &ts); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("clock_gettime/xsys", func(b *testing.B) {
		var ts unix.Timespec
		b.ReportAllocs()
		for b.Loop() {
			if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("epollwait0/api", func(b *testing.B) {
		ep, err := k.EpollCreate1(api.EPOLL_CLOEXEC)
		if err != nil {
			b.Fatal(err)
		}
		defer ep.Close()
		evs := make([]api.EpollEvent, 8)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ep.WaitInto(evs, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("epollwait0/xsys", func(b *testing.B) {
		ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			b.Fatal(err)
		}
		defer unix.Close(ep)
		evs := make([]unix.EpollEvent, 8)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := unix.EpollWait(ep, evs, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
}
