//go:build rump && cgo

package rump

/*
#cgo CFLAGS: -O2 -Wall -Wno-unused-function
#cgo LDFLAGS: -ldl -lpthread
#include <stdlib.h>
#include "rump.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unsafe"

	"github.com/anykernel/anykernel/abi"
	"github.com/anykernel/anykernel/api"
)

// frame mirrors struct anyk_frame (rump.h).
type frame struct {
	ctx uintptr
	nr  uintptr
	a   [6]uintptr
	r1  uintptr
	r2  uintptr
	err uintptr
}

// cgocall is the runtime's entry from Go to C, the one cgo's generated
// wrappers use. Unlike those wrappers it is nosplit, so calling it directly
// keeps the whole path from api to C free of stack-growth checks: address
// arguments into the caller's stack stay valid until anyk_call returns
// (the stack of a goroutine inside a C call is never moved or shrunk).
// The runtime marks it as linkname-able ("hall of shame" list).
//
//go:linkname cgocall runtime.cgocall
//go:noescape
func cgocall(fn, arg unsafe.Pointer) int32

// asmcgocall runs a C function on the thread's system stack without
// telling the scheduler (cgocall's entersyscall/exitsyscall), like a raw
// syscall: for calls that cannot block, where the hand-off would cost
// more than the call.
//
//go:linkname asmcgocall runtime.asmcgocall
//go:noescape
func asmcgocall(fn, arg unsafe.Pointer) int32

// callFn is anyk_call, the C trampoline.
var callFn = unsafe.Pointer(C.anyk_call)

// Backend is one rump process (or one lwp of it, or a remote server's
// process) as an api.Backend. Every call makes sure, in the same C call
// that enters the kernel, that the host thread running it has an lwp of
// this process bound: goroutines move between threads freely and their
// calls still never run in another process. A thread keeps the lwp it
// used for its next call into the same process, which then costs one
// compare-and-swap; a call into another process hands it back first.
type Backend struct {
	ctx    *C.struct_anyk_ctx
	c      uintptr // ctx as the frame carries it
	name   string
	remote bool
	pid    int
	lwp    *LWP // set for a Kernel bound to one lwp (SwitchLWP)
}

var _ api.Backend = (*Backend)(nil)

// Name implements api.Backend: "rump", or "rump-remote" through
// librumpclient.
func (b *Backend) Name() string { return b.name }

// ABI implements api.Backend: NetBSD's ABI for the host's architecture,
// which is what a rump kernel speaks whatever the host.
func (b *Backend) ABI() *abi.Table { return table }

// Syscall implements api.Backend through rump_syscall (or
// rumpclient_syscall), with the arguments laid out as NetBSD's syscallargs
// (one register_t each). The goroutine's thread is handed off to the Go
// scheduler while the call runs, so a call that blocks in the rump kernel
// blocks only its goroutine.
//
//go:nosplit
func (b *Backend) Syscall(nr, a1, a2, a3, a4, a5, a6 uintptr) (r1, r2, errno uintptr) {
	var f frame
	f.fill(b.c, nr, a1, a2, a3, a4, a5, a6)
	cgocall(callFn, unsafe.Pointer(&f))
	return f.r1, f.r2, f.err
}

// fill stores a call in the frame field by field: a composite literal
// would be built in a temporary and copied (twice the stores on every
// call).
//
//go:nosplit
func (f *frame) fill(ctx, nr, a1, a2, a3, a4, a5, a6 uintptr) {
	f.ctx, f.nr = ctx, nr
	f.a[0], f.a[1], f.a[2], f.a[3], f.a[4], f.a[5] = a1, a2, a3, a4, a5, a6
}

// RawSyscall implements api.Backend for the calls api knows never block
// (getpid, umask, ...): it enters C without the scheduler hand-off, so the
// goroutine keeps its P for the few hundred nanoseconds the call takes.
// A remote kernel's calls wait for the server, so they always hand off.
//
//go:nosplit
func (b *Backend) RawSyscall(nr, a1, a2, a3, a4, a5, a6 uintptr) (r1, r2, errno uintptr) {
	var f frame
	f.fill(b.c, nr, a1, a2, a3, a4, a5, a6)
	if b.remote {
		cgocall(callFn, unsafe.Pointer(&f))
	} else {
		asmcgocall(callFn, unsafe.Pointer(&f))
	}
	return f.r1, f.r2, f.err
}

// Pid is the rump process's id (0 for a remote kernel, whose server
// numbers the connection's process itself).
func (b *Backend) Pid() int { return b.pid }

// Remote reports whether the kernel is a rump_server reached through
// librumpclient.
func (b *Backend) Remote() bool { return b.remote }

// boot is the process-wide rump kernel: a process can host only one.
var boot struct {
	sync.Mutex
	done    bool
	err     error
	libs    map[string]bool
	prefix  string
	errnos  map[uintptr]api.Errno // NetBSD errno -> api's
	hostErr map[int]uintptr       // host errno -> NetBSD's, for librumpclient's own errors
}

// setABI tells the C side the numbers it needs from the table.
func setABI() error {
	need := func(name string) (C.int, error) {
		e, ok := table.ErrnoByName(name)
		if !ok {
			return 0, fmt.Errorf("rump: the ABI table lacks %s", name)
		}
		return C.int(e.Nr), nil
	}
	var a C.struct_anyk_abi
	nr, ok := table.Syscall("getpid")
	if !ok {
		return errors.New("rump: the ABI table lacks getpid")
	}
	a.getpid = C.int(nr)
	var err error
	for _, x := range []struct {
		p    *C.int
		name string
	}{{&a.esrch, "ESRCH"}, {&a.enomem, "ENOMEM"}, {&a.enosys, "ENOSYS"}, {&a.eopnotsupp, "EOPNOTSUPP"}, {&a.eio, "EIO"}, {&a.enotconn, "ENOTCONN"}} {
		if *x.p, err = need(x.name); err != nil {
			return err
		}
	}
	C.anyk_set_abi(&a)
	boot.errnos = map[uintptr]api.Errno{}
	byName := map[string]api.Errno{}
	for i := api.Errno(1); i < 4096; i++ {
		if n := i.Name(); !strings.HasPrefix(n, "errno ") {
			byName[n] = i
		}
	}
	for _, e := range table.Errnos {
		if n, ok := byName[e.Name]; ok {
			boot.errnos[e.Nr] = n
		}
	}
	return nil
}

// errnoOf converts a NetBSD errno the C side returned.
func errnoOf(e C.int) api.Errno {
	if n, ok := boot.errnos[uintptr(e)]; ok {
		return n
	}
	return api.Errno(1<<16 + int(e))
}

// New boots the rump kernel with the chosen components, once per Go
// process, and returns a Kernel for a new rump process (an empty
// descriptor table, its working directory the kernel's root). Later calls
// return further processes of the same kernel; they may not ask for
// components the first boot did not load.
//
// Without a rump kernel the error says how to get one (Unavailable).
func New(opts Options) (*api.Kernel, error) {
	if table == nil {
		return nil, fmt.Errorf("rump: no NetBSD ABI table for %s", runtime.GOARCH)
	}
	libs, err := Libraries(opts.Components)
	if err != nil {
		return nil, err
	}
	boot.Lock()
	defer boot.Unlock()
	if !boot.done {
		boot.done = true
		boot.err = bootKernel(&opts, libs)
	}
	if boot.err != nil {
		return nil, boot.err
	}
	var missing []string
	for _, l := range libs {
		if !boot.libs[l] {
			missing = append(missing, l)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("rump: the kernel of this process was booted without %s (a process hosts one rump kernel; boot it with every component it needs)", strings.Join(missing, ", "))
	}
	k, err := newProc(nil, RFCFDG)
	if err != nil {
		return nil, err
	}
	// Like a program started from a shell, the process leads its own
	// session and process group (rump makes it a member of group 0).
	if _, err := k.Setsid(); err != nil {
		return nil, err
	}
	return k, nil
}

func bootKernel(opts *Options, libs []string) error {
	if err := setABI(); err != nil {
		return err
	}
	prefix := opts.prefix()
	env := map[string]string{}
	if opts.NCPU > 0 {
		env["RUMP_NCPU"] = strconv.Itoa(opts.NCPU)
	}
	if opts.Verbose {
		env["RUMP_VERBOSE"] = "1"
	}
	if opts.MemLimit > 0 {
		env["RUMP_MEMLIMIT"] = strconv.FormatInt(opts.MemLimit, 10)
	}
	for k, v := range env {
		old, had := os.LookupEnv(k)
		os.Setenv(k, v)
		defer func() {
			if had {
				os.Setenv(k, old)
			} else {
				os.Unsetenv(k)
			}
		}()
	}
	// Link order: components before what they build on, librumpuser
	// last (see umbrella.go).
	var needed []string
	for i := len(libs) - 1; i >= 0; i-- {
		needed = append(needed, libPath(prefix, libs[i]))
	}
	needed = append(needed, libPath(prefix, "librumpuser.so"))
	img, err := umbrellaELF(needed)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp("", "anykernel-rump-*.so")
	if err != nil {
		return fmt.Errorf("rump: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(img)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("rump: %w", err)
	}
	cpath := C.CString(f.Name())
	defer C.free(unsafe.Pointer(cpath))
	var ebuf [1024]C.char
	if C.anyk_load(cpath, &ebuf[0], C.size_t(len(ebuf))) != 0 {
		msg := C.GoString(&ebuf[0])
		_, serr := os.Stat(libPath(prefix, "librump.so"))
		if (prefix != "" && serr != nil) || (prefix == "" && strings.Contains(msg, "cannot open shared object")) {
			where := "the loader's search path (RUMP_PREFIX is not set)"
			if prefix != "" {
				where = prefix + "/lib"
			}
			return fmt.Errorf("rump: %s (looked in %s: %s)", Unavailable, where, msg)
		}
		return fmt.Errorf("rump: loading components: %s", msg)
	}
	if e := C.anyk_boot(C.int(opts.Signals.rump())); e != 0 {
		return fmt.Errorf("rump: rump_init: %w", errnoOf(e))
	}
	boot.prefix = prefix
	boot.libs = map[string]bool{}
	for _, l := range libs {
		boot.libs[l] = true
	}
	return nil
}

// libPath names a library in prefix/lib, or by name alone for the
// loader's search path.
func libPath(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "/lib/" + name
}

// newProc makes a process forked from parent's (from the kernel's own
// context when parent is nil) and its Kernel.
func newProc(parent *Backend, flags RforkFlags) (*api.Kernel, error) {
	var pctx *C.struct_anyk_ctx
	if parent != nil {
		pctx = parent.ctx
	}
	var e C.int
	ctx := C.anyk_newproc(pctx, C.int(flags), &e)
	if ctx == nil {
		return nil, &os.SyscallError{Syscall: "rump_lwproc_rfork", Err: errnoOf(e)}
	}
	b := &Backend{ctx: ctx, c: uintptr(unsafe.Pointer(ctx)), name: "rump", pid: int(ctx.pid)}
	return kernelOf(b)
}

func kernelOf(b *Backend) (*api.Kernel, error) {
	k, err := api.New(b)
	if err != nil {
		C.anyk_release(b.ctx)
		return nil, err
	}
	// A process nobody can reach any more ends, as a host process would
	// when its last thread exits. Descriptors hold their Kernel, so this
	// happens only once they are unreachable too.
	if !b.remote {
		runtime.AddCleanup(b, func(ctx *C.struct_anyk_ctx) { C.anyk_release(ctx) }, b.ctx)
	}
	return k, nil
}

// backendOf returns k's rump backend.
func backendOf(op string, k *api.Kernel) (*Backend, error) {
	if k == nil {
		return nil, &os.SyscallError{Syscall: op, Err: api.EINVAL}
	}
	b, ok := k.Backend().(*Backend)
	if !ok {
		return nil, fmt.Errorf("rump: %s: kernel %s is not a rump kernel", op, k.Name())
	}
	return b, nil
}

// Rfork makes a new process in k's rump kernel, a child of k's process,
// and returns its Kernel (rump_lwproc_rfork): RFCFDG gives it an empty
// descriptor table, RFFDG a copy of k's, RFNONE shares k's. The child's
// calls run in it whatever goroutine makes them.
func Rfork(k *api.Kernel, flags RforkFlags) (*api.Kernel, error) {
	b, err := backendOf("rfork", k)
	if err != nil {
		return nil, err
	}
	if flags != RFNONE && flags != RFFDG && flags != RFCFDG {
		return nil, &os.SyscallError{Syscall: "rump_lwproc_rfork", Err: api.EINVAL}
	}
	if b.remote {
		return nil, &os.SyscallError{Syscall: "rump_lwproc_rfork", Err: api.ENOTSUP}
	}
	return newProc(b, flags)
}

// Release ends k's process: its free lwps now, the ones busy in a call
// when the call returns. Its descriptors close; calls on k fail with ESRCH
// from then on. A process is also released when its Kernel becomes
// unreachable.
func Release(k *api.Kernel) error {
	b, err := backendOf("release", k)
	if err != nil {
		return err
	}
	if b.lwp != nil {
		return ReleaseLWP(b.lwp)
	}
	if e := C.anyk_release(b.ctx); e != 0 {
		return &os.SyscallError{Syscall: "release", Err: errnoOf(e)}
	}
	return nil
}

// Register makes the host file hostPath appear inside the rump kernel as
// key (an absolute path such as "/dev/img" or "/disk.iso"), as kind, from
// offset for size bytes (SizeToEnd: to its end; rump bounds block and
// character devices by size, a regular file reads on to the host file's
// end), through rump's etfs
// (rump_pub_etfs_register_withsize). It needs the vfs component.
func Register(key, hostPath string, kind EtfsType, offset, size uint64) error {
	if kind < EtfsReg || kind > EtfsDirSubdirs {
		return &os.PathError{Op: "etfs_register", Path: key, Err: api.EINVAL}
	}
	if strings.IndexByte(key, 0) >= 0 || strings.IndexByte(hostPath, 0) >= 0 {
		return &os.PathError{Op: "etfs_register", Path: key, Err: api.EINVAL}
	}
	if !loaded() {
		return &os.PathError{Op: "etfs_register", Path: key, Err: errors.New(Unavailable)}
	}
	ck, ch := C.CString(key), C.CString(hostPath)
	defer C.free(unsafe.Pointer(ck))
	defer C.free(unsafe.Pointer(ch))
	if e := C.anyk_etfs_register(ck, ch, C.int(kind), C.uint64_t(offset), C.uint64_t(size)); e != 0 {
		return &os.PathError{Op: "etfs_register", Path: key, Err: errnoOf(e)}
	}
	return nil
}

// Remove undoes Register.
func Remove(key string) error {
	if strings.IndexByte(key, 0) >= 0 {
		return &os.PathError{Op: "etfs_remove", Path: key, Err: api.EINVAL}
	}
	if !loaded() {
		return &os.PathError{Op: "etfs_remove", Path: key, Err: errors.New(Unavailable)}
	}
	ck := C.CString(key)
	defer C.free(unsafe.Pointer(ck))
	if e := C.anyk_etfs_remove(ck); e != 0 {
		return &os.PathError{Op: "etfs_remove", Path: key, Err: errnoOf(e)}
	}
	return nil
}

func loaded() bool {
	boot.Lock()
	defer boot.Unlock()
	return boot.done && boot.err == nil
}

// remote is the process's one librumpclient connection.
var remote struct {
	sync.Mutex
	url string
	k   *api.Kernel
}

// Dial connects to a rump_server ("unix:///path/to/socket",
// "tcp://127.0.0.1:port") through librumpclient and returns a Kernel for
// the process the server made for this connection. The kernel runs in the
// server's process, so a crash there cannot take this program down; a
// call after the server died fails with ENOTCONN.
//
// librumpclient holds one connection per host process: Dial again with the
// same URL returns the same Kernel, with another URL an error. New and
// Dial may be used together.
func Dial(url string) (*api.Kernel, error) {
	if table == nil {
		return nil, fmt.Errorf("rump: no NetBSD ABI table for %s", runtime.GOARCH)
	}
	if strings.IndexByte(url, 0) >= 0 || !strings.Contains(url, "://") {
		return nil, fmt.Errorf("rump: dial %q: want unix:///path or tcp://host:port: %w", url, api.EINVAL)
	}
	remote.Lock()
	defer remote.Unlock()
	if remote.k != nil {
		if remote.url == url {
			return remote.k, nil
		}
		return nil, fmt.Errorf("rump: dial %s: already connected to %s (librumpclient holds one connection per process)", url, remote.url)
	}
	boot.Lock()
	if boot.errnos == nil {
		if err := setABI(); err != nil {
			boot.Unlock()
			return nil, err
		}
	}
	boot.Unlock()
	lib := "librumpclient.so"
	if p := (&Options{}).prefix(); p != "" {
		lib = p + "/lib/" + lib
	}
	clib := C.CString(lib)
	defer C.free(unsafe.Pointer(clib))
	var ebuf [512]C.char
	if C.anyk_client_load(clib, &ebuf[0], C.size_t(len(ebuf))) != 0 {
		return nil, fmt.Errorf("rump: %s (%s)", Unavailable, C.GoString(&ebuf[0]))
	}
	curl := C.CString(url)
	defer C.free(unsafe.Pointer(curl))
	var e C.int
	ctx := C.anyk_client_init(curl, &e)
	if ctx == nil {
		return nil, fmt.Errorf("rump: dial %s: rumpclient_init: %w", url, syscall.Errno(e))
	}
	b := &Backend{ctx: ctx, c: uintptr(unsafe.Pointer(ctx)), name: "rump-remote", remote: true}
	k, err := kernelOf(b)
	if err != nil {
		return nil, err
	}
	b.pid = k.Getpid()
	remote.url, remote.k = url, k
	return k, nil
}
