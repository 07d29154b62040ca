package api

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
)

// Errno is an error number in api's neutral numbering, which is Linux's
// generic (amd64) numbering; each Kernel translates its ABI's numbers into
// it, so errors compare the same whatever the backend. The constants
// (ENOENT, EINVAL, ...) are generated from the linux/amd64 table.
type Errno uintptr

// Name returns the symbolic name, e.g. "ENOENT".
func (e Errno) Name() string {
	if int(e) < len(errnoNames) && errnoNames[e] != "" {
		return errnoNames[e]
	}
	return "errno " + strconv.Itoa(int(e))
}

// Error returns the C library's message for e.
func (e Errno) Error() string {
	if int(e) < len(errnoMessages) && errnoMessages[e] != "" {
		return errnoMessages[e]
	}
	return "errno " + strconv.Itoa(int(e))
}

// String returns Name, so that %v in logs shows "ENOENT" where %s of an
// error chain shows the message.
func (e Errno) String() string { return e.Name() }

// Is makes errors.Is(err, fs.ErrNotExist) and its siblings work, as
// syscall.Errno does.
func (e Errno) Is(target error) bool {
	switch target {
	case fs.ErrPermission:
		return e == EACCES || e == EPERM
	case fs.ErrExist:
		return e == EEXIST || e == ENOTEMPTY
	case fs.ErrNotExist:
		return e == ENOENT
	case errors.ErrUnsupported:
		return e == ENOSYS || e == EOPNOTSUPP
	case os.ErrDeadlineExceeded:
		return e == ETIMEDOUT
	}
	return false
}

// Timeout reports whether e means that an operation timed out, for
// net.Error-style checks.
func (e Errno) Timeout() bool { return e == EAGAIN || e == ETIMEDOUT }

// Temporary reports whether retrying may succeed.
func (e Errno) Temporary() bool { return e == EINTR || e == EMFILE || e == ENFILE || e.Timeout() }

// pathErr wraps e with the call and the path it was given, like os does.
func pathErr(call, path string, e Errno) error {
	return &fs.PathError{Op: call, Path: path, Err: e}
}

// callErr wraps e with the name of the call.
func callErr(call string, e Errno) error {
	if e == EAGAIN {
		if err := againErrs[call]; err != nil {
			return err
		}
	}
	return os.NewSyscallError(call, e)
}

// againErrs are the wrapped EAGAINs of the calls a nonblocking descriptor
// makes in a loop, made once: a poller (api/knet's, or a user's) meets
// EAGAIN on every miss, and these paths must not allocate. They are
// shared values, like io.EOF: compare them with errors.Is, never modify.
var againErrs = func() map[string]error {
	m := map[string]error{}
	for _, c := range []string{
		"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv2", "pwritev2",
		"recvfrom", "sendto", "recvmsg", "sendmsg", "recvmmsg", "sendmmsg",
		"accept", "accept4", "splice", "tee", "sendfile",
	} {
		m[c] = os.NewSyscallError(c, EAGAIN)
	}
	return m
}()

// argErr reports bad input detected before any call was made: it is EINVAL
// wrapped with what was wrong, so errors.Is(err, api.EINVAL) holds.
type argErr struct {
	call, what string
}

func (e *argErr) Error() string { return e.call + ": " + e.what }
func (e *argErr) Unwrap() error { return EINVAL }

func badArg(call, what string) error { return &argErr{call, what} }
