package gen

import (
	"fmt"
	"sort"
	"strings"

	"github.com/anykernel/anykernel/abi"
)

// xsysDir is golang.org/x/sys's source directory, set by the commands
// before generating targets whose source is x/sys.
var xsysDir string

// generateXSys builds t's table from golang.org/x/sys/unix's generated
// files for t.GOOS/t.GOARCH, then adds what t.Units hand-describe.
func generateXSys(t *target) (*result, error) {
	if xsysDir == "" {
		return nil, fmt.Errorf("%s/%s: golang.org/x/sys source directory unknown", t.GOOS, t.GOARCH)
	}
	x, err := loadXPkg(xsysDir, t.GOOS, t.GOARCH)
	if err != nil {
		return nil, err
	}
	if x == nil {
		return nil, fmt.Errorf("%s/%s: golang.org/x/sys/unix has no files for it", t.GOOS, t.GOARCH)
	}
	spec := t.XSys
	res := &result{
		Table: &abi.Table{
			OS: t.GOOS, Arch: t.GOARCH, PtrSize: t.PtrSize, BigEndian: t.BigEndian, Arg64: t.Arg64,
		},
		ConstUnit:  map[string]string{},
		Provenance: fmt.Sprintf("golang.org/x/sys %s unix/%s", strings.TrimPrefix(x.version, "sys@"), strings.Join(x.files, ", ")),
	}
	tbl := res.Table

	// Syscalls.
	sys := x.syscalls(t.GOOS == "netbsd")
	for name, goName := range sys {
		v, _, _ := x.intConst(goName)
		tbl.Syscalls = append(tbl.Syscalls, abi.Syscall{Name: name, Nr: uintptr(v)})
	}
	for _, s := range spec.Syscalls {
		if _, dup := sys[s.Name]; dup {
			return nil, fmt.Errorf("hand-described syscall %s is in x/sys too: drop it from the configuration", s.Name)
		}
		for _, o := range tbl.Syscalls {
			if o.Nr == s.Nr {
				return nil, fmt.Errorf("hand-described syscall %s = %d: x/sys has %s with that number", s.Name, s.Nr, o.Name)
			}
		}
		tbl.Syscalls = append(tbl.Syscalls, s)
	}
	sort.Slice(tbl.Syscalls, func(i, j int) bool { return tbl.Syscalls[i].Name < tbl.Syscalls[j].Name })

	// Errnos: every constant of type syscall.Errno; the canonical name
	// of a number is the one x/sys's errorList gives it, the others are
	// constants only. Messages are errorList's, whose first letter x/sys
	// lower-cased, restored.
	byNr := map[uint64]bool{}
	for _, n := range x.constNames() {
		if x.constType(n) != "Errno" {
			continue
		}
		v, _, ok := x.intConst(n)
		if !ok {
			continue
		}
		tbl.Consts = append(tbl.Consts, abi.Const{Name: n, Value: v})
		res.ConstUnit[n] = "x/sys"
		e, listed := x.errorList[v]
		if !listed || e[0] != n {
			if !listed && !byNr[v] && n != "ELAST" {
				return nil, fmt.Errorf("errno %s = %d is not in x/sys's errorList", n, v)
			}
			continue
		}
		byNr[v] = true
		msg := e[1]
		if msg != "" {
			msg = strings.ToUpper(msg[:1]) + msg[1:]
		}
		tbl.Errnos = append(tbl.Errnos, abi.Errno{Name: n, Nr: uintptr(v), Msg: msg})
	}
	sort.Slice(tbl.Errnos, func(i, j int) bool { return tbl.Errnos[i].Nr < tbl.Errnos[j].Nr })

	// Constants.
	for _, n := range x.constNames() {
		if _, done := res.ConstUnit[n]; done || strings.HasPrefix(n, "SYS_") {
			continue
		}
		if !hasAnyPrefix(n, spec.Prefixes) || hasAnyPrefix(n, spec.Exclude) {
			continue
		}
		v, _, ok := x.intConst(n)
		if !ok {
			continue
		}
		tbl.Consts = append(tbl.Consts, abi.Const{Name: n, Value: v})
		res.ConstUnit[n] = "x/sys"
	}
	for _, c := range spec.Consts {
		if _, dup := res.ConstUnit[c.Name]; dup {
			return nil, fmt.Errorf("hand-described constant %s is in x/sys too", c.Name)
		}
		tbl.Consts = append(tbl.Consts, c)
		res.ConstUnit[c.Name] = "config"
	}
	sort.Slice(tbl.Consts, func(i, j int) bool { return tbl.Consts[i].Name < tbl.Consts[j].Name })

	// Structs, laid out as the target's C compiler would.
	sizes := cSizes(t.GOARCH, t.PtrSize)
	for _, s := range spec.Structs {
		if x.structOf(s.GoType) == nil {
			res.Skipped = append(res.Skipped, fmt.Sprintf("struct %s: x/sys has no %s", s.Name, s.GoType))
			continue
		}
		size, align, _ := x.typeLayout(s.GoType, sizes)
		st := abi.Struct{Name: s.Name, Size: int(size), Align: int(align)}
		names := map[string]bool{}
		for _, f := range x.xstructFields(s, spec.TypePrefix) {
			off, sz, ok := x.fieldAt(s.GoType, f.goPath, sizes)
			if !ok {
				return nil, fmt.Errorf("struct %s: cannot lay out %s.%s", s.Name, s.GoType, f.goPath)
			}
			if names[f.c] {
				return nil, fmt.Errorf("struct %s: field %s appears twice", s.Name, f.c)
			}
			names[f.c] = true
			st.Fields = append(st.Fields, abi.Field{Name: f.c, Offset: int(off), Size: int(sz)})
		}
		sort.SliceStable(st.Fields, func(a, b int) bool { return st.Fields[a].Offset < st.Fields[b].Offset })
		tbl.Structs = append(tbl.Structs, st)
	}

	// Hand-described units, laid out by the target's C compiler.
	if len(t.Units) > 0 {
		c, err := newCC(t)
		if err != nil {
			return nil, err
		}
		defer c.close()
		if err := genUnits(c, t, res); err != nil {
			return nil, err
		}
	}
	sort.Slice(tbl.Structs, func(i, j int) bool { return tbl.Structs[i].Name < tbl.Structs[j].Name })
	for i := 1; i < len(tbl.Structs); i++ {
		if tbl.Structs[i].Name == tbl.Structs[i-1].Name {
			return nil, fmt.Errorf("struct %s configured twice", tbl.Structs[i].Name)
		}
	}
	return res, nil
}
