// Package compare compares an abi.Table with facts about the same ABI
// gathered from another source, golang.org/x/sys/unix. Facts come either
// compiled (the zxsys_test.go files build/abigen writes next to each
// table, which build only on that GOOS/GOARCH) or computed on any host
// with go/types (build/abigen/gen).
//
// Deliberate differences are excused by the single reviewed allow-list in
// allow.go.
package compare

import (
	"fmt"
	"path"
	"sort"
	"unsafe"

	"github.com/anykernel/anykernel/abi"
)

// Value is a named number in the other source.
type Value struct {
	Name  string // the table's name
	Value uint64 // as the table stores it: negative values sign-extended
}

// Field is a struct member in the other source.
type Field struct {
	Name   string // the table's field name, "st_atim.tv_sec"
	GoName string // the other source's spelling, "Atim.Sec"
	Offset uintptr
	Size   uintptr
}

// Struct is a struct layout in the other source.
type Struct struct {
	Name   string // the table's struct name
	GoType string
	Size   uintptr
	Align  uintptr
	Fields []Field
}

// Facts is everything one source says about the names it shares with a table.
type Facts struct {
	Source   string
	Syscalls []Value
	Errnos   []Value
	Consts   []Value
	Structs  []Struct
}

// Allow excuses known, deliberate differences: item -> reason. Items are
// spelled as Compare reports them: "const O_LARGEFILE",
// "struct kernel_sigset size", "field kernel_sigset.sig size"; an item
// may be a path.Match pattern ("struct * align").
type Allow map[string]string

// S converts a negative constant the way the tables store it.
func S(v int64) uint64 { return uint64(v) }

// Offset is the offset of field inside *base (for nested fields, which
// unsafe.Offsetof measures from the innermost struct).
func Offset[T, F any](base *T, field *F) uintptr {
	return uintptr(unsafe.Pointer(field)) - uintptr(unsafe.Pointer(base))
}

// Compare returns a message for every difference between t and f that
// allow does not excuse, and the allow-list items that excused nothing
// (so stale entries get noticed).
func Compare(t *abi.Table, f *Facts, allow Allow) (diffs, unused []string) {
	used := map[string]bool{}
	target := t.OS + "/" + t.Arch
	excused := func(item string) bool {
		if _, ok := allow[item]; ok {
			used[item] = true
			return true
		}
		for pat := range allow {
			if ok, _ := path.Match(pat, item); ok {
				used[pat] = true
				return true
			}
		}
		return false
	}
	report := func(item string, want, got any) {
		if excused(item) {
			return
		}
		diffs = append(diffs, fmt.Sprintf("%s %s: table has %v, %s has %v", target, item, want, f.Source, got))
	}
	missing := func(item string) {
		if excused(item + " missing") {
			return
		}
		diffs = append(diffs, fmt.Sprintf("%s %s: in %s facts but not in the table (regenerate with go run ./build/abigen -all)", target, item, f.Source))
	}

	for _, v := range f.Syscalls {
		nr, ok := t.Syscall(v.Name)
		if !ok {
			missing("syscall " + v.Name)
		} else if uint64(nr) != v.Value {
			report("syscall "+v.Name, nr, v.Value)
		}
	}
	for _, v := range f.Errnos {
		e, ok := t.ErrnoByName(v.Name)
		if !ok {
			missing("errno " + v.Name)
		} else if uint64(e.Nr) != v.Value {
			report("errno "+v.Name, e.Nr, v.Value)
		}
	}
	for _, v := range f.Consts {
		c, ok := t.Const(v.Name)
		if !ok {
			missing("const " + v.Name)
		} else if c != v.Value {
			report("const "+v.Name, fmt.Sprintf("%#x", c), fmt.Sprintf("%#x", v.Value))
		}
	}
	for _, s := range f.Structs {
		ts, ok := t.Struct(s.Name)
		if !ok {
			missing("struct " + s.Name)
			continue
		}
		if uintptr(ts.Size) != s.Size {
			report("struct "+s.Name+" size", ts.Size, fmt.Sprintf("%d (%s)", s.Size, s.GoType))
		}
		if uintptr(ts.Align) != s.Align {
			report("struct "+s.Name+" align", ts.Align, fmt.Sprintf("%d (%s)", s.Align, s.GoType))
		}
		for _, fl := range s.Fields {
			tf, ok := ts.Field(fl.Name)
			if !ok {
				missing("field " + s.Name + "." + fl.Name)
				continue
			}
			item := "field " + s.Name + "." + fl.Name
			if uintptr(tf.Offset) != fl.Offset {
				report(item+" offset", tf.Offset, fmt.Sprintf("%d (%s.%s)", fl.Offset, s.GoType, fl.GoName))
			}
			if uintptr(tf.Size) != fl.Size {
				report(item+" size", tf.Size, fmt.Sprintf("%d (%s.%s)", fl.Size, s.GoType, fl.GoName))
			}
		}
	}
	for item := range allow {
		if !used[item] {
			unused = append(unused, item)
		}
	}
	sort.Strings(unused)
	return diffs, unused
}
