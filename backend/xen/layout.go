//go:build xen

package xen

import (
	"encoding/binary"
	"unsafe"
)

// Struct layouts, from the ABI table (the backend writes what api reads).

type field struct{ off, size int }

// structLayout is one struct's size and the fields the backend uses.
type structLayout struct {
	size int
	f    map[string]field
}

var layouts = map[string]*structLayout{}

// Offsets the hot paths and the nosplit entry use, from the table.
var (
	iovSize, iovBase, iovLen              int // struct iovec
	pfdSize, pfdFd, pfdEvents, pfdRevents int // struct pollfd
	epevSize                              int // struct epoll_event
)

func initLayouts() {
	t := linuxTable()
	for _, name := range []string{"stat", "statx", "statfs", "timespec", "timeval", "pollfd", "epoll_event",
		"flock", "open_how", "utsname", "itimerspec", "itimerval", "tms", "sigevent", "iovec", "signalfd_siginfo"} {
		s, ok := t.Struct(name)
		if !ok {
			panic("xen: the ABI table lacks struct " + name)
		}
		l := &structLayout{size: s.Size, f: map[string]field{}}
		for _, f := range s.Fields {
			l.f[f.Name] = field{f.Offset, f.Size}
		}
		layouts[name] = l
	}
	iov, pfd := layouts["iovec"], layouts["pollfd"]
	iovSize, iovBase, iovLen = iov.size, iov.f["iov_base"].off, iov.f["iov_len"].off
	pfdSize, pfdFd, pfdEvents, pfdRevents = pfd.size, pfd.f["fd"].off, pfd.f["events"].off, pfd.f["revents"].off
	epevSize = layouts["epoll_event"].size
}

// out writes struct fields into memory at p.
type out struct {
	b []byte
	l *structLayout
}

func newOut(p unsafe.Pointer, name string) out {
	l := layouts[name]
	b := unsafe.Slice((*byte)(p), l.size)
	clear(b)
	return out{b, l}
}

// bytes views memory at p as a struct's bytes, without clearing it.
func view(p unsafe.Pointer, name string) out {
	l := layouts[name]
	return out{unsafe.Slice((*byte)(p), l.size), l}
}

func (o out) put(name string, v uint64) {
	f, ok := o.l.f[name]
	if !ok {
		panic("xen: no field " + name)
	}
	switch f.size {
	case 1:
		o.b[f.off] = byte(v)
	case 2:
		binary.LittleEndian.PutUint16(o.b[f.off:], uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(o.b[f.off:], uint32(v))
	default:
		binary.LittleEndian.PutUint64(o.b[f.off:], v)
	}
}

func (o out) get(name string) uint64 {
	f, ok := o.l.f[name]
	if !ok {
		panic("xen: no field " + name)
	}
	switch f.size {
	case 1:
		return uint64(o.b[f.off])
	case 2:
		return uint64(binary.LittleEndian.Uint16(o.b[f.off:]))
	case 4:
		return uint64(binary.LittleEndian.Uint32(o.b[f.off:]))
	default:
		return binary.LittleEndian.Uint64(o.b[f.off:])
	}
}

func (o out) str(name, s string) {
	f := o.l.f[name]
	copy(o.b[f.off:f.off+f.size-1], s)
}

// bytesAt views n bytes at p; nil for a nil pointer and n 0.
func bytesAt(p unsafe.Pointer, n uintptr) []byte {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(p), n)
}

// maxRW is Linux's MAX_RW_COUNT: the most one read or write moves.
const maxRW = 0x7ffff000

// buf checks a user buffer: a nil address with a length is EFAULT.
func userBuf(p unsafe.Pointer, n uintptr) ([]byte, Errno) {
	if n > maxRW {
		n = maxRW
	}
	if p == nil && n > 0 {
		return nil, EFAULT
	}
	return bytesAt(p, n), 0
}

// cstring reads a NUL-terminated string of at most max bytes.
func cstring(p unsafe.Pointer, max int) (string, Errno) {
	if p == nil {
		return "", EFAULT
	}
	for i := 0; i < max; i++ {
		if *(*byte)(unsafe.Add(p, i)) == 0 {
			return string(unsafe.Slice((*byte)(p), i)), 0
		}
	}
	return "", ENAMETOOLONG
}

func pathArg(p unsafe.Pointer) (string, Errno) { return cstring(p, 4096) }

// timespec reads a struct timespec.
func getTimespec(p unsafe.Pointer) (sec, nsec int64) {
	o := view(p, "timespec")
	return int64(o.get("tv_sec")), int64(o.get("tv_nsec"))
}

func putTimespec(p unsafe.Pointer, sec, nsec int64) {
	o := newOut(p, "timespec")
	o.put("tv_sec", uint64(sec))
	o.put("tv_nsec", uint64(nsec))
}
