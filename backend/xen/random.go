//go:build xen

package xen

import "unsafe"

const (
	grndNonblock = 1
	grndRandom   = 2
	grndInsecure = 4
)

// random fills p with random bytes: from the CPU, else the platform.
func fillRandom(p []byte) Errno {
	if hwRandom(p, false) {
		return 0
	}
	return platformGetrandom(p)
}

func (k *kernel) getrandom(b unsafe.Pointer, n uintptr, flags uintptr) (uintptr, Errno) {
	if flags&^(grndNonblock|grndRandom|grndInsecure) != 0 || flags&(grndRandom|grndInsecure) == grndRandom|grndInsecure {
		return 0, EINVAL
	}
	if n > 1<<25-1 {
		n = 1<<25 - 1 // Linux's most per call
	}
	p, e := userBuf(b, n)
	if e != 0 {
		return 0, e
	}
	if hwRandom(p, flags&grndRandom != 0) {
		return n, 0
	}
	if e := platformGetrandom(p); e != 0 {
		return 0, e
	}
	return n, 0
}
