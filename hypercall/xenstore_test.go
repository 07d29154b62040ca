package hypercall

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anykernel/anykernel/api"
)

func TestXenstoreReadWrite(t *testing.T) {
	_, c := newFakeStore(t, 5)
	if v, err := c.Read("name"); err != nil || v != "guest" {
		t.Fatalf("Read(name) = %q, %v", v, err)
	}
	if d, err := c.DomainID(); err != nil || d != 5 {
		t.Fatalf("DomainID = %d, %v", d, err)
	}
	if n, err := c.Name(); err != nil || n != "guest" {
		t.Fatalf("Name = %q, %v", n, err)
	}
	if err := c.Write("data/k", "v1"); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Read("/local/domain/5/data/k"); err != nil || v != "v1" {
		t.Fatalf("Read(abs) = %q, %v", v, err)
	}
	// Binary values, an empty value and values bigger than the ring.
	for _, v := range []string{"", "a\x00b\xff", strings.Repeat("x", 3000), strings.Repeat("yz", 2000)} {
		if err := c.Write("data/big", v); err != nil {
			t.Fatalf("Write %d bytes: %v", len(v), err)
		}
		if got, err := c.Read("data/big"); err != nil || got != v {
			t.Fatalf("Read back %d bytes: got %d bytes, %v", len(v), len(got), err)
		}
	}
	if err := c.Write("data/sub/deep/k", "1"); err != nil {
		t.Fatal(err)
	}
	names, err := c.Directory("data")
	if err != nil || !slices.Equal(names, []string{"big", "k", "sub"}) {
		t.Fatalf("Directory(data) = %q, %v", names, err)
	}
	if names, err := c.Directory("data/sub/deep/k"); err != nil || len(names) != 0 {
		t.Fatalf("Directory(leaf) = %q, %v", names, err)
	}
	if err := c.Mkdir("data/empty"); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Read("data/empty"); err != nil || v != "" {
		t.Fatalf("Read(mkdir'ed) = %q, %v", v, err)
	}
	if err := c.Remove("data/sub"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read("data/sub/deep/k"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("read below removed node: %v, want ENOENT", err)
	}
	if p, err := c.DomainPath(5); err != nil || p != "/local/domain/5" {
		t.Fatalf("DomainPath = %q, %v", p, err)
	}
	if n, err := c.ReadInt("domid"); err != nil || n != 5 {
		t.Fatalf("ReadInt = %d, %v", n, err)
	}
	if _, err := c.ReadInt("name"); !errors.Is(err, api.EINVAL) {
		t.Fatalf("ReadInt(non-number) = %v, want EINVAL", err)
	}
}

func TestXenstoreErrors(t *testing.T) {
	_, c := newFakeStore(t, 5)
	for _, tc := range []struct {
		name string
		err  error
		want api.Errno
	}{
		{"missing", func() error { _, err := c.Read("data/nope"); return err }(), api.ENOENT},
		{"other domain", func() error { _, err := c.Read("/local/domain/0/name"); return err }(), api.EACCES},
		{"read-only", c.Write("name", "x"), api.EACCES},
		{"rm missing", c.Remove("data/nope"), api.ENOENT},
		{"empty path", c.Write("", "x"), api.EINVAL},
		{"NUL in path", c.Write("data/a\x00b", "x"), api.EINVAL},
		{"long path", c.Write(strings.Repeat("a", xenstoreRelPathMax+1), "x"), api.EINVAL},
		{"too big", c.Write("data/x", strings.Repeat("v", xenstorePayloadMax)), api.E2BIG},
		{"bad perm", c.SetPerms("data", []Perm{{0, 'x'}}), api.EINVAL},
		{"no perms", c.SetPerms("data", nil), api.EINVAL},
	} {
		var pe *fs.PathError
		if !errors.Is(tc.err, tc.want) || !errors.As(tc.err, &pe) || !strings.HasPrefix(pe.Op, "xenstore ") {
			t.Errorf("%s: %v, want a *fs.PathError with %v", tc.name, tc.err, tc.want.Name())
		}
	}
	// The payload limit is exact: path, NUL and value fill 4096 bytes.
	if err := c.Write("data/x", strings.Repeat("v", xenstorePayloadMax-len("data/x")-1)); err != nil {
		t.Errorf("write of exactly XENSTORE_PAYLOAD_MAX: %v", err)
	}
	if !errors.Is(xenstoreErrno("EWHAT"), api.EIO) {
		t.Errorf("an unknown error string must unwrap to EIO")
	}
	var xe *XenstoreError
	if err := xenstoreErrno("EWHAT"); !errors.As(err, &xe) || xe.Name != "EWHAT" {
		t.Errorf("unknown error: %v", err)
	}
	for _, e := range xenstoreErrors {
		if got := xenstoreErrno(e.name); got != e.errno || e.errno.Name() != e.name {
			t.Errorf("%s maps to %v", e.name, got)
		}
	}
}

func TestXenstorePerms(t *testing.T) {
	_, c := newFakeStore(t, 5)
	if err := c.Write("data/p", "x"); err != nil {
		t.Fatal(err)
	}
	perms, err := c.Perms("data/p")
	if err != nil || !slices.Equal(perms, []Perm{{5, 'n'}}) {
		t.Fatalf("Perms = %v, %v", perms, err)
	}
	want := []Perm{{5, 'r'}, {0, 'b'}, {7, 'w'}}
	if err := c.SetPerms("data/p", want); err != nil {
		t.Fatal(err)
	}
	if perms, err := c.Perms("data/p"); err != nil || !slices.Equal(perms, want) {
		t.Fatalf("Perms after set = %v, %v", perms, err)
	}
	for _, s := range []string{"", "r", "x5", "r-1", "r70000", "rx"} {
		if _, err := ParsePerm(s); !errors.Is(err, api.EINVAL) {
			t.Errorf("ParsePerm(%q) = %v, want EINVAL", s, err)
		}
	}
	if p, err := ParsePerm("b32752"); err != nil || p != (Perm{32752, 'b'}) || p.String() != "b32752" {
		t.Errorf("ParsePerm(b32752) = %v, %v", p, err)
	}
}

func TestXenstoreTransaction(t *testing.T) {
	s, c := newFakeStore(t, 5)
	tx, err := c.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Write("data/t", "in tx"); err != nil {
		t.Fatal(err)
	}
	if v, err := tx.Read("data/t"); err != nil || v != "in tx" {
		t.Fatalf("tx read = %q, %v", v, err)
	}
	if _, err := c.Read("data/t"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("uncommitted write visible outside: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Read("data/t"); err != nil || v != "in tx" {
		t.Fatalf("after commit = %q, %v", v, err)
	}
	if err := tx.Commit(); !errors.Is(err, api.EINVAL) {
		t.Fatalf("second commit: %v, want EINVAL", err)
	}

	// Abort discards.
	tx, _ = c.Begin()
	tx.Write("data/t", "aborted")
	if err := tx.Abort(); err != nil {
		t.Fatal(err)
	}
	if v, _ := c.Read("data/t"); v != "in tx" {
		t.Fatalf("after abort = %q", v)
	}

	// A conflicting writer makes Commit fail with EAGAIN...
	tx, _ = c.Begin()
	tx.Write("data/t", "loser")
	c.Write("data/other", "x")
	if err := tx.Commit(); !errors.Is(err, api.EAGAIN) {
		t.Fatalf("conflicting commit: %v, want EAGAIN", err)
	}
	// ...and Transaction retries.
	runs := 0
	err = c.Transaction(func(tx *Tx) error {
		runs++
		v, err := tx.Read("data/t")
		if err != nil {
			return err
		}
		if runs == 1 {
			c.Write("data/other", "y") // conflict once
		}
		return tx.Write("data/t", v+"+1")
	})
	if err != nil || runs != 2 {
		t.Fatalf("Transaction: %v after %d runs, want success after 2", err, runs)
	}
	if v, _ := c.Read("data/t"); v != "in tx+1" {
		t.Fatalf("after Transaction = %q", v)
	}
	// An error from fn aborts and is returned as is.
	boom := errors.New("boom")
	if err := c.Transaction(func(tx *Tx) error { tx.Write("data/t", "no"); return boom }); err != boom {
		t.Fatalf("Transaction error = %v", err)
	}
	if v, _ := c.Read("data/t"); v != "in tx+1" {
		t.Fatalf("after failed Transaction = %q", v)
	}
	s.mu.Lock()
	open := len(s.txs)
	s.mu.Unlock()
	if open != 0 {
		t.Errorf("%d transactions left open", open)
	}
}

func TestXenstoreWatch(t *testing.T) {
	_, c := newFakeStore(t, 5)
	w, err := c.Watch("data/w")
	if err != nil {
		t.Fatal(err)
	}
	if w.Path() != "data/w" {
		t.Errorf("Path = %q", w.Path())
	}
	// The initial event names the watched path.
	if p, err := w.Next(2 * time.Second); err != nil || p != "data/w" {
		t.Fatalf("initial event = %q, %v", p, err)
	}
	if _, err := w.Next(0); !errors.Is(err, api.ETIMEDOUT) {
		t.Fatalf("Next with nothing queued: %v, want ETIMEDOUT", err)
	}
	c.Write("data/w/a", "1")
	c.Write("data/unrelated", "1")
	c.Write("data/w", "2")
	for _, want := range []string{"data/w/a", "data/w"} {
		if p, err := w.Next(2 * time.Second); err != nil || p != want {
			t.Fatalf("event = %q, %v, want %q", p, err, want)
		}
	}
	// Events while another goroutine waits in Next reach it.
	got := make(chan string)
	go func() {
		p, err := w.Next(5 * time.Second)
		if err != nil {
			p = err.Error()
		}
		got <- p
	}()
	time.Sleep(20 * time.Millisecond)
	if err := c.Write("data/w/b", "3"); err != nil {
		t.Fatal(err)
	}
	if p := <-got; p != "data/w/b" {
		t.Fatalf("event seen by the waiting goroutine: %q", p)
	}
	// Absolute watches report absolute paths.
	wa, err := c.Watch("/local/domain/5/data/abs")
	if err != nil {
		t.Fatal(err)
	}
	wa.Next(time.Second)
	c.Write("data/abs", "x")
	if p, err := wa.Next(2 * time.Second); err != nil || p != "/local/domain/5/data/abs" {
		t.Fatalf("absolute event = %q, %v", p, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := w.Next(time.Second); !errors.Is(err, api.EBADF) {
		t.Fatalf("Next after Close: %v, want EBADF", err)
	}
	c.Write("data/w", "after close")
	c.mu.Lock()
	n := len(c.watches)
	c.mu.Unlock()
	if n != 1 {
		t.Errorf("%d watches registered, want 1", n)
	}
}

// Many goroutines sharing one client: requests serialise, watch events
// are not lost, and each reply reaches its own caller.
func TestXenstoreConcurrent(t *testing.T) {
	_, c := newFakeStore(t, 5)
	w, err := c.Watch("data/c")
	if err != nil {
		t.Fatal(err)
	}
	w.Next(time.Second)
	const workers, rounds = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range rounds {
				k := fmt.Sprintf("data/c/%d", i)
				v := fmt.Sprintf("%d-%d-%s", i, j, strings.Repeat("p", (i*131+j*17)%1500))
				if err := c.Write(k, v); err != nil {
					errs <- err
					return
				}
				if got, err := c.Read(k); err != nil || got != v {
					errs <- fmt.Errorf("read %s: %d bytes, %v", k, len(got), err)
					return
				}
			}
		}()
	}
	seen := 0
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
loop:
	for {
		select {
		case <-done:
			break loop
		default:
		}
		if _, err := w.Next(50 * time.Millisecond); err == nil {
			seen++
		}
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Drain what is left; every write made one event.
	for {
		if _, err := w.Next(100 * time.Millisecond); err != nil {
			break
		}
		seen++
	}
	if seen != workers*rounds {
		t.Errorf("%d watch events, want %d", seen, workers*rounds)
	}
}

// A daemon that never answers: the request times out, the connection
// stays usable (a late reply is dropped by request id).
func TestXenstoreTimeout(t *testing.T) {
	s, c := newFakeStore(t, 5)
	c.Timeout = 100 * time.Millisecond
	s.mu.Lock()
	s.drop = true
	s.mu.Unlock()
	start := time.Now()
	if _, err := c.Read("name"); !errors.Is(err, api.ETIMEDOUT) {
		t.Fatalf("Read with a silent daemon: %v, want ETIMEDOUT", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Errorf("timed out after %v", d)
	}
	s.mu.Lock()
	s.drop = false
	s.mu.Unlock()
	// A stale reply for the dropped request arrives before the next one.
	s.send(xsRead, c.nextID, 0, "stale")
	if v, err := c.Read("name"); err != nil || v != "guest" {
		t.Fatalf("Read after a timeout = %q, %v", v, err)
	}
}

// A daemon that writes nonsense breaks the connection for good: EIO,
// never a hang or a panic.
func TestXenstoreBroken(t *testing.T) {
	for _, tc := range []struct {
		name   string
		attack func(s *fakeStore)
	}{
		{"indices", func(s *fakeStore) { s.ring.RspProd = s.ring.RspCons + 5000 }},
		{"oversized", func(s *fakeStore) {
			s.mu.Lock()
			s.out = appendRequest(s.out, xsRead, 99, 0)
			s.out[12], s.out[13] = 0xff, 0xff // len 65535
			s.mu.Unlock()
		}},
		{"type", func(s *fakeStore) {
			s.mu.Lock()
			s.out = appendRequest(s.out, 1000, 99, 0)
			s.mu.Unlock()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, c := newFakeStore(t, 5)
			c.Timeout = time.Second
			tc.attack(s)
			s.flush()
			s.ev.Notify(0)
			if _, err := c.Read("name"); !errors.Is(err, api.EIO) {
				t.Fatalf("Read = %v, want EIO", err)
			}
			if err := c.Write("data/x", "y"); !errors.Is(err, api.EIO) {
				t.Fatalf("Write after breakage = %v, want EIO", err)
			}
		})
	}
}

func TestXenstoreWire(t *testing.T) {
	b := appendRequest(nil, xsWrite, 7, 3, "data/k", "\x00", "value")
	m, n, err := parseMessage(b)
	if err != nil || n != len(b) || m.typ != xsWrite || m.reqID != 7 || m.txID != 3 || string(m.payload) != "data/k\x00value" {
		t.Fatalf("round trip: %+v %d %v", m, n, err)
	}
	for i := range b {
		if _, _, err := parseMessage(b[:i]); err != errShort {
			t.Fatalf("prefix of %d bytes: %v, want errShort", i, err)
		}
	}
	if s, err := decodeStrings([]byte("a\x00bc\x00\x00")); err != nil || !slices.Equal(s, []string{"a", "bc", ""}) {
		t.Errorf("decodeStrings = %q, %v", s, err)
	}
	if _, err := decodeStrings([]byte("a\x00b")); err == nil {
		t.Errorf("decodeStrings accepted an unterminated list")
	}
	if id, err := decodeTxID([]byte("42\x00")); err != nil || id != 42 {
		t.Errorf("decodeTxID = %d, %v", id, err)
	}
	for _, bad := range []string{"", "0\x00", "x\x00", "42", "4294967296\x00"} {
		if _, err := decodeTxID([]byte(bad)); err == nil {
			t.Errorf("decodeTxID(%q) accepted", bad)
		}
	}
	if p, tok, err := decodeWatchEvent([]byte("a/b\x00t1\x00")); err != nil || p != "a/b" || tok != "t1" {
		t.Errorf("decodeWatchEvent = %q %q %v", p, tok, err)
	}
	m = message{typ: xsError, payload: []byte("ENOENT\x00")}
	if err := replyErr(&m, xsRead); err != api.ENOENT {
		t.Errorf("replyErr(XS_ERROR ENOENT) = %v", err)
	}
	m = message{typ: xsWrite}
	if err := replyErr(&m, xsRead); err != api.EIO {
		t.Errorf("replyErr(wrong type) = %v", err)
	}
}
