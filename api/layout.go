package api

import (
	"encoding/binary"
	"fmt"

	"github.com/anykernel/anykernel/abi"
)

// Struct layouts. Neutral types (Stat, Timespec, ...) are filled from the
// bytes an ABI's C struct occupies; each Kernel resolves the offsets it needs
// once, at New, into fieldAt values.

// fieldAt locates one C field in a raw struct. size 0 means the ABI lacks
// the field, and reads give 0, writes do nothing.
type fieldAt struct {
	off, size uint16
}

// layout is a resolved C struct of one ABI.
type layout struct {
	size int
	be   bool
	s    *abi.Struct
}

// layoutOf resolves a struct of the kernel's ABI; missing structs are an
// error at New, so a backend cannot half-work.
//
// On time64 kernels "timespec" and "itimerspec" are the kernel's 64-bit
// structs, the ones the calls api makes there take.
func (k *Kernel) layoutOf(name string) (layout, error) {
	if k.time64 {
		switch name {
		case "timespec":
			name = "kernel_timespec"
		case "itimerspec":
			return k.kernelItimerspec()
		}
	}
	s, ok := k.table.Struct(name)
	if !ok {
		return layout{}, fmt.Errorf("struct %s missing from the ABI table", name)
	}
	return layout{size: s.Size, be: k.table.BigEndian, s: s}, nil
}

// kernelItimerspec is struct __kernel_itimerspec, two __kernel_timespecs
// (it_interval, it_value), which the tables do not list: it is built from
// the table's kernel_timespec.
func (k *Kernel) kernelItimerspec() (layout, error) {
	ts, ok := k.table.Struct("kernel_timespec")
	if !ok {
		return layout{}, fmt.Errorf("struct kernel_timespec missing from the ABI table")
	}
	s := &abi.Struct{Name: "itimerspec", Size: 2 * ts.Size, Align: ts.Align}
	for i, member := range []string{"it_interval.", "it_value."} {
		for _, f := range ts.Fields {
			s.Fields = append(s.Fields, abi.Field{Name: member + f.Name, Offset: i*ts.Size + f.Offset, Size: f.Size})
		}
	}
	return layout{size: s.Size, be: k.table.BigEndian, s: s}, nil
}

// optLayout is layoutOf for structs an ABI may lack (statx on NetBSD); size
// is 0 then, and callers answer ENOSYS.
func (k *Kernel) optLayout(name string) layout {
	l, _ := k.layoutOf(name)
	return l
}

// field returns a field's place; absent fields read as zero.
func (l layout) field(name string) fieldAt {
	if l.s == nil {
		return fieldAt{}
	}
	f, ok := l.s.Field(name)
	if !ok {
		return fieldAt{}
	}
	return fieldAt{off: uint16(f.Offset), size: uint16(f.Size)}
}

// must returns a field's place or an error naming it.
func (l layout) must(name string) (fieldAt, error) {
	if l.s == nil {
		return fieldAt{}, fmt.Errorf("no layout for field %s", name)
	}
	f, ok := l.s.Field(name)
	if !ok {
		return fieldAt{}, fmt.Errorf("struct %s has no field %s", l.s.Name, name)
	}
	return fieldAt{off: uint16(f.Offset), size: uint16(f.Size)}, nil
}

// uint reads an unsigned integer field of any width.
func (f fieldAt) uint(b []byte, be bool) uint64 {
	p := b[f.off:]
	if be {
		switch f.size {
		case 1:
			return uint64(p[0])
		case 2:
			return uint64(binary.BigEndian.Uint16(p))
		case 4:
			return uint64(binary.BigEndian.Uint32(p))
		case 8:
			return binary.BigEndian.Uint64(p)
		}
		return 0
	}
	switch f.size {
	case 1:
		return uint64(p[0])
	case 2:
		return uint64(binary.LittleEndian.Uint16(p))
	case 4:
		return uint64(binary.LittleEndian.Uint32(p))
	case 8:
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

// int reads a signed integer field, sign-extending narrower ones.
func (f fieldAt) int(b []byte, be bool) int64 {
	v := f.uint(b, be)
	switch f.size {
	case 1:
		return int64(int8(v))
	case 2:
		return int64(int16(v))
	case 4:
		return int64(int32(v))
	}
	return int64(v)
}

// put writes an integer field, truncating to its width.
func (f fieldAt) put(b []byte, be bool, v uint64) {
	p := b[f.off:]
	if be {
		switch f.size {
		case 1:
			p[0] = byte(v)
		case 2:
			binary.BigEndian.PutUint16(p, uint16(v))
		case 4:
			binary.BigEndian.PutUint32(p, uint32(v))
		case 8:
			binary.BigEndian.PutUint64(p, v)
		}
		return
	}
	switch f.size {
	case 1:
		p[0] = byte(v)
	case 2:
		binary.LittleEndian.PutUint16(p, uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(p, uint32(v))
	case 8:
		binary.LittleEndian.PutUint64(p, v)
	}
}

// bytes returns the field's bytes (arrays, addresses).
func (f fieldAt) bytes(b []byte) []byte { return b[f.off : int(f.off)+int(f.size)] }

// ok reports whether the ABI has the field.
func (f fieldAt) ok() bool { return f.size != 0 }
