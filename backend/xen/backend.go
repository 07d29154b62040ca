//go:build xen

package xen

import (
	"sync"
	"unsafe"

	"github.com/anykernel/anykernel/abi"
	linux "github.com/anykernel/anykernel/abi/linux/amd64"
	"github.com/anykernel/anykernel/api"
)

// Backend serves api's calls from Go. Its zero value is not usable: get
// the Kernel with New.
type Backend struct {
	k *kernel
}

var _ api.Backend = (*Backend)(nil)

// Name implements api.Backend.
func (*Backend) Name() string { return "xen" }

// ABI implements api.Backend: the library OS speaks linux/amd64.
func (*Backend) ABI() *abi.Table { return linux.Table }

// vecMax is how many iovec bases the entry turns into pointers.
const vecMax = 16

// apiStackVecs is how many vectors api describes with typed pointers on
// its own stack (api's fioStackVecs); beyond that its array holds plain
// numbers, which the entry converts.
const apiStackVecs = 8

// iovPtrs are iovec bases converted by the entry.
type iovPtrs struct {
	n int
	p [vecMax]unsafe.Pointer
}

// ptr turns an address argument into a pointer the runtime tracks.
//
//go:nosplit
func ptr(u uintptr) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&u))
}

// Syscall implements api.Backend. It is nosplit: before anything that can
// grow the stack it turns the address arguments of the call into
// unsafe.Pointer values, which the runtime adjusts when the stack moves
// (the arguments may point into the caller's stack). Then ordinary Go code
// serves the call; calls that wait block this goroutine only.
//
//go:nosplit
func (b *Backend) Syscall(nr, a1, a2, a3, a4, a5, a6 uintptr) (r1, r2, errno uintptr) {
	if nr >= maxNr || opOf[nr] == opNone {
		return 0, 0, uintptr(ENOSYS)
	}
	o := opOf[nr]
	m := opInfo[o].mask
	var p [6]unsafe.Pointer
	if m&0b1 != 0 {
		p[0] = ptr(a1)
	}
	if m&0b10 != 0 {
		p[1] = ptr(a2)
	}
	if m&0b100 != 0 {
		p[2] = ptr(a3)
	}
	if m&0b1000 != 0 {
		p[3] = ptr(a4)
	}
	if m&0b10000 != 0 {
		p[4] = ptr(a5)
	}
	if m&0b100000 != 0 {
		p[5] = ptr(a6)
	}
	switch opInfo[o].kind {
	case kVec:
		return b.vec(o, [6]uintptr{a1, a2, a3, a4, a5, a6}, p)
	case kPsel:
		// { const sigset_t *ss; size_t ss_len }: serve sees the set as
		// argument 6's pointer and its length as argument 6.
		if p[5] != nil {
			s := p[5]
			p[5] = *(*unsafe.Pointer)(s)
			a6 = *(*uintptr)(unsafe.Add(s, 8))
		}
	case kFcntl:
		if fcntlTakesPtr(a2) {
			p[2] = ptr(a3)
		}
	case kIoctl:
		if ioctlTakesPtr(a2) {
			p[2] = ptr(a3)
		}
	}
	r, e := b.k.serve(o, [6]uintptr{a1, a2, a3, a4, a5, a6}, p, nil)
	return r, 0, uintptr(e)
}

// vec is the entry of the vectored calls: it converts the bases of up to
// vecMax vectors beyond the ones api keeps as typed pointers.
//
//go:nosplit
func (b *Backend) vec(o op, a [6]uintptr, p [6]unsafe.Pointer) (r1, r2, errno uintptr) {
	var x iovPtrs
	if iov := p[1]; iov != nil && a[2] > apiStackVecs {
		n := int(min(a[2], vecMax))
		for i := 0; i < n; i++ {
			x.p[i] = *(*unsafe.Pointer)(unsafe.Add(iov, i*iovSize+iovBase))
		}
		x.n = n
	}
	r, e := b.k.serve(o, a, p, &x)
	return r, 0, uintptr(e)
}

// RawSyscall implements api.Backend; every call is served the same way.
//
//go:nosplit
func (b *Backend) RawSyscall(nr, a1, a2, a3, a4, a5, a6 uintptr) (r1, r2, errno uintptr) {
	return b.Syscall(nr, a1, a2, a3, a4, a5, a6)
}

var (
	once sync.Once
	kern *api.Kernel
	kerr error
)

// New returns the library OS's Kernel. There is one per program: every
// caller shares it, its file system and its descriptors.
func New() (*api.Kernel, error) {
	once.Do(func() {
		b := &Backend{}
		if b.k, kerr = newKernel(); kerr != nil {
			return
		}
		kern, kerr = api.New(b)
	})
	return kern, kerr
}
