package gen

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/constant"
	"go/format"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/anykernel/anykernel/abi"
	"github.com/anykernel/anykernel/build/abicheck/compare"
)

// xpkg is golang.org/x/sys/unix's generated files for one GOOS/GOARCH
// (zerrors, zsysnum, ztypes: the tables x/sys generates from that
// system's C headers), type-checked with go/types on any host. A stub
// stands in for package syscall (Errno and Signal are all they use).
type xpkg struct {
	version      string
	goos, goarch string
	files        []string
	pkg          *types.Package
	comments     map[string]string    // SYS_* constant -> its line comment (syscalls.master entry)
	errorList    map[uint64][2]string // errno number -> name, message (x/sys's errorList)
}

const syscallStub = `package syscall
type Errno uintptr
type Signal int
`

type stubImporter struct{ sys *types.Package }

func (i stubImporter) Import(path string) (*types.Package, error) {
	switch path {
	case "syscall":
		return i.sys, nil
	case "unsafe":
		return types.Unsafe, nil
	}
	return nil, fmt.Errorf("x/sys z files import %q, which the generator does not provide", path)
}

var xpkgCache = map[string]*xpkg{}

// loadXPkg type-checks x/sys/unix's z files for goos/goarch. It returns
// nil if x/sys has no files for the target.
func loadXPkg(dir, goos, goarch string) (*xpkg, error) {
	key := dir + "|" + goos + "/" + goarch
	if x, ok := xpkgCache[key]; ok {
		return x, nil
	}
	unixDir := filepath.Join(dir, "unix")
	if _, err := os.Stat(filepath.Join(unixDir, "syscall.go")); err != nil {
		return nil, fmt.Errorf("%s is not golang.org/x/sys (no unix/syscall.go): %w", dir, err)
	}
	x := &xpkg{version: filepath.Base(dir), goos: goos, goarch: goarch,
		comments: map[string]string{}, errorList: map[uint64][2]string{}}
	fset := token.NewFileSet()
	var afs []*ast.File
	archFile := false
	for _, kind := range []string{"zerrors", "zsysnum", "ztypes"} {
		for _, f := range []string{kind + "_" + goos + ".go", kind + "_" + goos + "_" + goarch + ".go"} {
			path := filepath.Join(unixDir, f)
			if _, err := os.Stat(path); err != nil {
				continue
			}
			af, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
			if err != nil {
				return nil, fmt.Errorf("parsing x/sys: %w", err)
			}
			x.files = append(x.files, f)
			afs = append(afs, af)
			if strings.HasSuffix(f, "_"+goarch+".go") {
				archFile = true
			}
			x.scan(af)
		}
	}
	if !archFile {
		xpkgCache[key] = nil
		return nil, nil
	}
	sf, err := parser.ParseFile(fset, "syscall_stub.go", syscallStub, 0)
	if err != nil {
		return nil, err
	}
	sys, err := (&types.Config{}).Check("syscall", fset, []*ast.File{sf}, nil)
	if err != nil {
		return nil, err
	}
	var errs []string
	conf := types.Config{
		Importer: stubImporter{sys},
		Sizes:    types.SizesFor("gc", goarch),
		Error: func(err error) {
			if len(errs) < 10 {
				errs = append(errs, err.Error())
			}
		},
	}
	pkg, _ := conf.Check("golang.org/x/sys/unix", fset, afs, nil)
	if len(errs) > 0 {
		return nil, fmt.Errorf("type-checking x/sys/unix z files for %s/%s: %s", goos, goarch, strings.Join(errs, "; "))
	}
	x.pkg = pkg
	xpkgCache[key] = x
	return x, nil
}

// scan collects SYS_* line comments and errorList entries.
func (x *xpkg) scan(af *ast.File) {
	for _, d := range af.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, s := range gd.Specs {
			vs, ok := s.(*ast.ValueSpec)
			if !ok {
				continue
			}
			for i, n := range vs.Names {
				if gd.Tok == token.CONST && strings.HasPrefix(n.Name, "SYS_") && vs.Comment != nil {
					x.comments[n.Name] = strings.TrimSpace(vs.Comment.Text())
				}
				if gd.Tok == token.VAR && n.Name == "errorList" && i < len(vs.Values) {
					lit, ok := vs.Values[i].(*ast.CompositeLit)
					if !ok {
						continue
					}
					for _, el := range lit.Elts {
						e, ok := el.(*ast.CompositeLit)
						if !ok || len(e.Elts) != 3 {
							continue
						}
						num, ok1 := e.Elts[0].(*ast.BasicLit)
						name, ok2 := e.Elts[1].(*ast.BasicLit)
						desc, ok3 := e.Elts[2].(*ast.BasicLit)
						if !ok1 || !ok2 || !ok3 {
							continue
						}
						nr, err := strconv.ParseUint(num.Value, 0, 64)
						nm, err2 := strconv.Unquote(name.Value)
						ds, err3 := strconv.Unquote(desc.Value)
						if err == nil && err2 == nil && err3 == nil {
							x.errorList[nr] = [2]string{nm, ds}
						}
					}
				}
			}
		}
	}
}

// intConst returns an exported integer constant as the tables store it
// (negative values sign-extended) and whether it is negative.
func (x *xpkg) intConst(name string) (v uint64, negative, ok bool) {
	c, isConst := x.pkg.Scope().Lookup(name).(*types.Const)
	if !isConst || !c.Exported() || c.Val().Kind() != constant.Int {
		return 0, false, false
	}
	if constant.Sign(c.Val()) < 0 {
		i, exact := constant.Int64Val(c.Val())
		return uint64(i), true, exact
	}
	u, exact := constant.Uint64Val(c.Val())
	return u, false, exact
}

// constType is the name of c's named type ("Errno", "Signal"), "" if untyped or basic.
func (x *xpkg) constType(name string) string {
	c, _ := x.pkg.Scope().Lookup(name).(*types.Const)
	if c == nil {
		return ""
	}
	if n, ok := c.Type().(*types.Named); ok {
		return n.Obj().Name()
	}
	return ""
}

// names returns the package's exported constant names, sorted.
func (x *xpkg) constNames() []string {
	var out []string
	for _, n := range x.pkg.Scope().Names() {
		if _, ok := x.pkg.Scope().Lookup(n).(*types.Const); ok && token.IsExported(n) {
			out = append(out, n)
		}
	}
	return out
}

// structOf returns the named struct type.
func (x *xpkg) structOf(name string) *types.Struct {
	tn, ok := x.pkg.Scope().Lookup(name).(*types.TypeName)
	if !ok {
		return nil
	}
	st, _ := tn.Type().Underlying().(*types.Struct)
	return st
}

// fieldAt resolves a dotted Go field path in the named struct type and
// returns its offset and size under sizes.
func (x *xpkg) fieldAt(typeName, path string, sizes types.Sizes) (off, size int64, ok bool) {
	st := x.structOf(typeName)
	for i, p := range strings.Split(path, ".") {
		if st == nil {
			return 0, 0, false
		}
		var fields []*types.Var
		for j := 0; j < st.NumFields(); j++ {
			fields = append(fields, st.Field(j))
		}
		offs := sizes.Offsetsof(fields)
		found := -1
		for j, f := range fields {
			if f.Name() == p {
				found = j
			}
		}
		if found < 0 {
			return 0, 0, false
		}
		off += offs[found]
		ft := fields[found].Type()
		if i == len(strings.Split(path, "."))-1 {
			return off, sizes.Sizeof(ft), true
		}
		st, _ = ft.Underlying().(*types.Struct)
	}
	return 0, 0, false
}

// typeLayout returns size and alignment of the named type under sizes.
func (x *xpkg) typeLayout(typeName string, sizes types.Sizes) (size, align int64, ok bool) {
	tn, isType := x.pkg.Scope().Lookup(typeName).(*types.TypeName)
	if !isType {
		return 0, 0, false
	}
	return sizes.Sizeof(tn.Type()), sizes.Alignof(tn.Type()), true
}

// cSizes lays types out as the target's C compiler does: like Go's gc,
// except that 8-byte integers and floats are 8-aligned on 32-bit targets
// other than 386 (x/sys pads its structs explicitly to the C offsets, so
// only alignments and no offsets change).
func cSizes(goarch string, ptrSize int) types.Sizes {
	maxAlign := int64(8)
	if goarch == "386" {
		maxAlign = 4
	}
	return &types.StdSizes{WordSize: int64(ptrSize), MaxAlign: maxAlign}
}

var sysnumComment = regexp.MustCompile(`^\{\s*[^|{}]*\|[^|]*\|(\d*)\|(\w+)\(`)

// syscallName is the table's name for x/sys's SYS_NAME constant: the C
// name lower-cased; on NetBSD a versioned syscall ({ int|sys|50|stat(...) }
// in syscalls.master, which x/sys calls SYS_STAT) gets NetBSD's own name,
// "__stat50", the one sys/syscall.h defines.
func (x *xpkg) syscallName(goName string, netbsd bool) string {
	name := strings.ToLower(strings.TrimPrefix(goName, "SYS_"))
	if netbsd {
		if m := sysnumComment.FindStringSubmatch(x.comments[goName]); m != nil && m[1] != "" {
			return "__" + m[2] + m[1]
		}
	}
	return name
}

// syscalls returns x/sys's syscall constants: table name -> Go name.
func (x *xpkg) syscalls(netbsd bool) map[string]string {
	m := map[string]string{}
	for _, n := range x.constNames() {
		if strings.HasPrefix(n, "SYS_") {
			if _, _, ok := x.intConst(n); ok {
				m[x.syscallName(n, netbsd)] = n
			}
		}
	}
	return m
}

// lowerFirst lower-cases the first letter.
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// xfield is one member of an x/sys struct under its C name.
type xfield struct {
	c, goPath string
}

// xstructFields walks an x/sys struct type and names its members as C
// does: the member prefix of the type plus the Go name with its first
// letter lowered (Atim -> st_atim), nested structs whole and flattened
// ("st_atim", "st_atim.tv_sec"), arrays and unions whole, and members
// that x/sys renamed from reserved C names (X_*, Pad_*, _) left out,
// as the C generator leaves out members starting with "_".
func (x *xpkg) xstructFields(s xstruct, typePrefix map[string]string) []xfield {
	var out []xfield
	var walk func(st *types.Struct, cPrefix, goPrefix, memberPrefix string)
	walk = func(st *types.Struct, cPrefix, goPrefix, memberPrefix string) {
		for i := 0; i < st.NumFields(); i++ {
			f := st.Field(i)
			n := f.Name()
			if n == "_" || !f.Exported() || strings.HasPrefix(n, "X_") || strings.HasPrefix(n, "Pad_") {
				continue
			}
			goPath := goPrefix + n
			c := lowerFirst(n)
			if !strings.HasPrefix(c, memberPrefix) {
				c = memberPrefix + c
			}
			c = cPrefix + c
			names := []string{c}
			if r, ok := s.Rename[goPath]; ok {
				if r == "" {
					continue
				}
				names = strings.Split(r, ",")
			}
			// Every name of a nested struct is flattened, so an alias
			// (darwin's st_atim for st_atimespec) has its members too.
			for _, c := range names {
				out = append(out, xfield{c, goPath})
				if named, ok := f.Type().(*types.Named); ok {
					if sub, ok := named.Underlying().(*types.Struct); ok {
						walk(sub, c+".", goPath+".", typePrefix[named.Obj().Name()])
					}
				}
			}
		}
	}
	if st := x.structOf(s.GoType); st != nil {
		walk(st, "", "", s.Prefix)
	}
	return out
}

// xmap pairs the names of a table with x/sys's: what the x/sys check
// compares, and what zxsys_test.go compiles.
type xmap struct {
	Syscalls, Errnos, Consts [][2]string // table name, Go name
	Derived                  []xderived
	Structs                  []xmapStruct
}

// xderived is a constant x/sys computes rather than names.
type xderived struct {
	Name   string // the table's name
	Value  uint64 // by the generator's restatement of x/sys's rule
	GoExpr string // the value as x/sys computes it, for zxsys_test.go
}

type xmapStruct struct {
	Name, GoType string
	Fields       [][2]string // table field, Go field path
	Missing      []string    // table fields x/sys lacks
}

// buildXMap matches tbl's names with x/sys's for target t.
func buildXMap(t *target, tbl *abi.Table, x *xpkg) *xmap {
	m := &xmap{}
	if t.XSys != nil {
		sys := x.syscalls(t.GOOS == "netbsd")
		var names []string
		for n := range sys {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			m.Syscalls = append(m.Syscalls, [2]string{n, sys[n]})
		}
	} else {
		for _, s := range tbl.Syscalls {
			if g := "SYS_" + strings.ToUpper(s.Name); x.has(g) {
				m.Syscalls = append(m.Syscalls, [2]string{s.Name, g})
			}
		}
	}
	for _, e := range tbl.Errnos {
		if x.has(e.Name) {
			m.Errnos = append(m.Errnos, [2]string{e.Name, e.Name})
		}
	}
	for _, c := range tbl.Consts {
		// x/sys's SYS_* are syscall numbers, compared above; the
		// table's SYS_* constants are socketcall(2) call numbers.
		if !strings.HasPrefix(c.Name, "SYS_") && x.has(c.Name) {
			m.Consts = append(m.Consts, [2]string{c.Name, c.Name})
		}
	}
	if _, ok := tbl.Const("CMSG_ALIGN_UNIT"); ok {
		m.Derived = append(m.Derived, xderived{"CMSG_ALIGN_UNIT", cmsgAlignUnit(t.GOOS, t.GOARCH, t.PtrSize), "unix.CmsgSpace(1) - unix.CmsgSpace(0)"})
	}
	gc := types.SizesFor("gc", t.GOARCH)
	if t.XSys != nil {
		specs := append([]xstruct(nil), t.XSys.Structs...)
		sort.Slice(specs, func(i, j int) bool { return specs[i].Name < specs[j].Name })
		for _, s := range specs {
			st, ok := tbl.Struct(s.Name)
			if !ok || x.structOf(s.GoType) == nil {
				continue
			}
			ms := xmapStruct{Name: s.Name, GoType: s.GoType}
			for _, f := range x.xstructFields(s, t.XSys.TypePrefix) {
				if _, ok := st.Field(f.c); ok {
					ms.Fields = append(ms.Fields, [2]string{f.c, f.goPath})
				}
			}
			m.Structs = append(m.Structs, ms)
		}
		return m
	}
	specs := append([]structSpec(nil), t.Structs...)
	sort.Slice(specs, func(i, j int) bool { return specs[i].Name < specs[j].Name })
	for _, s := range specs {
		st, ok := tbl.Struct(s.Name)
		if s.XSys == "" || !ok || x.structOf(s.XSys) == nil {
			continue
		}
		ms := xmapStruct{Name: s.Name, GoType: s.XSys}
		for _, f := range st.Fields {
			gp := goFieldPath(t, s, f.Name)
			if _, _, ok := x.fieldAt(s.XSys, gp, gc); !ok {
				ms.Missing = append(ms.Missing, f.Name)
				continue
			}
			ms.Fields = append(ms.Fields, [2]string{f.Name, gp})
		}
		m.Structs = append(m.Structs, ms)
	}
	return m
}

// facts computes what x/sys says about m's names with go/types, laying
// types out as Go's gc compiler does for the target.
func (x *xpkg) facts(m *xmap) *compare.Facts {
	f := &compare.Facts{Source: "x/sys/unix"}
	val := func(p [2]string) compare.Value {
		v, _, _ := x.intConst(p[1])
		return compare.Value{Name: p[0], Value: v}
	}
	for _, p := range m.Syscalls {
		f.Syscalls = append(f.Syscalls, val(p))
	}
	for _, p := range m.Errnos {
		f.Errnos = append(f.Errnos, val(p))
	}
	for _, p := range m.Consts {
		f.Consts = append(f.Consts, val(p))
	}
	for _, d := range m.Derived {
		f.Consts = append(f.Consts, compare.Value{Name: d.Name, Value: d.Value})
	}
	gc := types.SizesFor("gc", x.goarch)
	for _, s := range m.Structs {
		size, align, _ := x.typeLayout(s.GoType, gc)
		cs := compare.Struct{Name: s.Name, GoType: "unix." + s.GoType, Size: uintptr(size), Align: uintptr(align)}
		for _, p := range s.Fields {
			off, sz, _ := x.fieldAt(s.GoType, p[1], gc)
			cs.Fields = append(cs.Fields, compare.Field{Name: p[0], GoName: p[1], Offset: uintptr(off), Size: uintptr(sz)})
		}
		f.Structs = append(f.Structs, cs)
	}
	return f
}

// xsysTestSource returns the Go source of zxsys_test.go for t: the facts
// x/sys/unix holds for every name it shares with tbl, compiled from x/sys
// itself, and the test comparing them, which runs on that GOOS/GOARCH.
// It returns nil if x/sys does not support the target.
func xsysTestSource(t *target, tbl *abi.Table, dir string) ([]byte, error) {
	x, err := loadXPkg(dir, t.GOOS, t.GOARCH)
	if err != nil || x == nil {
		return nil, err
	}
	m := buildXMap(t, tbl, x)
	name := t.GOOS + "/" + t.GOARCH
	var b bytes.Buffer
	b.WriteString(header)
	fmt.Fprintf(&b, "//go:build %s && %s\n\n", t.GOOS, t.GOARCH)
	fmt.Fprintf(&b, "package %s\n\n", pkgName(path.Base(t.Dir)))
	b.WriteString("import (\n\"testing\"\n\"unsafe\"\n\n\"golang.org/x/sys/unix\"\n\n\"github.com/anykernel/anykernel/build/abicheck/compare\"\n)\n\n")
	fmt.Fprintf(&b, "// TestXSys compares Table with golang.org/x/sys/unix as compiled for %s,\n", name)
	b.WriteString("// for every syscall, errno, constant and struct layout both know, except\n")
	b.WriteString("// the deliberate differences in build/abicheck/compare's allow-list. On\n")
	b.WriteString("// other hosts build/abigen's tests make the same comparison with go/types.\n")
	b.WriteString("func TestXSys(t *testing.T) {\ndiffs, unused := compare.Check(Table, xsysFacts())\nfor _, d := range diffs {\nt.Error(d)\n}\n")
	fmt.Fprintf(&b, "for _, item := range unused {\nt.Errorf(\"%s: allow-list entry %%q matches no difference; remove it\", item)\n}\n}\n\n", name)
	fmt.Fprintf(&b, "// xsysFacts returns what golang.org/x/sys/unix (%s) says about every\n", x.version)
	b.WriteString("// name Table shares with it, compiled from x/sys itself.\n")
	b.WriteString("func xsysFacts() *compare.Facts {\nreturn &compare.Facts{\nSource: \"x/sys/unix\",\n")
	val := func(p [2]string) string {
		if _, neg, _ := x.intConst(p[1]); neg {
			return fmt.Sprintf("{Name: %q, Value: compare.S(int64(unix.%s))},\n", p[0], p[1])
		}
		return fmt.Sprintf("{Name: %q, Value: uint64(unix.%s)},\n", p[0], p[1])
	}
	for _, sec := range []struct {
		name  string
		pairs [][2]string
	}{{"Syscalls", m.Syscalls}, {"Errnos", m.Errnos}, {"Consts", m.Consts}} {
		fmt.Fprintf(&b, "%s: []compare.Value{\n", sec.name)
		for _, p := range sec.pairs {
			b.WriteString(val(p))
		}
		if sec.name == "Consts" {
			for _, d := range m.Derived {
				fmt.Fprintf(&b, "{Name: %q, Value: uint64(%s)},\n", d.Name, d.GoExpr)
			}
		}
		b.WriteString("},\n")
	}
	b.WriteString("Structs: []compare.Struct{\n")
	for _, s := range m.Structs {
		fmt.Fprintf(&b, "func() compare.Struct {\nvar v unix.%s\n", s.GoType)
		if len(s.Missing) > 0 {
			fmt.Fprintf(&b, "// Not in unix.%s: %s.\n", s.GoType, strings.Join(s.Missing, ", "))
		}
		fmt.Fprintf(&b, "return compare.Struct{Name: %q, GoType: \"unix.%s\", Size: unsafe.Sizeof(v), Align: unsafe.Alignof(v), Fields: []compare.Field{\n", s.Name, s.GoType)
		for _, p := range s.Fields {
			fmt.Fprintf(&b, "{Name: %q, GoName: %q, Offset: compare.Offset(&v, &v.%s), Size: unsafe.Sizeof(v.%s)},\n", p[0], p[1], p[1], p[1])
		}
		b.WriteString("}}\n}(),\n")
	}
	b.WriteString("},\n}\n}\n")
	out, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting x/sys test: %w", err)
	}
	return out, nil
}

// goFieldPath guesses the x/sys Go field path of a table field:
// st_atim.tv_sec -> Atim.Sec (known prefix stripped, first letter
// upper-cased, the rest kept as x/sys keeps it: stx_rdev_major -> Rdev_major).
func goFieldPath(t *target, s structSpec, field string) string {
	if p, ok := s.XSysFields[field]; ok {
		return p
	}
	parts := strings.Split(field, ".")
	for i, p := range parts {
		for _, pre := range t.XSysFieldPrefixes {
			if rest, ok := strings.CutPrefix(p, pre); ok && rest != "" {
				p = rest
				break
			}
		}
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, ".")
}

func (x *xpkg) has(name string) bool {
	_, _, ok := x.intConst(name)
	return ok
}
