package hypercall

import (
	"errors"
	"testing"
	"time"

	"github.com/anykernel/anykernel/api"
)

// noWait is an Events whose Wait never blocks: it reports a pending
// signal or times out at once, so a fuzzed client cannot hang.
type noWait struct{}

func (noWait) Notify(uint32) error { return nil }
func (noWait) Wait(uint32, time.Time) error {
	return api.ETIMEDOUT
}

// FuzzXenstoreReply feeds arbitrary bytes to the reply side: first to the
// message parser and every payload decoder, then through the reply ring
// of a client making each kind of request. Nothing may panic or hang;
// whatever the bytes, a client call returns a value or an error.
func FuzzXenstoreReply(f *testing.F) {
	f.Add(appendRequest(nil, xsRead, 1, 0, "guest"))
	f.Add(appendRequest(nil, xsError, 1, 0, "ENOENT\x00"))
	f.Add(appendRequest(nil, xsError, 1, 0, "EWHAT"))
	f.Add(appendRequest(nil, xsDirectory, 1, 0, "a\x00b\x00"))
	f.Add(appendRequest(nil, xsTransactionStart, 1, 0, "17\x00"))
	f.Add(appendRequest(nil, xsGetPerms, 1, 0, "b0\x00r5\x00"))
	f.Add(append(appendRequest(nil, xsWatchEvent, 0, 0, "data/w\x00anykernel-1\x00"), appendRequest(nil, xsWrite, 1, 0, "OK\x00")...))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		// The parser and decoders.
		rest := data
		for len(rest) > 0 {
			m, n, err := parseMessage(rest)
			if err != nil {
				if err != errShort && !errors.Is(err, api.EIO) {
					t.Fatalf("parseMessage error %v", err)
				}
				break
			}
			if n < xenstoreHeaderBytes || n > len(rest) || len(m.payload) != n-xenstoreHeaderBytes || len(m.payload) > xenstorePayloadMax {
				t.Fatalf("parseMessage consumed %d of %d with a %d-byte payload", n, len(rest), len(m.payload))
			}
			replyErr(&m, m.typ)
			decodeOK(m.payload)
			if ss, err := decodeStrings(m.payload); err == nil {
				for _, s := range ss {
					ParsePerm(s)
				}
			}
			decodeTxID(m.payload)
			decodeWatchEvent(m.payload)
			rest = rest[n:]
		}

		// A client whose daemon answers with data. Request ids start at
		// 1, as in the seeds, so some replies match.
		ops := []func(c *Xenstore) error{
			func(c *Xenstore) error { _, err := c.Read("name"); return err },
			func(c *Xenstore) error { return c.Write("data/k", "v") },
			func(c *Xenstore) error { _, err := c.Directory("data"); return err },
			func(c *Xenstore) error { _, err := c.Perms("data"); return err },
			func(c *Xenstore) error { _, err := c.Begin(); return err },
			func(c *Xenstore) error { _, err := c.DomainPath(0); return err },
			func(c *Xenstore) error {
				w, err := c.Watch("data/w")
				if err == nil {
					w.Next(0)
				}
				return err
			},
		}
		for _, op := range ops {
			r := new(XenstoreInterface)
			c := NewXenstore(r, noWait{}, 1)
			c.Timeout = time.Millisecond
			n := copy(r.Rsp[:], data)
			r.RspProd = uint32(n)
			op(c) // any result will do; it must return
		}
	})
}
