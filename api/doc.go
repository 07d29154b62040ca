// Package api is the one Go API for Unix system calls, written once and
// served by interchangeable backends: the host kernel (backend/native), a
// NetBSD rump kernel linked into the process (backend/rump) and the library
// OS of a Xen unikernel (backend/xen).
//
// A Kernel wraps a Backend, which names the ABI it speaks (an abi.Table) and
// performs calls. Constants are typed and neutral (O_CREAT, SIGTERM, AF_INET
// have Linux amd64's values); each Kernel translates them to its ABI once at
// New, so on the host kernel most translations are identities and cost
// nothing. Errors are Errno values, wrapped with the call and path like os
// does: errors.Is(err, fs.ErrNotExist) and errors.Is(err, api.ENOENT) both
// work. Descriptors are *Fd values that close themselves when unreachable.
//
// Calls take caller-owned buffers and do not allocate on the read, write,
// stat and epoll paths.
package api
