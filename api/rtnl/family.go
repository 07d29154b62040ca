package rtnl

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"

	"github.com/anykernel/anykernel/api"
)

//go:generate go run ../../build/rtnlgen -spec ../../build/rtnlgen/families.spec -out zfamilies.go

// family is one typed constant family of zfamilies.go: its members' C
// names and neutral values (Linux's).
type family struct {
	goType string
	prefix string
	bits   bool
	upper  bool // String prints names in upper case
	names  []string
	values []uint64
}

// word is member i's name as String prints it.
func (f *family) word(i int) string {
	w := strings.TrimPrefix(f.names[i], f.prefix)
	if !f.upper {
		w = strings.ToLower(w)
	}
	return w
}

func (f *family) format(v uint64) string {
	if !f.bits {
		for i, nv := range f.values {
			if nv == v {
				return f.word(i)
			}
		}
		return strconv.FormatUint(v, 10)
	}
	if v == 0 {
		return ""
	}
	var b strings.Builder
	rest := v
	for i, nv := range f.values {
		if nv != 0 && bits.OnesCount64(nv) == 1 && rest&nv != 0 {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(f.word(i))
			rest &^= nv
		}
	}
	if rest != 0 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString("0x" + strconv.FormatUint(rest, 16))
	}
	return b.String()
}

// ParseError reports a word that names no member of a family, or a number
// too large for it. It unwraps to api.EINVAL.
type ParseError struct {
	Type  string // Go type name: "Scope"
	Word  string // the word as given
	Input string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("rtnl: unknown %s %q in %q", e.Type, e.Word, e.Input)
}

// Unwrap makes errors.Is(err, api.EINVAL) hold.
func (e *ParseError) Unwrap() error { return api.EINVAL }

func (f *family) lookup(w string) (uint64, bool) {
	u := strings.ToUpper(w)
	for i, n := range f.names {
		if n == u || n == f.prefix+u {
			return f.values[i], true
		}
	}
	return 0, false
}

// parse reads names or numbers; max bounds the type's values.
func (f *family) parse(s string, max uint64) (uint64, error) {
	one := func(w string) (uint64, error) {
		if v, ok := f.lookup(w); ok {
			return v, nil
		}
		if n, err := strconv.ParseUint(w, 0, 64); err == nil && n <= max {
			return n, nil
		}
		return 0, &ParseError{Type: f.goType, Word: w, Input: s}
	}
	if !f.bits {
		return one(strings.TrimSpace(s))
	}
	var v uint64
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '|' || r == ' ' }) {
		clr := strings.HasPrefix(w, "~")
		x, err := one(strings.TrimPrefix(w, "~"))
		if err != nil {
			return 0, err
		}
		if clr {
			v &^= x
		} else {
			v |= x
		}
	}
	return v, nil
}

// checkFamilies verifies that a kernel's table numbers every member as the
// neutral values do. rtnetlink numbers are one set for every Linux ABI, so
// a difference means a table (or a kernel) rtnl cannot speak to. Members a
// table lacks are left alone: the kernel rejects them if they are used.
func checkFamilies(k constSource) error {
	var bad []string
	for _, f := range families {
		for i, n := range f.names {
			if v, ok := k.Const(n); ok && v != f.values[i] {
				bad = append(bad, fmt.Sprintf("%s=%#x (rtnl has %#x)", n, v, f.values[i]))
			}
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("rtnl: the ABI table numbers rtnetlink differently: %s", strings.Join(bad, ", "))
	}
	return nil
}

// constSource is where constants come from: a Kernel or an abi.Table.
type constSource interface {
	Const(name string) (uint64, bool)
}
