package hypercall

import (
	"errors"
	"io/fs"
	"os"

	"github.com/anykernel/anykernel/api"
)

// ErrNoXen is returned by Open when the program does not run on Xen in
// ring 0 under the anykernel shim (on plain QEMU, on a host). It unwraps
// to api.ENOSYS, so errors.Is(err, errors.ErrUnsupported) holds too.
var ErrNoXen error = noXen{}

type noXen struct{}

func (noXen) Error() string { return "not running on Xen" }
func (noXen) Unwrap() error { return api.ENOSYS }

// xenstoreErrors maps the error strings xenstored sends (the xsd_errors
// table of io/xs_wire.h, which names the errno of the daemon's C library)
// to api's errnos, in the table's order.
var xenstoreErrors = []struct {
	name  string
	errno api.Errno
}{
	{"EINVAL", api.EINVAL},
	{"EACCES", api.EACCES},
	{"EEXIST", api.EEXIST},
	{"EISDIR", api.EISDIR},
	{"ENOENT", api.ENOENT},
	{"ENOMEM", api.ENOMEM},
	{"ENOSPC", api.ENOSPC},
	{"EIO", api.EIO},
	{"ENOTEMPTY", api.ENOTEMPTY},
	{"ENOSYS", api.ENOSYS},
	{"EROFS", api.EROFS},
	{"EBUSY", api.EBUSY},
	{"EAGAIN", api.EAGAIN},
	{"EISCONN", api.EISCONN},
	{"E2BIG", api.E2BIG},
	{"EPERM", api.EPERM},
}

// XenstoreError is an error string from xenstored that is not in the
// protocol's table (a newer or non-conforming daemon); it unwraps to
// api.EIO.
type XenstoreError struct {
	Name string
}

func (e *XenstoreError) Error() string { return "xenstore error " + e.Name }

// Unwrap returns api.EIO.
func (e *XenstoreError) Unwrap() error { return api.EIO }

// xenstoreErrno maps an error string to an error: an api.Errno for the
// protocol's strings, a *XenstoreError otherwise.
func xenstoreErrno(name string) error {
	for _, e := range xenstoreErrors {
		if e.name == name {
			return e.errno
		}
	}
	return &XenstoreError{Name: name}
}

// hypercallErr turns a negative hypercall result into an error named after
// the operation. Xen's public errno values (xen/errno.h) are Linux's, which
// are api's neutral numbers (checked against the headers by
// TestLayoutAgainstC).
func hypercallErr(op string, r int64) error {
	if r >= 0 {
		return nil
	}
	return os.NewSyscallError(op, api.Errno(-r))
}

// pathErr wraps a xenstore failure with the operation and the path.
func pathErr(op, path string, err error) error {
	return &fs.PathError{Op: op, Path: path, Err: err}
}

// errBroken marks a xenstore connection that can no longer be used: the
// other side broke the protocol, or a request was abandoned halfway
// through being written.
var errBroken = errors.New("xenstore connection broken")
