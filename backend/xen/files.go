//go:build xen

package xen

import (
	"github.com/anykernel/anykernel/backend/xen/memfs"
)

// Poll bits (Linux's; epoll's are the same).
const (
	pollIn     = 0x1
	pollPri    = 0x2
	pollOut    = 0x4
	pollErr    = 0x8
	pollHup    = 0x10
	pollNval   = 0x20
	pollRdnorm = 0x40
	pollWrnorm = 0x100
	pollRdhup  = 0x2000
)

// fsFile is a file of the file system: regular file, directory, or an
// O_PATH description of anything.
type fsFile struct {
	mf *memfs.File
}

func (f *fsFile) read(k *kernel, p []byte, _ bool) (int, Errno) {
	if f.mf.PathOnly() {
		return 0, EBADF
	}
	return f.mf.Read(p)
}

func (f *fsFile) write(k *kernel, p []byte, _ bool) (int, Errno) {
	if f.mf.PathOnly() {
		return 0, EBADF
	}
	return f.mf.Write(p)
}

func (f *fsFile) flags() int          { return f.mf.Flags() }
func (f *fsFile) setFlags(fl int)     { f.mf.SetFlags(fl) }
func (f *fsFile) stat() memfs.Stat    { return f.mf.Inode().Stat() }
func (f *fsFile) release(k *kernel)   { f.mf.Close() }
func (f *fsFile) poll(*kernel) uint32 { return pollIn | pollOut | pollRdnorm | pollWrnorm }

// Device numbers, as Linux encodes a dev_t.
func mkdev(major, minor uint32) uint64 {
	return uint64(minor&0xff) | uint64(major&0xfff)<<8 | uint64(minor&^0xff)<<12 | uint64(major&^0xfff)<<32
}

func devMajor(d uint64) uint32 { return uint32((d>>8)&0xfff | (d>>32)&^0xfff) }
func devMinor(d uint64) uint32 { return uint32(d&0xff | (d>>12)&^0xff) }

// The character devices the library OS has.
const (
	devNone = iota
	devNull
	devZero
	devFull
	devRandom
	devConsole
)

var devices = []struct {
	path string
	rdev uint64
	kind int
}{
	{"/dev/null", mkdev(1, 3), devNull},
	{"/dev/zero", mkdev(1, 5), devZero},
	{"/dev/full", mkdev(1, 7), devFull},
	{"/dev/random", mkdev(1, 8), devRandom},
	{"/dev/urandom", mkdev(1, 9), devRandom},
	{"/dev/tty", mkdev(5, 0), devConsole},
	{"/dev/console", mkdev(5, 1), devConsole},
}

func deviceKind(rdev uint64) int {
	for _, d := range devices {
		if d.rdev == rdev {
			return d.kind
		}
	}
	return devNone
}

// devFile is an open character device.
type devFile struct {
	mf  *memfs.File
	dev int
}

func (f *devFile) read(k *kernel, p []byte, _ bool) (int, Errno) {
	if f.mf.Flags()&memfs.O_ACCMODE == memfs.O_WRONLY {
		return 0, EBADF
	}
	switch f.dev {
	case devNull:
		return 0, 0
	case devZero, devFull:
		clear(p)
		return len(p), 0
	case devRandom:
		if e := fillRandom(p); e != 0 {
			return 0, e
		}
		return len(p), 0
	case devConsole:
		return platformRead(0, p)
	}
	return 0, ENXIO
}

func (f *devFile) write(k *kernel, p []byte, _ bool) (int, Errno) {
	if f.mf.Flags()&memfs.O_ACCMODE == memfs.O_RDONLY {
		return 0, EBADF
	}
	switch f.dev {
	case devFull:
		if len(p) == 0 {
			return 0, 0
		}
		return 0, ENOSPC
	case devConsole:
		n := 0
		for n < len(p) {
			m, e := platformWrite(1, p[n:])
			if e != 0 {
				if n > 0 {
					return n, 0
				}
				return 0, e
			}
			n += m
		}
		return n, 0
	}
	return len(p), 0
}

func (f *devFile) flags() int          { return f.mf.Flags() }
func (f *devFile) setFlags(fl int)     { f.mf.SetFlags(fl) }
func (f *devFile) stat() memfs.Stat    { return f.mf.Inode().Stat() }
func (f *devFile) release(k *kernel)   { f.mf.Close() }
func (f *devFile) poll(*kernel) uint32 { return pollIn | pollOut | pollRdnorm | pollWrnorm }
