package api

import (
	"fmt"
	"math/bits"
	"strings"

	"github.com/anykernel/anykernel/abi"
)

// Flag and enum families. Each family (OpenFlags, Signal, ...) is declared by
// generated code (api/zflags_*.go from build/apigen/spec) with its members'
// C names and api's neutral values, which are Linux amd64's. A Kernel maps
// each member to its own ABI's value once, at New; a family whose every
// member has the same value in the ABI converts nothing on the hot path.

type familyKind uint8

const (
	bitsKind familyKind = iota
	enumKind
)

type family struct {
	goType string   // "OpenFlags"
	prefix string   // "O_", stripped and optional when parsing
	names  []string // C names: "O_CREAT"
	values []uint64 // neutral values, same order
	kind   familyKind
	id     int // index into Kernel.bits or Kernel.enums
}

var (
	bitFamilies  []*family
	enumFamilies []*family
)

func registerBits(goType, prefix string, names []string, values []uint64) *family {
	f := &family{goType: goType, prefix: prefix, names: names, values: values, kind: bitsKind, id: len(bitFamilies)}
	bitFamilies = append(bitFamilies, f)
	return f
}

func registerEnum(goType, prefix string, names []string, values []uint64) *family {
	f := &family{goType: goType, prefix: prefix, names: names, values: values, kind: enumKind, id: len(enumFamilies)}
	enumFamilies = append(enumFamilies, f)
	return f
}

// bitMap converts one flag family between neutral and ABI values.
type bitMap struct {
	identity bool
	known    uint64   // union of neutral member values
	abi      []uint64 // per member; missing[i] when the ABI lacks it
	missing  []bool
}

// enumMap converts one enumeration.
type enumMap struct {
	identity bool
	toABI    map[uint64]uint64
	fromABI  map[uint64]uint64
}

func (k *Kernel) initFlags() error {
	k.bits = make([]bitMap, len(bitFamilies))
	for _, f := range bitFamilies {
		m := bitMap{identity: true, abi: make([]uint64, len(f.names)), missing: make([]bool, len(f.names))}
		for i, n := range f.names {
			m.known |= f.values[i]
			v, ok := k.table.Const(n)
			if !ok {
				m.missing[i] = true
				m.identity = false
				continue
			}
			m.abi[i] = v
			if v != f.values[i] {
				m.identity = false
			}
		}
		k.bits[f.id] = m
	}
	k.enums = make([]enumMap, len(enumFamilies))
	for _, f := range enumFamilies {
		m := enumMap{identity: true, toABI: map[uint64]uint64{}, fromABI: map[uint64]uint64{}}
		for i, n := range f.names {
			v, ok := k.table.Const(n)
			if !ok {
				m.identity = false
				continue
			}
			m.toABI[f.values[i]] = v
			if _, dup := m.fromABI[v]; !dup {
				m.fromABI[v] = f.values[i]
			}
			if v != f.values[i] {
				m.identity = false
			}
		}
		k.enums[f.id] = m
	}
	return nil
}

// flagsToABI converts a neutral flag set of family f to the ABI's bits.
func (k *Kernel) flagsToABI(f *family, v uint64) (uint64, error) {
	m := &k.bits[f.id]
	if m.identity || v == 0 {
		return v, nil
	}
	if extra := v &^ m.known; extra != 0 {
		return 0, fmt.Errorf("%s: unknown bits %#x", f.goType, extra)
	}
	var out uint64
	for i, nv := range f.values {
		if nv == 0 || v&nv != nv {
			continue
		}
		if m.missing[i] {
			return 0, &notInABI{f.goType + ": " + f.names[i], k.table}
		}
		out |= m.abi[i]
	}
	return out, nil
}

// flagsFromABI converts ABI bits of family f to api's values; bits api has no
// name for are dropped.
func (k *Kernel) flagsFromABI(f *family, v uint64) uint64 {
	m := &k.bits[f.id]
	if m.identity {
		return v
	}
	var out uint64
	for i, nv := range f.values {
		if m.missing[i] || m.abi[i] == 0 {
			continue
		}
		if v&m.abi[i] == m.abi[i] {
			out |= nv
		}
	}
	return out
}

// enumToABI converts a neutral member of enumeration f to the ABI's value.
func (k *Kernel) enumToABI(f *family, v uint64) (uint64, error) {
	m := &k.enums[f.id]
	if m.identity {
		return v, nil
	}
	if a, ok := m.toABI[v]; ok {
		return a, nil
	}
	for i, nv := range f.values {
		if nv == v {
			return 0, &notInABI{f.names[i], k.table}
		}
	}
	return 0, fmt.Errorf("%s: unknown value %d: %w", f.goType, int64(v), EINVAL)
}

// member reports whether v is one of f's members (enumerations).
func (f *family) member(v uint64) bool {
	for _, nv := range f.values {
		if nv == v {
			return true
		}
	}
	return false
}

// notInABI reports a flag or value the kernel's ABI does not have at all
// (O_PATH on NetBSD). It unwraps to ENOTSUP, and errors.Is(err, ENOSYS)
// holds too: the call cannot be served as asked, which the conformance
// matrix shows as ENOSYS rather than as a failure.
type notInABI struct {
	what  string
	table *abi.Table
}

func (e *notInABI) Error() string {
	return e.what + " is not supported by " + e.table.OS + "/" + e.table.Arch + ": " + ENOTSUP.Error()
}

func (e *notInABI) Unwrap() error { return ENOTSUP }

func (e *notInABI) Is(target error) bool { return target == ENOSYS }

// enumFromABI converts an ABI value of enumeration f to api's value; values
// api has no name for are returned unchanged.
func (k *Kernel) enumFromABI(f *family, v uint64) uint64 {
	m := &k.enums[f.id]
	if m.identity {
		return v
	}
	if n, ok := m.fromABI[v]; ok {
		return n
	}
	return v
}

// ParseError reports a word that names no member of a flag family.
type ParseError struct {
	Family string // Go type name: "OpenFlags"
	Word   string // the word as given
	Input  string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("api: unknown %s word %q in %q", e.Family, e.Word, e.Input)
}

// Unwrap makes errors.Is(err, api.EINVAL) hold for parse errors too.
func (e *ParseError) Unwrap() error { return EINVAL }

// lookup finds a member by word: case-insensitive, prefix optional.
func (f *family) lookup(word string) (int, bool) {
	for i, n := range f.names {
		// EqualFold, not ToUpper: some C names are mixed case
		// (BPF_FUNC_map_lookup_elem).
		if strings.EqualFold(n, word) ||
			(len(n) == len(f.prefix)+len(word) && strings.EqualFold(n[:len(f.prefix)], f.prefix) && strings.EqualFold(n[len(f.prefix):], word)) {
			return i, true
		}
	}
	return 0, false
}

func splitWords(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '|' || r == ' ' || r == '\t' })
}

// parseBits parses "rdwr,creat,~cloexec" for family f: words are applied
// left to right, a leading "~" clears the member instead of setting it.
func (f *family) parseBits(s string) (uint64, error) {
	var v uint64
	for _, w := range splitWords(s) {
		clear := strings.HasPrefix(w, "~")
		name := strings.TrimPrefix(w, "~")
		i, ok := f.lookup(name)
		if !ok {
			return 0, &ParseError{Family: f.goType, Word: w, Input: s}
		}
		if clear {
			v &^= f.values[i]
		} else {
			v |= f.values[i]
		}
	}
	return v, nil
}

// parseEnum parses one member name of enumeration f.
func (f *family) parseEnum(s string) (uint64, error) {
	w := strings.TrimSpace(s)
	i, ok := f.lookup(w)
	if !ok {
		return 0, &ParseError{Family: f.goType, Word: w, Input: s}
	}
	return f.values[i], nil
}

// formatBits prints v as "O_RDWR|O_CREAT"; unnamed bits print in hex.
func (f *family) formatBits(v uint64) string {
	if v == 0 {
		for i, nv := range f.values {
			if nv == 0 {
				return f.names[i]
			}
		}
		return "0"
	}
	// Members with more bits claim them first, so O_SYNC wins over its
	// O_DSYNC part; the chosen names then print in declaration order.
	chosen := make([]bool, len(f.values))
	rest := v
	for pass := 64; pass > 0 && rest != 0; pass-- {
		for i, nv := range f.values {
			if nv != 0 && bits.OnesCount64(nv) == pass && rest&nv == nv {
				chosen[i] = true
				rest &^= nv
			}
		}
	}
	var b strings.Builder
	for i, c := range chosen {
		if c {
			if b.Len() > 0 {
				b.WriteByte('|')
			}
			b.WriteString(f.names[i])
		}
	}
	if rest != 0 {
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		fmt.Fprintf(&b, "%#x", rest)
	}
	return b.String()
}

// formatEnum prints the member's C name, or the number when it has none.
func (f *family) formatEnum(v uint64) string {
	for i, nv := range f.values {
		if nv == v {
			return f.names[i]
		}
	}
	return fmt.Sprintf("%s(%d)", f.goType, int64(v))
}
