package api_test

import (
	"errors"
	"os"
	"testing"

	"github.com/anykernel/anykernel/api"
)

// TestAgainAllocs: a nonblocking read or write that would block costs no
// allocation, and its error is still the wrapped EAGAIN (errors.Is,
// *os.SyscallError naming the call).
func TestAgainAllocs(t *testing.T) {
	k := host(t)
	r, w, err := k.Pipe2(api.O_NONBLOCK | api.O_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	buf := make([]byte, 64<<10)
	_, err = r.Read(buf[:1])
	var se *os.SyscallError
	if !errors.Is(err, api.EAGAIN) || !errors.As(err, &se) || se.Syscall != "read" {
		t.Fatalf("read of an empty nonblocking pipe: %v", err)
	}
	if a := testing.AllocsPerRun(100, func() { r.Read(buf[:1]) }); a != 0 {
		t.Errorf("EAGAIN read: %v allocs", a)
	}
	for { // fill the pipe
		if _, err := w.Write(buf); err != nil {
			if !errors.Is(err, api.EAGAIN) {
				t.Fatal(err)
			}
			break
		}
	}
	if a := testing.AllocsPerRun(100, func() { w.Write(buf[:1]) }); a != 0 {
		t.Errorf("EAGAIN write: %v allocs", a)
	}
}
