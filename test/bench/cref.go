//go:build cgo

package bench

/*
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

// Each loop runs n calls inside one cgo call, so the cgo transition is
// amortised away and what remains is what C pays per call.
static long c_read1(int fd, long n) {
	char b;
	for (long i = 0; i < n; i++) if (read(fd, &b, 1) != 1) return -1;
	return 0;
}
static long c_pread4k(int fd, long n) {
	static char b[4096];
	for (long i = 0; i < n; i++) if (pread(fd, b, sizeof b, 0) != sizeof b) return -1;
	return 0;
}
static long c_fstat(int fd, long n) {
	struct stat st;
	for (long i = 0; i < n; i++) if (fstat(fd, &st) != 0) return -1;
	return 0;
}
static long c_getpid(long n) {
	long s = 0;
	// glibc no longer caches getpid; syscall() makes sure of a real trap.
	for (long i = 0; i < n; i++) s += syscall(SYS_getpid);
	return s > 0 ? 0 : -1;
}
static long c_clock_gettime(long n) {
	struct timespec ts;
	for (long i = 0; i < n; i++) if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return -1;
	return 0;
}
*/
import "C"

import "errors"

const haveC = true

var errC = errors.New("the C loop failed")

func cLoop(op string, fd, n int) error {
	var r C.long
	switch op {
	case "read1":
		r = C.c_read1(C.int(fd), C.long(n))
	case "pread4k":
		r = C.c_pread4k(C.int(fd), C.long(n))
	case "fstat":
		r = C.c_fstat(C.int(fd), C.long(n))
	case "getpid":
		r = C.c_getpid(C.long(n))
	case "clock_gettime":
		r = C.c_clock_gettime(C.long(n))
	}
	if r != 0 {
		return errC
	}
	return nil
}
