// Package rump is the backend for a NetBSD rump kernel: NetBSD's kernel
// code (file systems, the TCP/IP stack, drivers) running as libraries
// inside the Go process, or in a rump_server process reached through
// librumpclient. It speaks NetBSD's ABI through the abi/netbsd tables, so
// every api call works on it unchanged.
//
//	k, err := rump.New(rump.Options{Components: []string{"vfs", "fs.tmpfs"}})
//	err = rump.MountTmpfs(k, "/tmp", rump.TmpfsArgs{Mode: 0o1777})
//	f, err := k.Open("/tmp/hello", api.O_RDWR|api.O_CREAT, 0o644)
//
// The backend needs the build tag rump and cgo, and a rump kernel built
// with buildrump.sh at run time: New loads librump and the chosen
// components with dlopen from $RUMP_PREFIX/lib, so building needs only a C
// compiler and a missing kernel is an error from New (tests skip with it),
// never a link failure:
//
//	./buildrump.sh -d /opt/rump          # outside this repository
//	export RUMP_PREFIX=/opt/rump
//	go test -tags rump ./...
//
// Calls go through the generic rump_syscall entry with NetBSD's argument
// layout; the path from api to C is nosplit (see Backend.Syscall), so api's
// stack buffers are safe. The lwproc API (Rfork, NewLWP, SwitchLWP,
// ReleaseLWP, CurLWP) binds lwps per Kernel rather than per thread, so a
// goroutine's calls always run in its Kernel's process. Register and
// Remove expose host files through etfs, and the Mount* helpers mount
// NetBSD file systems with their typed argument structs; MountPtys puts
// ptyfs on /dev/pts, after which api's pseudo-terminal calls (Openpty,
// Ptsname, ...) work as on NetBSD. Dial reaches a
// rump_server; rumpserver.Start runs one and returns once it accepts
// connections.
//
// Without the tags this package holds only the types and helpers that need
// no rump kernel (options, mount arguments).
package rump
