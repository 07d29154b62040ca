package hypercall

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/anykernel/anykernel/api"
)

// Xenstore is a client of the xenstore daemon over the domain's shared
// ring. It is safe for concurrent use: requests go one at a time, and
// watch events that arrive meanwhile are queued for their Watch.
//
// Paths are absolute ("/local/domain/3/name") or relative to the domain's
// home directory ("name", "data/foo"). Errors are *fs.PathError values
// whose Err is an api.Errno (ENOENT, EACCES, EEXIST, EINVAL, E2BIG,
// EAGAIN, ETIMEDOUT, ...), so errors.Is(err, fs.ErrNotExist) works.
type Xenstore struct {
	ev   Events
	port uint32
	req  ring
	rsp  ring
	w    *portWaiter

	// Timeout bounds each request (default 10s). Set it before the
	// client is shared.
	Timeout time.Duration

	reqMu  sync.Mutex // one request on the ring at a time
	nextID uint32     // guarded by reqMu

	mu       sync.Mutex // the response side and the state below
	rbuf     []byte     // received bytes not yet parsed
	want     uint32     // the request id awaited, 0 for none
	reply    *message
	watches  map[string]*Watch
	tokenSeq uint64
	broken   error
}

// NewXenstore returns a client that talks to xenstored through ring,
// signalling it on event channel port of ev.
func NewXenstore(ring *XenstoreInterface, ev Events, port uint32) *Xenstore {
	return &Xenstore{
		ev:      ev,
		port:    port,
		req:     newRing(ring.Req[:], &ring.ReqCons, &ring.ReqProd),
		rsp:     newRing(ring.Rsp[:], &ring.RspCons, &ring.RspProd),
		w:       newPortWaiter(ev, port),
		Timeout: 10 * time.Second,
		watches: map[string]*Watch{},
	}
}

func newRing(data []byte, cons, prod *uint32) ring { return ring{data: data, cons: cons, prod: prod} }

// breakConn marks the connection unusable. c.mu held.
func (c *Xenstore) breakConn(why string) error {
	if c.broken == nil {
		c.broken = fmt.Errorf("%w: %s", errBroken, why)
	}
	return c.broken
}

// request sends one request and returns its reply (which may be an
// XS_ERROR message). Errors here are transport errors: ETIMEDOUT, E2BIG
// for an oversized payload, EIO for a broken connection.
func (c *Xenstore) request(typ, tx uint32, parts ...string) (message, error) {
	size := 0
	for _, p := range parts {
		size += len(p)
	}
	if size > xenstorePayloadMax {
		return message{}, api.E2BIG
	}
	c.reqMu.Lock()
	defer c.reqMu.Unlock()
	c.nextID++
	if c.nextID == 0 {
		c.nextID = 1
	}
	id := c.nextID
	c.mu.Lock()
	if c.broken != nil {
		c.mu.Unlock()
		return message{}, api.EIO
	}
	c.want, c.reply = id, nil
	c.mu.Unlock()
	deadline := time.Now().Add(c.Timeout)
	buf := appendRequest(nil, typ, id, tx, parts...)
	total := len(buf)

	for {
		t := c.w.ticket()
		c.mu.Lock()
		var err error
		if len(buf) > 0 {
			var n int
			if n, err = c.req.write(buf); err != nil {
				err = c.breakConn("request ring indices out of range")
			} else if n > 0 {
				buf = buf[n:]
				err = c.ev.Notify(c.port)
			}
		}
		// Read replies and events even while writing: the daemon may
		// wait for room in the reply ring before it reads on.
		if err == nil {
			err = c.pump()
		}
		r := c.reply
		if r != nil || err != nil {
			c.want, c.reply = 0, nil
		}
		c.mu.Unlock()
		if err != nil {
			return message{}, api.EIO
		}
		if r != nil {
			return *r, nil
		}
		if err := c.w.wait(t, deadline); err != nil {
			c.mu.Lock()
			c.want = 0
			if len(buf) > 0 && len(buf) < total {
				// Half a message on the ring: the stream is lost.
				c.breakConn("a request timed out half written")
			}
			c.mu.Unlock()
			return message{}, err
		}
	}
}

// pump moves everything in the reply ring into rbuf and dispatches the
// complete messages: the awaited reply to c.reply, watch events to their
// watches; replies to abandoned requests are dropped. c.mu held.
func (c *Xenstore) pump() error {
	if c.broken != nil {
		return c.broken
	}
	var tmp [xenstoreRingSize]byte
	consumed := false
	for {
		n, err := c.rsp.read(tmp[:])
		if err != nil {
			return c.breakConn("reply ring indices out of range")
		}
		if n == 0 {
			break
		}
		c.rbuf = append(c.rbuf, tmp[:n]...)
		consumed = true
	}
	if consumed {
		// Tell the daemon there is room again.
		if err := c.ev.Notify(c.port); err != nil {
			return err
		}
	}
	for {
		m, n, err := parseMessage(c.rbuf)
		if err == errShort {
			break
		}
		if err != nil {
			return c.breakConn("malformed message from xenstored")
		}
		c.dispatch(m)
		c.rbuf = append(c.rbuf[:0], c.rbuf[n:]...)
	}
	return nil
}

// dispatch delivers one message. c.mu held; m.payload aliases rbuf.
func (c *Xenstore) dispatch(m message) {
	if m.typ == xsWatchEvent {
		path, token, err := decodeWatchEvent(m.payload)
		if err != nil {
			return
		}
		if w := c.watches[token]; w != nil {
			w.push(path)
		}
		return
	}
	if c.want != 0 && m.reqID == c.want && c.reply == nil {
		m.payload = bytes.Clone(m.payload)
		c.reply = &m
	}
}

// call makes a request and checks that the reply has the request's type.
func (c *Xenstore) call(op, path string, typ, tx uint32, parts ...string) ([]byte, error) {
	m, err := c.request(typ, tx, parts...)
	if err == nil {
		err = replyErr(&m, typ)
	}
	if err != nil {
		return nil, pathErr(op, path, err)
	}
	return m.payload, nil
}

func (c *Xenstore) read(tx uint32, path string) (string, error) {
	if err := checkPath(path); err != nil {
		return "", pathErr("xenstore read", path, err)
	}
	p, err := c.call("xenstore read", path, xsRead, tx, path, "\x00")
	return string(p), err
}

func (c *Xenstore) write(tx uint32, path, value string) error {
	if err := checkPath(path); err != nil {
		return pathErr("xenstore write", path, err)
	}
	p, err := c.call("xenstore write", path, xsWrite, tx, path, "\x00", value)
	if err == nil {
		err = okErr("xenstore write", path, p)
	}
	return err
}

func okErr(op, path string, p []byte) error {
	if err := decodeOK(p); err != nil {
		return pathErr(op, path, err)
	}
	return nil
}

func (c *Xenstore) simple(op string, typ, tx uint32, path string) error {
	if err := checkPath(path); err != nil {
		return pathErr(op, path, err)
	}
	p, err := c.call(op, path, typ, tx, path, "\x00")
	if err == nil {
		err = okErr(op, path, p)
	}
	return err
}

func (c *Xenstore) directory(tx uint32, path string) ([]string, error) {
	if err := checkPath(path); err != nil {
		return nil, pathErr("xenstore directory", path, err)
	}
	p, err := c.call("xenstore directory", path, xsDirectory, tx, path, "\x00")
	if err != nil {
		return nil, err
	}
	names, err := decodeStrings(p)
	if err != nil {
		return nil, pathErr("xenstore directory", path, err)
	}
	return names, nil
}

func (c *Xenstore) getPerms(tx uint32, path string) ([]Perm, error) {
	if err := checkPath(path); err != nil {
		return nil, pathErr("xenstore get-perms", path, err)
	}
	p, err := c.call("xenstore get-perms", path, xsGetPerms, tx, path, "\x00")
	if err != nil {
		return nil, err
	}
	words, err := decodeStrings(p)
	if err != nil {
		return nil, pathErr("xenstore get-perms", path, err)
	}
	perms := make([]Perm, 0, len(words))
	for _, w := range words {
		pm, err := ParsePerm(w)
		if err != nil {
			return nil, pathErr("xenstore get-perms", path, api.EIO)
		}
		perms = append(perms, pm)
	}
	return perms, nil
}

func (c *Xenstore) setPerms(tx uint32, path string, perms []Perm) error {
	if err := checkPath(path); err != nil {
		return pathErr("xenstore set-perms", path, err)
	}
	if len(perms) == 0 {
		return pathErr("xenstore set-perms", path, api.EINVAL)
	}
	parts := []string{path, "\x00"}
	for _, pm := range perms {
		if !validAccess(pm.Access) {
			return pathErr("xenstore set-perms", path, api.EINVAL)
		}
		parts = append(parts, pm.String(), "\x00")
	}
	p, err := c.call("xenstore set-perms", path, xsSetPerms, tx, parts...)
	if err == nil {
		err = okErr("xenstore set-perms", path, p)
	}
	return err
}

// Read returns the value of the node at path.
func (c *Xenstore) Read(path string) (string, error) { return c.read(0, path) }

// Write sets the value of the node at path, creating it (and missing
// parents) when needed.
func (c *Xenstore) Write(path, value string) error { return c.write(0, path, value) }

// Directory lists the names of the children of path.
func (c *Xenstore) Directory(path string) ([]string, error) { return c.directory(0, path) }

// Mkdir creates an empty node at path (nothing when it exists).
func (c *Xenstore) Mkdir(path string) error { return c.simple("xenstore mkdir", xsMkdir, 0, path) }

// Remove deletes the node at path and everything below it.
func (c *Xenstore) Remove(path string) error { return c.simple("xenstore rm", xsRm, 0, path) }

// Perms returns the permissions of the node at path.
func (c *Xenstore) Perms(path string) ([]Perm, error) { return c.getPerms(0, path) }

// SetPerms sets the permissions of the node at path: the first entry
// names the owner and what every other domain may do; the others grant
// single domains access.
func (c *Xenstore) SetPerms(path string, perms []Perm) error { return c.setPerms(0, path, perms) }

// ReadInt reads a node holding a decimal integer.
func (c *Xenstore) ReadInt(path string) (int64, error) {
	s, err := c.Read(path)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, pathErr("xenstore read", path, api.EINVAL)
	}
	return n, nil
}

// DomainPath returns the home directory of domain d
// (XS_GET_DOMAIN_PATH, "/local/domain/<d>").
func (c *Xenstore) DomainPath(d DomID) (string, error) {
	id := strconv.Itoa(int(d))
	p, err := c.call("xenstore get-domain-path", id, xsGetDomainPath, 0, id, "\x00")
	if err != nil {
		return "", err
	}
	s, ok := cstring(p)
	if !ok {
		s = string(p)
	}
	return s, nil
}

// DomainID returns this domain's id, which the toolstack writes to its
// home directory's "domid" node.
func (c *Xenstore) DomainID() (DomID, error) {
	n, err := c.ReadInt("domid")
	if err != nil {
		return 0, err
	}
	if n < 0 || n >= int64(DomIDSelf) {
		return 0, pathErr("xenstore read", "domid", api.ERANGE)
	}
	return DomID(n), nil
}

// Name returns this domain's name (the "name" node the toolstack writes).
func (c *Xenstore) Name() (string, error) { return c.Read("name") }

// Perm is one entry of a node's permission list.
type Perm struct {
	Domain DomID
	// Access is 'n' (none), 'r' (read), 'w' (write) or 'b' (both).
	Access byte
}

func validAccess(a byte) bool { return a == 'n' || a == 'r' || a == 'w' || a == 'b' }

// String returns the wire form, e.g. "r3".
func (p Perm) String() string { return string(p.Access) + strconv.Itoa(int(p.Domain)) }

// ParsePerm parses the wire form of a permission ("b0", "r3").
func ParsePerm(s string) (Perm, error) {
	if len(s) < 2 || !validAccess(s[0]) {
		return Perm{}, fmt.Errorf("xenstore permission %q: %w", s, api.EINVAL)
	}
	n, err := strconv.ParseUint(s[1:], 10, 16)
	if err != nil {
		return Perm{}, fmt.Errorf("xenstore permission %q: %w", s, api.EINVAL)
	}
	return Perm{Domain: DomID(n), Access: s[0]}, nil
}

// Tx is a xenstore transaction: its reads see a snapshot, and its writes
// become visible together at Commit, which fails with api.EAGAIN when
// another writer changed the store meanwhile (then redo the work).
type Tx struct {
	c    *Xenstore
	id   uint32
	done bool
}

// Begin starts a transaction.
func (c *Xenstore) Begin() (*Tx, error) {
	m, err := c.request(xsTransactionStart, 0, "\x00")
	if err == nil {
		err = replyErr(&m, xsTransactionStart)
	}
	var id uint32
	if err == nil {
		id, err = decodeTxID(m.payload)
	}
	if err != nil {
		return nil, wrapCall("xenstore transaction-start", err)
	}
	return &Tx{c: c, id: id}, nil
}

func wrapCall(op string, err error) error {
	var e api.Errno
	if errors.As(err, &e) {
		return fmt.Errorf("%s: %w", op, e)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func (t *Tx) end(commit bool) error {
	if t.done {
		return wrapCall("xenstore transaction-end", api.EINVAL)
	}
	t.done = true
	arg := "F\x00"
	if commit {
		arg = "T\x00"
	}
	m, err := t.c.request(xsTransactionEnd, t.id, arg)
	if err == nil {
		err = replyErr(&m, xsTransactionEnd)
	}
	if err == nil {
		err = decodeOK(m.payload)
	}
	if err != nil {
		return wrapCall("xenstore transaction-end", err)
	}
	return nil
}

// Commit ends the transaction and applies its writes; api.EAGAIN means
// it conflicted with another writer and nothing was applied.
func (t *Tx) Commit() error { return t.end(true) }

// Abort ends the transaction and discards its writes.
func (t *Tx) Abort() error { return t.end(false) }

// Read returns the value of the node at path, as the transaction sees it.
func (t *Tx) Read(path string) (string, error) { return t.c.read(t.id, path) }

// Write sets the value of the node at path within the transaction.
func (t *Tx) Write(path, value string) error { return t.c.write(t.id, path, value) }

// Directory lists the children of path within the transaction.
func (t *Tx) Directory(path string) ([]string, error) { return t.c.directory(t.id, path) }

// Mkdir creates an empty node at path within the transaction.
func (t *Tx) Mkdir(path string) error { return t.c.simple("xenstore mkdir", xsMkdir, t.id, path) }

// Remove deletes the node at path (and below) within the transaction.
func (t *Tx) Remove(path string) error { return t.c.simple("xenstore rm", xsRm, t.id, path) }

// Perms returns the permissions of the node at path within the transaction.
func (t *Tx) Perms(path string) ([]Perm, error) { return t.c.getPerms(t.id, path) }

// SetPerms sets the permissions of the node at path within the transaction.
func (t *Tx) SetPerms(path string, perms []Perm) error { return t.c.setPerms(t.id, path, perms) }

// Transaction runs fn in a transaction and commits it, running it again
// (up to 16 times) while the commit reports a conflict (api.EAGAIN). An
// error from fn aborts the transaction and is returned.
func (c *Xenstore) Transaction(fn func(tx *Tx) error) error {
	var err error
	for range 16 {
		var tx *Tx
		if tx, err = c.Begin(); err != nil {
			return err
		}
		if err = fn(tx); err != nil {
			tx.Abort()
			return err
		}
		if err = tx.Commit(); !errors.Is(err, api.EAGAIN) {
			return err
		}
	}
	return err
}

// maxQueuedEvents bounds a watch's queue: beyond it the oldest events
// are dropped (a watch says "look again", so the latest matter most).
const maxQueuedEvents = 1024

// Watch delivers the paths of changes at or below a watched path.
// xenstored always sends one event for the watched path itself right after
// the watch is set.
type Watch struct {
	c      *Xenstore
	path   string
	token  string
	queue  []string // guarded by c.mu
	closed bool     // guarded by c.mu
}

// Watch sets a watch on path.
func (c *Xenstore) Watch(path string) (*Watch, error) {
	if err := checkPath(path); err != nil {
		return nil, pathErr("xenstore watch", path, err)
	}
	c.mu.Lock()
	c.tokenSeq++
	w := &Watch{c: c, path: path, token: "anykernel-" + strconv.FormatUint(c.tokenSeq, 10)}
	// Registered before the request: the first event may come with the
	// reply.
	c.watches[w.token] = w
	c.mu.Unlock()
	p, err := c.call("xenstore watch", path, xsWatch, 0, path, "\x00", w.token, "\x00")
	if err == nil {
		err = okErr("xenstore watch", path, p)
	}
	if err != nil {
		c.mu.Lock()
		delete(c.watches, w.token)
		c.mu.Unlock()
		return nil, err
	}
	return w, nil
}

func (w *Watch) push(path string) {
	if w.closed {
		return
	}
	if len(w.queue) >= maxQueuedEvents {
		w.queue = w.queue[1:]
	}
	w.queue = append(w.queue, path)
}

// Path returns the watched path.
func (w *Watch) Path() string { return w.path }

// Next returns the path of the next change, waiting up to timeout for
// one; it fails with api.ETIMEDOUT when none came, and with api.EBADF
// after Close.
func (w *Watch) Next(timeout time.Duration) (string, error) {
	c := w.c
	deadline := time.Now().Add(timeout)
	for {
		t := c.w.ticket()
		c.mu.Lock()
		if w.closed {
			c.mu.Unlock()
			return "", pathErr("xenstore watch", w.path, api.EBADF)
		}
		err := c.pump()
		if err == nil && len(w.queue) > 0 {
			p := w.queue[0]
			w.queue = w.queue[1:]
			c.mu.Unlock()
			return p, nil
		}
		c.mu.Unlock()
		if err != nil {
			return "", pathErr("xenstore watch", w.path, api.EIO)
		}
		if err := c.w.wait(t, deadline); err != nil {
			return "", pathErr("xenstore watch", w.path, err)
		}
	}
}

// Close removes the watch; queued events are dropped.
func (w *Watch) Close() error {
	c := w.c
	c.mu.Lock()
	if w.closed {
		c.mu.Unlock()
		return nil
	}
	w.closed = true
	w.queue = nil
	c.mu.Unlock()
	p, err := c.call("xenstore unwatch", w.path, xsUnwatch, 0, w.path, "\x00", w.token, "\x00")
	if err == nil {
		err = okErr("xenstore unwatch", w.path, p)
	}
	c.mu.Lock()
	delete(c.watches, w.token)
	c.mu.Unlock()
	return err
}
