package hypercall

import (
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anykernel/anykernel/api"
)

// In-memory stand-ins for the hosted tests of the ring protocols ONLY:
// an event channel pair with pending-bit semantics, and a small xenstore
// daemon serving a ring. The real thing runs in the image on Xen
// (TestXen, examples/xen/kv).

// chanPair is one event channel: each end has a pending flag (a channel
// of capacity 1); notifying one end sets the other's.
type chanPair struct {
	pending [2]chan struct{}
	// notifies counts Notify calls per end, for tests that check them.
	mu       sync.Mutex
	notifies [2]int
}

func newChanPair() *chanPair {
	return &chanPair{pending: [2]chan struct{}{make(chan struct{}, 1), make(chan struct{}, 1)}}
}

// end is one side's Events; the port number is ignored.
type end struct {
	p    *chanPair
	side int
}

func (e end) Notify(port uint32) error {
	e.p.mu.Lock()
	e.p.notifies[e.side]++
	e.p.mu.Unlock()
	select {
	case e.p.pending[1-e.side] <- struct{}{}:
	default:
	}
	return nil
}

func (e end) Wait(port uint32, deadline time.Time) error {
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if d <= 0 {
			select {
			case <-e.p.pending[e.side]:
				return nil
			default:
				return api.ETIMEDOUT
			}
		}
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-e.p.pending[e.side]:
		return nil
	case <-timeout:
		return api.ETIMEDOUT
	}
}

// fakeNode is a node of the fake store.
type fakeNode struct {
	value string
	perms []Perm
}

// fakeStore is a xenstore daemon for one guest connection, with enough of
// the semantics to test the client: nodes with values and permissions,
// relative paths, errors, transactions (any commit since the start makes
// a commit fail with EAGAIN), watches with the initial event.
type fakeStore struct {
	t     testing.TB
	domid DomID
	ring  *XenstoreInterface
	ev    end
	req   ring
	rsp   ring
	stop  chan struct{}
	done  chan struct{}

	mu      sync.Mutex
	nodes   map[string]*fakeNode
	gen     int // bumped by every committed change
	txs     map[uint32]*fakeTx
	nextTx  uint32
	watches map[string]string // token -> path as given
	out     []byte            // replies not yet on the ring
	// hooks for tests
	requests []uint32 // types seen
	drop     bool     // swallow requests without replying
}

type fakeTx struct {
	gen   int
	nodes map[string]*fakeNode
}

func newFakeStore(t testing.TB, domid DomID) (*fakeStore, *Xenstore) {
	r := new(XenstoreInterface)
	p := newChanPair()
	s := &fakeStore{
		t: t, domid: domid, ring: r, ev: end{p, 1},
		req:     newRing(r.Req[:], &r.ReqCons, &r.ReqProd),
		rsp:     newRing(r.Rsp[:], &r.RspCons, &r.RspProd),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		nodes:   map[string]*fakeNode{},
		txs:     map[uint32]*fakeTx{},
		watches: map[string]string{},
	}
	home := s.home()
	dom0 := []Perm{{0, 'n'}}
	ro := []Perm{{0, 'n'}, {domid, 'r'}}
	rw := []Perm{{domid, 'n'}}
	for p, n := range map[string]*fakeNode{
		"/":                    {perms: dom0},
		"/local":               {perms: []Perm{{0, 'r'}}},
		"/local/domain":        {perms: []Perm{{0, 'r'}}},
		"/local/domain/0":      {perms: dom0},
		"/local/domain/0/name": {value: "Domain-0", perms: dom0},
		home:                   {perms: ro},
		home + "/name":         {value: "guest", perms: ro},
		home + "/domid":        {value: strconv.Itoa(int(domid)), perms: ro},
		home + "/data":         {perms: rw},
	} {
		s.nodes[p] = n
	}
	go s.serve()
	t.Cleanup(func() {
		close(s.stop)
		<-s.done
	})
	return s, NewXenstore(r, end{p, 0}, 7)
}

func (s *fakeStore) home() string { return "/local/domain/" + strconv.Itoa(int(s.domid)) }

func (s *fakeStore) abs(p string) string {
	if strings.HasPrefix(p, "/") {
		return p
	}
	return s.home() + "/" + p
}

func parent(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

func (s *fakeStore) serve() {
	defer close(s.done)
	var in []byte
	var buf [xenstoreRingSize]byte
	for {
		for {
			n, err := s.req.read(buf[:])
			if err != nil {
				s.t.Errorf("fake xenstored: %v", err)
				return
			}
			if n == 0 {
				break
			}
			in = append(in, buf[:n]...)
			s.ev.Notify(0)
		}
		for {
			m, n, err := parseMessage(in)
			if err == errShort {
				break
			}
			if err != nil {
				s.t.Errorf("fake xenstored: bad request: %v", err)
				return
			}
			s.mu.Lock()
			s.requests = append(s.requests, m.typ)
			drop := s.drop
			s.mu.Unlock()
			if !drop {
				s.handle(m)
			}
			in = in[n:]
		}
		s.flush()
		select {
		case <-s.stop:
			return
		default:
		}
		s.ev.Wait(0, time.Now().Add(5*time.Millisecond))
	}
}

// flush puts queued replies on the ring as room allows.
func (s *fakeStore) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.out) == 0 {
		return
	}
	n, err := s.rsp.write(s.out)
	if err != nil {
		// The indices were set to nonsense (TestXenstoreBroken): give up.
		s.out = nil
		return
	}
	s.out = s.out[n:]
	if n > 0 {
		s.ev.Notify(0)
	}
}

func (s *fakeStore) send(typ, reqID, txID uint32, parts ...string) {
	s.mu.Lock()
	s.out = appendRequest(s.out, typ, reqID, txID, parts...)
	s.mu.Unlock()
}

func (s *fakeStore) handle(m message) {
	reply := func(parts ...string) { s.send(m.typ, m.reqID, m.txID, parts...) }
	fail := func(e string) { s.send(xsError, m.reqID, m.txID, e, "\x00") }
	args := strings.Split(string(m.payload), "\x00")
	s.mu.Lock()
	nodes := s.nodes
	var tx *fakeTx
	if m.txID != 0 {
		if tx = s.txs[m.txID]; tx == nil {
			s.mu.Unlock()
			fail("ENOENT")
			return
		}
		nodes = tx.nodes
	}
	s.mu.Unlock()
	switch m.typ {
	case xsRead, xsDirectory, xsGetPerms:
		p := s.abs(args[0])
		s.mu.Lock()
		n := nodes[p]
		e := s.check(nodes, p, 'r')
		var kids []string
		for q := range nodes {
			if parent(q) == p && q != p {
				kids = append(kids, q[len(p)+1:])
			}
		}
		s.mu.Unlock()
		switch {
		case n == nil:
			fail("ENOENT")
		case e != "":
			fail(e)
		case m.typ == xsRead:
			reply(n.value)
		case m.typ == xsDirectory:
			sort.Strings(kids)
			var parts []string
			for _, k := range kids {
				parts = append(parts, k, "\x00")
			}
			reply(parts...)
		default:
			var parts []string
			for _, pm := range n.perms {
				parts = append(parts, pm.String(), "\x00")
			}
			reply(parts...)
		}
	case xsWrite, xsMkdir, xsRm, xsSetPerms:
		p := s.abs(args[0])
		s.mu.Lock()
		e := s.change(nodes, m.typ, p, string(m.payload[len(args[0])+1:]), args)
		if e == "" && tx == nil {
			s.gen++
			s.fire(p)
		}
		s.mu.Unlock()
		if e != "" {
			fail(e)
		} else {
			reply("OK\x00")
		}
	case xsWatch:
		s.mu.Lock()
		s.watches[args[1]] = args[0]
		s.mu.Unlock()
		reply("OK\x00")
		s.send(xsWatchEvent, 0, 0, args[0], "\x00", args[1], "\x00")
	case xsUnwatch:
		s.mu.Lock()
		_, ok := s.watches[args[1]]
		delete(s.watches, args[1])
		s.mu.Unlock()
		if !ok {
			fail("ENOENT")
		} else {
			reply("OK\x00")
		}
	case xsTransactionStart:
		s.mu.Lock()
		s.nextTx++
		id := s.nextTx
		cp := map[string]*fakeNode{}
		for k, v := range s.nodes {
			c := *v
			cp[k] = &c
		}
		s.txs[id] = &fakeTx{gen: s.gen, nodes: cp}
		s.mu.Unlock()
		s.send(m.typ, m.reqID, 0, strconv.Itoa(int(id)), "\x00")
	case xsTransactionEnd:
		s.mu.Lock()
		delete(s.txs, m.txID)
		e := ""
		if args[0] == "T" {
			if tx.gen != s.gen {
				e = "EAGAIN"
			} else {
				for p := range tx.nodes {
					if s.nodes[p] == nil || s.nodes[p].value != tx.nodes[p].value {
						s.fire(p)
					}
				}
				s.nodes = tx.nodes
				s.gen++
			}
		}
		s.mu.Unlock()
		if e != "" {
			fail(e)
		} else {
			reply("OK\x00")
		}
	case xsGetDomainPath:
		reply("/local/domain/"+args[0], "\x00")
	default:
		fail("EINVAL")
	}
}

// check returns the error string for domain access to node p, or "".
func (s *fakeStore) check(nodes map[string]*fakeNode, p string, want byte) string {
	n := nodes[p]
	if n == nil {
		return "ENOENT"
	}
	if n.perms[0].Domain == s.domid {
		return ""
	}
	acc := n.perms[0].Access
	for _, pm := range n.perms[1:] {
		if pm.Domain == s.domid {
			acc = pm.Access
		}
	}
	if acc == 'b' || acc == want {
		return ""
	}
	return "EACCES"
}

// change applies a write-like request. s.mu held.
func (s *fakeStore) change(nodes map[string]*fakeNode, typ uint32, p, value string, args []string) string {
	switch typ {
	case xsRm:
		if nodes[p] == nil {
			return "ENOENT"
		}
		if e := s.check(nodes, p, 'w'); e != "" {
			return e
		}
		for q := range nodes {
			if q == p || strings.HasPrefix(q, p+"/") {
				delete(nodes, q)
			}
		}
		return ""
	case xsSetPerms:
		if nodes[p] == nil {
			return "ENOENT"
		}
		if e := s.check(nodes, p, 'w'); e != "" {
			return e
		}
		var perms []Perm
		for _, a := range args[1:] {
			if a == "" {
				continue
			}
			pm, err := ParsePerm(a)
			if err != nil {
				return "EINVAL"
			}
			perms = append(perms, pm)
		}
		nodes[p].perms = perms
		return ""
	}
	if n := nodes[p]; n != nil {
		if e := s.check(nodes, p, 'w'); e != "" {
			return e
		}
		if typ == xsWrite {
			n.value = value
		}
		return ""
	}
	// Create p and missing parents, owned like the nearest existing one.
	var missing []string
	q := p
	for nodes[q] == nil {
		missing = append(missing, q)
		q = parent(q)
	}
	if e := s.check(nodes, q, 'w'); e != "" {
		return e
	}
	for _, m := range missing {
		nodes[m] = &fakeNode{perms: nodes[q].perms}
	}
	if typ == xsWrite {
		nodes[p].value = value
	}
	return ""
}

// fire queues watch events for a change at absolute path p. s.mu held.
func (s *fakeStore) fire(p string) {
	for tok, wp := range s.watches {
		w := s.abs(wp)
		if p == w || strings.HasPrefix(p, w+"/") {
			ev := p
			if !strings.HasPrefix(wp, "/") {
				ev = strings.TrimPrefix(p, s.home()+"/")
			}
			s.out = appendRequest(s.out, xsWatchEvent, 0, 0, ev, "\x00", tok, "\x00")
		}
	}
}
