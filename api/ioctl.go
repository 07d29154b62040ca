package api

import "unsafe"

// ioctl: one syscall behind many device-specific requests. api wraps the
// requests it knows with typed methods (the terminal ones in term.go); these
// helpers are what those methods share, and the exported forms let users
// reach a request api does not wrap yet. Request numbers differ between ABIs
// (TCGETS is 0x5401 on x86, 0x402c7413 on powerpc): read them from the table
// with Kernel.Const, never type them in.

var sysIoctl = newCall("ioctl")

// ioctlInt makes ioctl(f, req, arg) with an integer (or no) argument.
func (f *Fd) ioctlInt(op string, req uint64, arg uintptr) (uintptr, error) {
	n, e := f.acquire()
	if e != 0 {
		return 0, callErr(op, e)
	}
	r, e := f.k.syscall(sysIoctl, n, uintptr(req), arg, 0, 0, 0)
	f.release()
	if e != 0 {
		return 0, callErr(op, e)
	}
	return r, nil
}

// ioctlPtr makes ioctl(f, req, p) with p the address of the request's
// argument struct. p may point into the caller's stack: as an
// unsafe.Pointer parameter the runtime adjusts it if the stack moves, and it
// becomes a number only inside the syscall's argument list.
func (f *Fd) ioctlPtr(op string, req uint64, p unsafe.Pointer) (uintptr, error) {
	n, e := f.acquire()
	if e != 0 {
		return 0, callErr(op, e)
	}
	r, e := f.k.syscall(sysIoctl, n, uintptr(req), uintptr(p), 0, 0, 0)
	f.release()
	if e != 0 {
		return 0, callErr(op, e)
	}
	return r, nil
}

// IoctlInt makes ioctl(f, req, arg) for a request whose argument is an
// integer (or unused). req is the ABI's request number, from Kernel.Const.
// It returns the call's non-negative result.
func (f *Fd) IoctlInt(req uint64, arg uintptr) (int, error) {
	r, err := f.ioctlInt("ioctl", req, arg)
	return int(r), err
}

// IoctlPtr makes ioctl(f, req, arg) for a request whose argument is the
// address of a buffer: arg must point to memory laid out as the ABI's
// struct for req (size it from Kernel.ABI().Struct). Stack memory is fine:
// the pointer stays valid until the kernel has used it.
func (f *Fd) IoctlPtr(req uint64, arg unsafe.Pointer) (int, error) {
	r, err := f.ioctlPtr("ioctl", req, arg)
	return int(r), err
}

// IoctlBuf is IoctlPtr for a request whose argument is a byte buffer the
// caller owns (for example a raw struct built with the ABI's layout). An
// empty buf passes a null pointer.
func (f *Fd) IoctlBuf(req uint64, buf []byte) (int, error) {
	r, err := f.ioctlPtr("ioctl", req, bufPtr(buf))
	return int(r), err
}
