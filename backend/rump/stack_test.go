//go:build rump && cgo

package rump

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/anykernel/anykernel/api"
)

// TestStackBuffersSurviveGrowth is the memory-safety proof of the backend's
// nosplit path: api keeps struct and I/O buffers on the goroutine's stack
// and passes their addresses; if anything between api and the C call grew
// the stack, the kernel would write into the old copy. Goroutines start
// with small stacks, recurse to a random depth (each level grows the stack
// again, so the buffers of the calls at the bottom sit in freshly moved
// stacks), then read and fstat through rump into stack buffers and check
// every byte.
func TestStackBuffersSurviveGrowth(t *testing.T) {
	k := kernel(t)
	content := make([]byte, 4096)
	for i := range content {
		content[i] = byte(i*7 + i>>8)
	}
	name := fmt.Sprintf("/tmp/stack-%d", k.Getpid())
	f, err := k.Open(name, api.O_RDWR|api.O_CREAT|api.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(content); err != nil {
		t.Fatal(err)
	}
	var want api.Stat
	if err := f.Stat(&want); err != nil {
		t.Fatal(err)
	}

	const goroutines, rounds = 64, 200
	var wg sync.WaitGroup
	errc := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(seed int) {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				depth := (seed*31 + r*17) % 97
				if err := deep(depth, k, f, content, &want, (seed+r)%len(content)); err != nil {
					errc <- err
					return
				}
				if r%32 == 0 {
					runtime.GC() // and shrink stacks while others run
				}
			}
		}(g)
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
}

// deep recurses with a frame big enough to force stack growth, then makes
// the calls from the bottom.
//
//go:noinline
func deep(n int, k *api.Kernel, f *api.Fd, content []byte, want *api.Stat, off int) error {
	var pad [256]byte
	pad[n%256] = byte(n)
	if n > 0 {
		if err := deep(n-1, k, f, content, want, off); err != nil {
			return err
		}
		if pad[n%256] != byte(n) {
			return fmt.Errorf("frame corrupted at depth %d", n)
		}
		return nil
	}
	var st api.Stat // on the stack: fstat's raw buffer lives in api's frame
	if err := f.Stat(&st); err != nil {
		return err
	}
	if st.Ino != want.Ino || st.Size != want.Size || st.Mode != want.Mode {
		return fmt.Errorf("fstat: %+v, want %+v", st, *want)
	}
	var buf [512]byte // read straight into this frame
	n2, err := f.ReadAt(buf[:], int64(off))
	if err != nil && n2 == 0 {
		return err
	}
	if !bytes.Equal(buf[:n2], content[off:off+n2]) {
		return fmt.Errorf("pread at %d: bytes differ", off)
	}
	return nil
}
