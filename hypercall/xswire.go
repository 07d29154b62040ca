package hypercall

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"

	"github.com/anykernel/anykernel/api"
)

// The xenstore wire protocol (docs/misc/xenstore.txt in Xen's sources):
// each message is a 16-byte little-endian header (struct xsd_sockmsg:
// type, req_id, tx_id, len) and len bytes of payload, at most
// XENSTORE_PAYLOAD_MAX. Payloads are NUL-terminated strings, except a
// written value and a read reply, which are raw bytes. Everything here is
// pure: it runs and is fuzzed on any host.

// message is one xenstore message.
type message struct {
	typ, reqID, txID uint32
	payload          []byte
}

// errShort says that a buffer holds only the start of a message.
var errShort = errors.New("xenstore: incomplete message")

// appendRequest encodes a request whose payload is the concatenation of
// parts.
func appendRequest(b []byte, typ, reqID, txID uint32, parts ...string) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	b = binary.LittleEndian.AppendUint32(b, typ)
	b = binary.LittleEndian.AppendUint32(b, reqID)
	b = binary.LittleEndian.AppendUint32(b, txID)
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// parseMessage decodes the message at the start of b and returns it with
// its encoded length. errShort means b holds only part of a message (read
// more); any other error means the stream is corrupt. The payload aliases
// b.
func parseMessage(b []byte) (m message, n int, err error) {
	if len(b) < xenstoreHeaderBytes {
		return m, 0, errShort
	}
	m.typ = binary.LittleEndian.Uint32(b[0:])
	m.reqID = binary.LittleEndian.Uint32(b[4:])
	m.txID = binary.LittleEndian.Uint32(b[8:])
	l := binary.LittleEndian.Uint32(b[12:])
	if l > xenstorePayloadMax {
		return m, 0, api.EIO
	}
	if m.typ >= xsTypeCount {
		return m, 0, api.EIO
	}
	n = xenstoreHeaderBytes + int(l)
	if len(b) < n {
		return m, 0, errShort
	}
	m.payload = b[xenstoreHeaderBytes:n]
	return m, n, nil
}

// cstring returns the bytes of b up to its first NUL, and false when there
// is none.
func cstring(b []byte) (string, bool) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return "", false
	}
	return string(b[:i]), true
}

// replyErr checks that m answers a request of type typ: an XS_ERROR reply
// becomes its errno, a reply of another type is a protocol error (EIO).
func replyErr(m *message, typ uint32) error {
	if m.typ == xsError {
		s, ok := cstring(m.payload)
		if !ok {
			s = string(m.payload) // tolerate a missing terminator
		}
		return xenstoreErrno(s)
	}
	if m.typ != typ {
		return api.EIO
	}
	return nil
}

// decodeOK checks the "OK" acknowledgement of write-like requests.
func decodeOK(p []byte) error {
	if string(p) == "OK\x00" || string(p) == "OK" {
		return nil
	}
	return api.EIO
}

// decodeStrings splits a payload of NUL-terminated strings (a directory
// listing, permissions). An empty payload is no strings; a payload that
// does not end in NUL is a protocol error.
func decodeStrings(p []byte) ([]string, error) {
	if len(p) == 0 {
		return nil, nil
	}
	if p[len(p)-1] != 0 {
		return nil, api.EIO
	}
	var out []string
	for len(p) > 0 {
		i := bytes.IndexByte(p, 0)
		out = append(out, string(p[:i]))
		p = p[i+1:]
	}
	return out, nil
}

// decodeTxID parses the id TRANSACTION_START returns ("42\0").
func decodeTxID(p []byte) (uint32, error) {
	s, ok := cstring(p)
	if !ok {
		return 0, api.EIO
	}
	id, err := strconv.ParseUint(s, 10, 32)
	if err != nil || id == 0 {
		return 0, api.EIO
	}
	return uint32(id), nil
}

// decodeWatchEvent parses an XS_WATCH_EVENT payload: the path that
// changed and the watch's token, each NUL-terminated.
func decodeWatchEvent(p []byte) (path, token string, err error) {
	path, ok := cstring(p)
	if !ok {
		return "", "", api.EIO
	}
	token, ok = cstring(p[len(path)+1:])
	if !ok {
		return "", "", api.EIO
	}
	return path, token, nil
}

// checkPath rejects paths the daemon could not take: empty, with a NUL,
// or longer than the protocol allows.
func checkPath(p string) error {
	max := xenstoreRelPathMax
	if len(p) > 0 && p[0] == '/' {
		max = xenstoreAbsPathMax
	}
	if p == "" || len(p) > max || strings.IndexByte(p, 0) >= 0 {
		return api.EINVAL
	}
	return nil
}
