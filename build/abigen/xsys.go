package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/constant"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/anykernel/anykernel/abi"
)

// xsys is what the generator reads from golang.org/x/sys/unix's
// generated files for one GOOS/GOARCH: constant names (with whether the
// value is negative, which decides how the test converts it to uint64)
// and struct types.
type xsys struct {
	version  string
	negative map[string]bool // exported constant -> value < 0
	types    map[string]*ast.StructType
}

// loadXSys parses x/sys/unix's z*_GOOS.go and z*_GOOS_GOARCH.go files.
// It returns nil if x/sys has no files for the target.
func loadXSys(dir, goos, goarch string) (*xsys, error) {
	unixDir := filepath.Join(dir, "unix")
	if _, err := os.Stat(filepath.Join(unixDir, "syscall.go")); err != nil {
		return nil, fmt.Errorf("%s is not golang.org/x/sys (no unix/syscall.go): %w", dir, err)
	}
	var files []string
	for _, kind := range []string{"zerrors", "zsysnum", "ztypes"} {
		for _, f := range []string{kind + "_" + goos + ".go", kind + "_" + goos + "_" + goarch + ".go"} {
			if _, err := os.Stat(filepath.Join(unixDir, f)); err == nil {
				files = append(files, f)
			}
		}
	}
	if !containsSuffix(files, "_"+goarch+".go") {
		return nil, nil
	}
	x := &xsys{version: filepath.Base(dir), negative: map[string]bool{}, types: map[string]*ast.StructType{}}
	fset := token.NewFileSet()
	exprs := map[string]ast.Expr{}
	for _, f := range files {
		af, err := parser.ParseFile(fset, filepath.Join(unixDir, f), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("parsing x/sys: %w", err)
		}
		for _, d := range af.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, s := range gd.Specs {
				switch s := s.(type) {
				case *ast.ValueSpec:
					if gd.Tok != token.CONST {
						continue
					}
					for i, n := range s.Names {
						if i < len(s.Values) && n.IsExported() {
							exprs[n.Name] = s.Values[i]
						}
					}
				case *ast.TypeSpec:
					if st, ok := s.Type.(*ast.StructType); ok && s.Name.IsExported() {
						x.types[s.Name.Name] = st
					}
				}
			}
		}
	}
	for n, e := range exprs {
		v, ok := evalConst(e, exprs, 0)
		if !ok || v.Kind() != constant.Int {
			continue // not an integer we can reason about; not compared
		}
		x.negative[n] = constant.Sign(v) < 0
	}
	return x, nil
}

func containsSuffix(list []string, suffix string) bool {
	for _, s := range list {
		if strings.HasSuffix(s, suffix) {
			return true
		}
	}
	return false
}

// evalConst evaluates the constant expressions x/sys uses: literals,
// unary and binary operators, conversions like syscall.Errno(0x2) and
// references to other constants.
func evalConst(e ast.Expr, env map[string]ast.Expr, depth int) (constant.Value, bool) {
	if depth > 20 {
		return nil, false
	}
	switch e := e.(type) {
	case *ast.BasicLit:
		v := constant.MakeFromLiteral(e.Value, e.Kind, 0)
		return v, v.Kind() != constant.Unknown
	case *ast.ParenExpr:
		return evalConst(e.X, env, depth+1)
	case *ast.UnaryExpr:
		v, ok := evalConst(e.X, env, depth+1)
		if !ok || (e.Op != token.SUB && e.Op != token.ADD) {
			return nil, false // ^x needs the type's width; x/sys does not use it in z files
		}
		return constant.UnaryOp(e.Op, v, 0), true
	case *ast.BinaryExpr:
		a, ok1 := evalConst(e.X, env, depth+1)
		b, ok2 := evalConst(e.Y, env, depth+1)
		if !ok1 || !ok2 {
			return nil, false
		}
		switch e.Op {
		case token.SHL, token.SHR:
			s, ok := constant.Uint64Val(b)
			if !ok {
				return nil, false
			}
			return constant.Shift(a, e.Op, uint(s)), true
		case token.ADD, token.SUB, token.MUL, token.OR, token.AND, token.XOR, token.AND_NOT:
			return constant.BinaryOp(a, e.Op, b), true
		}
		return nil, false
	case *ast.CallExpr:
		if len(e.Args) == 1 {
			return evalConst(e.Args[0], env, depth+1)
		}
	case *ast.Ident:
		if def, ok := env[e.Name]; ok {
			return evalConst(def, env, depth+1)
		}
	}
	return nil, false
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

// resolve reports whether the dotted field path exists in Go type name.
func (x *xsys) resolve(name, fieldPath string) bool {
	st := x.types[name]
	parts := strings.Split(fieldPath, ".")
	for i, p := range parts {
		if st == nil {
			return false
		}
		var typ ast.Expr
		for _, f := range st.Fields.List {
			for _, n := range f.Names {
				if n.Name == p {
					typ = f.Type
				}
			}
		}
		if typ == nil {
			return false
		}
		if i == len(parts)-1 {
			return true
		}
		id, ok := typ.(*ast.Ident)
		if !ok {
			return false
		}
		st = x.types[id.Name]
	}
	return false
}

// xsysTestSource returns the Go source of zxsys_test.go for t: the facts
// x/sys/unix holds for every name it shares with tbl. It returns nil if
// x/sys does not support the target.
func xsysTestSource(t *target, tbl *abi.Table, dir string) ([]byte, error) {
	x, err := loadXSys(dir, t.GOOS, t.GOARCH)
	if err != nil || x == nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(header)
	fmt.Fprintf(&b, "//go:build %s && %s\n\n", t.GOOS, t.GOARCH)
	fmt.Fprintf(&b, "package %s\n\n", path.Base(t.Dir))
	b.WriteString("import (\n\"unsafe\"\n\n\"golang.org/x/sys/unix\"\n\n\"github.com/anykernel/anykernel/build/abicheck\"\n)\n\n")
	fmt.Fprintf(&b, "// xsysFacts returns what golang.org/x/sys/unix (%s) says about every\n", x.version)
	b.WriteString("// name Table shares with it, compiled from x/sys itself.\n")
	b.WriteString("func xsysFacts() *abicheck.Facts {\nreturn &abicheck.Facts{\nSource: \"x/sys/unix\",\n")

	val := func(tableName, goName string) string {
		if x.negative[goName] {
			return fmt.Sprintf("{Name: %q, Value: abicheck.S(int64(unix.%s))},\n", tableName, goName)
		}
		return fmt.Sprintf("{Name: %q, Value: uint64(unix.%s)},\n", tableName, goName)
	}
	b.WriteString("Syscalls: []abicheck.Value{\n")
	for _, s := range tbl.Syscalls {
		if g := "SYS_" + strings.ToUpper(s.Name); hasName(x, g) {
			b.WriteString(val(s.Name, g))
		}
	}
	b.WriteString("},\nErrnos: []abicheck.Value{\n")
	for _, e := range tbl.Errnos {
		if hasName(x, e.Name) {
			b.WriteString(val(e.Name, e.Name))
		}
	}
	b.WriteString("},\nConsts: []abicheck.Value{\n")
	for _, c := range tbl.Consts {
		if hasName(x, c.Name) {
			b.WriteString(val(c.Name, c.Name))
		}
	}
	b.WriteString("},\nStructs: []abicheck.Struct{\n")
	specs := append([]structSpec(nil), t.Structs...)
	sort.Slice(specs, func(i, j int) bool { return specs[i].Name < specs[j].Name })
	for _, s := range specs {
		st, ok := tbl.Struct(s.Name)
		if s.XSys == "" || !ok || x.types[s.XSys] == nil {
			continue
		}
		fmt.Fprintf(&b, "func() abicheck.Struct {\nvar v unix.%s\n", s.XSys)
		var missing []string
		var fields strings.Builder
		for _, f := range st.Fields {
			gp := goFieldPath(t, s, f.Name)
			if !x.resolve(s.XSys, gp) {
				missing = append(missing, f.Name)
				continue
			}
			fmt.Fprintf(&fields, "{Name: %q, GoName: %q, Offset: abicheck.Offset(&v, &v.%s), Size: unsafe.Sizeof(v.%s)},\n", f.Name, gp, gp, gp)
		}
		if len(missing) > 0 {
			fmt.Fprintf(&b, "// Not in unix.%s: %s.\n", s.XSys, strings.Join(missing, ", "))
		}
		fmt.Fprintf(&b, "return abicheck.Struct{Name: %q, GoType: \"unix.%s\", Size: unsafe.Sizeof(v), Align: unsafe.Alignof(v), Fields: []abicheck.Field{\n", s.Name, s.XSys)
		b.WriteString(fields.String())
		b.WriteString("}}\n}(),\n")
	}
	b.WriteString("},\n}\n}\n")
	out, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting x/sys test: %w", err)
	}
	return out, nil
}

func hasName(x *xsys, name string) bool {
	_, ok := x.negative[name]
	return ok
}
