package api_test

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/backend/native"
)

// Opening and reading a file: an *api.Fd is an io.Reader, and Close is
// idempotent, so the deferred Close is safe even after an explicit one.
func Example_openAndRead() {
	k, err := native.New()
	if err != nil {
		panic(err)
	}
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "greeting")
	os.WriteFile(path, []byte("hello from the kernel\n"), 0o644)

	f, err := k.Open(path, api.O_RDONLY|api.O_CLOEXEC, 0)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		panic(err)
	}
	var st api.Stat
	if err := f.Stat(&st); err != nil {
		panic(err)
	}
	fmt.Printf("%q, %d bytes, regular: %v\n", b, st.Size, st.IsRegular())
	// Output: "hello from the kernel\n", 22 bytes, regular: true
}

// A connected pair of unix stream sockets.
func Example_socketpair() {
	k, _ := native.New()
	a, b, err := k.Socketpair(api.AF_UNIX, api.SOCK_STREAM, api.SOCK_CLOEXEC, 0)
	if err != nil {
		panic(err)
	}
	defer a.Close()
	defer b.Close()
	a.Write([]byte("ping"))
	buf := make([]byte, 16)
	n, _ := b.Read(buf)
	fmt.Println(string(buf[:n]))
	// Output: ping
}

// An epoll loop: the event iterator reuses the caller's buffer, so waiting
// allocates nothing per event.
func Example_epoll() {
	k, _ := native.New()
	ep, err := k.EpollCreate1(api.EPOLL_CLOEXEC)
	if err != nil {
		panic(err)
	}
	defer ep.Close()
	r, w, err := k.Pipe2(api.O_CLOEXEC | api.O_NONBLOCK)
	if err != nil {
		panic(err)
	}
	defer r.Close()
	defer w.Close()
	if err := ep.Add(r, api.EPOLLIN, 42); err != nil {
		panic(err)
	}
	w.Write([]byte("x"))

	buf := make([]api.EpollEvent, 8)
	for ev, err := range ep.Wait(buf, 1000) {
		if err != nil {
			panic(err)
		}
		fmt.Println("ready:", ev.Data, ev.Events&api.EPOLLIN != 0)
		break
	}
	// Output: ready: 42 true
}

// Errors are api.Errno values wrapped with the call and the path: test them
// by kind with the fs sentinels, or by name.
func Example_errors() {
	k, _ := native.New()
	_, err := k.Open("/nonexistent/file", api.O_RDONLY, 0)
	fmt.Println(errors.Is(err, fs.ErrNotExist), errors.Is(err, api.ENOENT))
	var e api.Errno
	errors.As(err, &e)
	fmt.Println(e.Name(), "-", err)

	_, err = api.ParseOpenFlags("rdonly,creat,bogus")
	fmt.Println(err)
	// Output:
	// true true
	// ENOENT - openat /nonexistent/file: No such file or directory
	// api: unknown OpenFlags word "bogus" in "rdonly,creat,bogus"
}
