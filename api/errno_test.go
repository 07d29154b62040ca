package api_test

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
	"testing"

	"github.com/anykernel/anykernel/api"
)

func TestErrnoNamesAndMessages(t *testing.T) {
	for _, tc := range []struct {
		e    api.Errno
		name string
		msg  string
	}{
		{api.ENOENT, "ENOENT", "No such file or directory"},
		{api.EACCES, "EACCES", "Permission denied"},
		{api.EAGAIN, "EAGAIN", "Resource temporarily unavailable"},
		{api.Errno(9999), "errno 9999", "errno 9999"},
	} {
		if got := tc.e.Name(); got != tc.name {
			t.Errorf("%d.Name() = %q, want %q", uintptr(tc.e), got, tc.name)
		}
		if got := tc.e.Error(); got != tc.msg {
			t.Errorf("%s.Error() = %q, want %q", tc.name, got, tc.msg)
		}
	}
	if api.EWOULDBLOCK != api.EAGAIN {
		t.Errorf("EWOULDBLOCK is an alias of EAGAIN")
	}
}

func TestErrnoIs(t *testing.T) {
	for _, tc := range []struct {
		err    error
		target error
		want   bool
	}{
		{api.ENOENT, fs.ErrNotExist, true},
		{api.EEXIST, fs.ErrExist, true},
		{api.ENOTEMPTY, fs.ErrExist, true},
		{api.EPERM, fs.ErrPermission, true},
		{api.EACCES, fs.ErrPermission, true},
		{api.ENOSYS, errors.ErrUnsupported, true},
		{api.EINVAL, fs.ErrNotExist, false},
		{&fs.PathError{Op: "openat", Path: "/x", Err: api.ENOENT}, fs.ErrNotExist, true},
		{&fs.PathError{Op: "openat", Path: "/x", Err: api.ENOENT}, api.ENOENT, true},
		{os.NewSyscallError("read", api.EBADF), api.EBADF, true},
	} {
		if got := errors.Is(tc.err, tc.target); got != tc.want {
			t.Errorf("errors.Is(%v, %v) = %v, want %v", tc.err, tc.target, got, tc.want)
		}
	}
	// Neutral numbers are Linux amd64's, so they agree with syscall.Errno on
	// this host: a program can mix the two while porting.
	if uintptr(api.ENOENT) != uintptr(syscall.ENOENT) || uintptr(api.EPIPE) != uintptr(syscall.EPIPE) {
		t.Errorf("neutral errnos are not Linux amd64's")
	}
}

func TestErrnoTemporary(t *testing.T) {
	if !api.EAGAIN.Timeout() || !api.EINTR.Temporary() || api.ENOENT.Temporary() {
		t.Errorf("Timeout/Temporary classification is wrong")
	}
}
