//go:build xen

package xen

import (
	"syscall"
	"time"
	"unsafe"

	"github.com/anykernel/anykernel/abi"
	linux "github.com/anykernel/anykernel/abi/linux/amd64"
	"github.com/anykernel/anykernel/backend/xen/memfs"
)

// The platform: the few Linux system calls the library OS itself makes.
// Inside the image the boot shim answers them (console through the PV
// console ring or the serial port, clocks from pvclock or the TSC); hosted,
// the host kernel does.

func linuxTable() *abi.Table { return linux.Table }

var sysnr struct {
	read, write, clockGettime, getpid, gettid, exitGroup, getrandom uintptr
}

func initPlatform() {
	t := linuxTable()
	sysnr.read = mustNr(t, "read")
	sysnr.write = mustNr(t, "write")
	sysnr.clockGettime = mustNr(t, "clock_gettime")
	sysnr.getpid = mustNr(t, "getpid")
	sysnr.gettid = mustNr(t, "gettid")
	sysnr.exitGroup = mustNr(t, "exit_group")
	sysnr.getrandom = mustNr(t, "getrandom")
}

// platformWrite writes to the platform's descriptor fd (the console is 1).
func platformWrite(fd int, p []byte) (int, Errno) {
	if len(p) == 0 {
		return 0, 0
	}
	r, _, e := syscall.Syscall(sysnr.write, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	if e != 0 {
		return 0, Errno(e)
	}
	return int(r), 0
}

// platformRead reads from the platform's descriptor fd (the console is 0;
// the shim answers end of file).
func platformRead(fd int, p []byte) (int, Errno) {
	if len(p) == 0 {
		return 0, 0
	}
	r, _, e := syscall.Syscall(sysnr.read, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	if e != 0 {
		return 0, Errno(e)
	}
	return int(r), 0
}

func platformGetpid() uintptr {
	r, _, _ := syscall.RawSyscall(sysnr.getpid, 0, 0, 0)
	return r
}

func platformGettid() int32 {
	r, _, _ := syscall.RawSyscall(sysnr.gettid, 0, 0, 0)
	return int32(r)
}

func platformExit(status int) {
	syscall.RawSyscall(sysnr.exitGroup, uintptr(status), 0, 0)
}

// platformGetrandom fills p from the platform (the shim's RDRAND or TSC
// mix, or the host's getrandom).
func platformGetrandom(p []byte) Errno {
	for len(p) > 0 {
		r, _, e := syscall.Syscall(sysnr.getrandom, uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)), 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return Errno(e)
		}
		p = p[r:]
	}
	return 0
}

// Linux clock ids.
const (
	clockRealtime        = 0
	clockMonotonic       = 1
	clockProcessCputime  = 2
	clockThreadCputime   = 3
	clockMonotonicRaw    = 4
	clockRealtimeCoarse  = 5
	clockMonotonicCoarse = 6
	clockBoottime        = 7
	clockRealtimeAlarm   = 8
	clockBoottimeAlarm   = 9
	clockTAI             = 11
	numClocks            = 12
)

// validClock reports whether Linux has clock id c (negative ids are CPU
// clocks of other processes and threads, which one process has not).
func validClock(c int64) bool {
	return c >= 0 && c < numClocks && c != 10
}

// platformClock reads clock c from the platform.
func platformClock(c int64) (sec, nsec int64) {
	switch c {
	case clockRealtimeAlarm:
		c = clockRealtime
	case clockBoottimeAlarm:
		c = clockBoottime
	}
	var ts [2]int64
	syscall.RawSyscall(sysnr.clockGettime, uintptr(c), uintptr(unsafe.Pointer(&ts)), 0)
	return ts[0], ts[1]
}

func clockNs(c int64) int64 {
	s, n := platformClock(c)
	return s*1e9 + n
}

// wallNow is the file system's clock.
func wallNow() memfs.Timespec {
	s, n := platformClock(clockRealtime)
	return memfs.Timespec{Sec: s, Nsec: n}
}

// sleepUntil waits until clock c reads deadline (nanoseconds), on a Go
// timer, so other goroutines run meanwhile.
func sleepUntil(c int64, deadline int64) {
	for {
		left := deadline - clockNs(c)
		if left <= 0 {
			return
		}
		time.Sleep(time.Duration(left))
	}
}
