package main

import (
	"bufio"
	"bytes"
	"debug/dwarf"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// cc runs the target's C compiler in a scratch directory. Everything the
// generator knows comes through here: macro lists from the preprocessor,
// values printed by compiled programs, member names from debug info.
type cc struct {
	t   *target
	dir string
	n   int // names scratch files uniquely
}

func newCC(t *target) (*cc, error) {
	if len(t.CC) == 0 {
		return nil, fmt.Errorf("%s/%s: no C compiler configured", t.GOOS, t.GOARCH)
	}
	if _, err := exec.LookPath(t.CC[0]); err != nil {
		return nil, fmt.Errorf("C compiler %q not found (on Debian: apt-get install gcc): %w", t.CC[0], err)
	}
	dir, err := os.MkdirTemp("", "abigen-")
	if err != nil {
		return nil, err
	}
	return &cc{t: t, dir: dir}, nil
}

func (c *cc) close() { os.RemoveAll(c.dir) }

// source is u's headers and prelude followed by body.
func source(u unit, body string) string {
	var b strings.Builder
	for _, h := range u.Headers {
		fmt.Fprintf(&b, "#include <%s>\n", h)
	}
	b.WriteString(u.Prelude)
	b.WriteString("\n")
	b.WriteString(body)
	return b.String()
}

// gcc writes src to a scratch file and compiles it with args added
// (e.g. -c -o x.o). It returns the compiler's stderr on failure.
func (c *cc) gcc(u unit, src string, args ...string) (stdout []byte, stderr string, err error) {
	c.n++
	file := filepath.Join(c.dir, fmt.Sprintf("%s%d.c", u.Name, c.n))
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		return nil, "", err
	}
	argv := append([]string{}, c.t.CC[1:]...)
	argv = append(argv, u.Flags...)
	argv = append(argv, "-w", "-x", "c")
	argv = append(argv, args...)
	argv = append(argv, file)
	cmd := exec.Command(c.t.CC[0], argv...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.Bytes(), errb.String(), err
}

func clip(s string) string {
	if len(s) > 4000 {
		return s[:4000] + "\n[...]"
	}
	return s
}

// macros returns the object-like macros defined once u's headers are read.
func (c *cc) macros(u unit) (map[string]bool, error) {
	out, stderr, err := c.gcc(u, source(u, ""), "-E", "-dM")
	if err != nil {
		return nil, fmt.Errorf("unit %s: preprocessing failed: %v\n%s", u.Name, err, clip(stderr))
	}
	m := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "#define ")
		if !ok {
			continue
		}
		i := strings.IndexAny(rest, " (")
		if i < 0 {
			m[rest] = true // defined empty
			continue
		}
		if rest[i] == '(' {
			continue // function-like
		}
		m[rest[:i]] = true
	}
	return m, sc.Err()
}

var namesLine = regexp.MustCompile(`abigen-names:(\d+):`)

// integers returns those of names that are integer constant expressions
// in u. It compiles one static assertion per name, drops every name whose
// line the compiler complains about, and repeats until the file compiles.
func (c *cc) integers(u unit, names []string) ([]string, error) {
	names = append([]string(nil), names...)
	for round := 0; len(names) > 0; round++ {
		var b strings.Builder
		b.WriteString("#line 1 \"abigen-names\"\n")
		for _, n := range names {
			// __builtin_classify_type rejects pointers (SIG_DFL, MAP_FAILED)
			// and floats; _Static_assert rejects non-constant expressions
			// (glibc's SIGRTMIN is a function call).
			fmt.Fprintf(&b, "_Static_assert(__builtin_classify_type(%[1]s) >= 1 && __builtin_classify_type(%[1]s) <= 4 && ((%[1]s) || 1), \"\");\n", n)
		}
		_, stderr, err := c.gcc(u, source(u, b.String()), "-fsyntax-only")
		if err == nil {
			return names, nil
		}
		bad := map[int]bool{}
		for _, m := range namesLine.FindAllStringSubmatch(stderr, -1) {
			line, _ := strconv.Atoi(m[1])
			bad[line-1] = true
		}
		if len(bad) == 0 || round > 50 {
			return nil, fmt.Errorf("unit %s: cannot compile constant probe: %v\n%s", u.Name, err, clip(stderr))
		}
		kept := names[:0]
		for i, n := range names {
			if !bad[i] {
				kept = append(kept, n)
			}
		}
		names = kept
	}
	return names, nil
}

// program compiles src as an executable and runs it, returning stdout.
func (c *cc) program(u unit, src string) ([]byte, error) {
	exe := filepath.Join(c.dir, fmt.Sprintf("%s%d.exe", u.Name, c.n+1))
	if _, stderr, err := c.gcc(u, src, "-o", exe); err != nil {
		return nil, fmt.Errorf("unit %s: compiling program: %v\n%s", u.Name, err, clip(stderr))
	}
	argv := append(append([]string{}, c.t.Exec...), exe)
	cmd := exec.Command(argv[0], argv[1:]...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("unit %s: running program: %v\n%s", u.Name, err, clip(errb.String()))
	}
	return out, nil
}

// values returns the value of each name (integer constant expressions in
// u) as a 64-bit pattern; C's conversion to unsigned long long
// sign-extends negative values.
func (c *cc) values(u unit, names []string) (map[string]uint64, error) {
	if len(names) == 0 {
		return map[string]uint64{}, nil
	}
	var b strings.Builder
	b.WriteString("int printf(const char *, ...);\n")
	b.WriteString("static const struct { const char *name; unsigned long long v; } abigen_v[] = {\n")
	for _, n := range names {
		fmt.Fprintf(&b, "\t{\"%s\", (unsigned long long)(%s)},\n", n, n)
	}
	b.WriteString("};\nint main(void) {\n\tfor (unsigned long i = 0; i < sizeof abigen_v / sizeof abigen_v[0]; i++)\n")
	b.WriteString("\t\tprintf(\"%s %llx\\n\", abigen_v[i].name, abigen_v[i].v);\n\treturn 0;\n}\n")
	out, err := c.program(u, source(u, b.String()))
	if err != nil {
		return nil, err
	}
	vals := map[string]uint64{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, hex, ok := strings.Cut(line, " ")
		v, err := strconv.ParseUint(hex, 16, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("unit %s: bad output line %q", u.Name, line)
		}
		vals[name] = v
	}
	if len(vals) != len(names) {
		return nil, fmt.Errorf("unit %s: program printed %d values for %d names", u.Name, len(vals), len(names))
	}
	return vals, nil
}

// errnoInfo is an errno's number and strerror text.
type errnoInfo struct {
	nr  uint64
	msg string
}

// errnos returns number and C-library message of each errno name.
func (c *cc) errnos(u unit, names []string) (map[string]errnoInfo, error) {
	var b strings.Builder
	b.WriteString("int printf(const char *, ...);\nchar *strerror(int);\n")
	b.WriteString("static const struct { const char *name; int v; } abigen_e[] = {\n")
	for _, n := range names {
		fmt.Fprintf(&b, "\t{\"%s\", %s},\n", n, n)
	}
	b.WriteString("};\nint main(void) {\n\tfor (unsigned long i = 0; i < sizeof abigen_e / sizeof abigen_e[0]; i++)\n")
	b.WriteString("\t\tprintf(\"%s\\t%d\\t%s\\n\", abigen_e[i].name, abigen_e[i].v, strerror(abigen_e[i].v));\n\treturn 0;\n}\n")
	out, err := c.program(u, source(u, b.String()))
	if err != nil {
		return nil, err
	}
	m := map[string]errnoInfo{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("errno program: bad output line %q", line)
		}
		nr, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("errno program: bad output line %q", line)
		}
		m[f[0]] = errnoInfo{nr, f[2]}
	}
	if len(m) != len(names) {
		return nil, fmt.Errorf("errno program printed %d errnos for %d names", len(m), len(names))
	}
	return m, nil
}

// member is one struct member found by memberNames.
type member struct {
	name string // table name
	c    string // C designator for offsetof
	flex bool   // flexible or zero-length array: size 0 (sizeof is not allowed on the former)
}

// memberNames compiles one variable of each type with debug info and
// walks the DWARF description of its members (see structSpec for the
// rules). Debug info is read from the object file, so no program runs.
func (c *cc) memberNames(u unit, specs []structSpec) ([][]member, []string, error) {
	var b strings.Builder
	for i, s := range specs {
		fmt.Fprintf(&b, "%s abigen_s%d;\n", s.CType, i)
	}
	obj := filepath.Join(c.dir, fmt.Sprintf("%s%d.o", u.Name, c.n+1))
	if _, stderr, err := c.gcc(u, source(u, b.String()), "-g", "-c", "-o", obj); err != nil {
		return nil, nil, fmt.Errorf("unit %s: compiling struct declarations: %v\n%s", u.Name, err, clip(stderr))
	}
	f, err := elf.Open(obj)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	d, err := f.DWARF()
	if err != nil {
		return nil, nil, fmt.Errorf("unit %s: reading debug info: %w", u.Name, err)
	}
	types := map[string]dwarf.Type{}
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			return nil, nil, err
		}
		if e == nil {
			break
		}
		if e.Tag != dwarf.TagVariable {
			continue
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		off, ok := e.Val(dwarf.AttrType).(dwarf.Offset)
		if !strings.HasPrefix(name, "abigen_s") || !ok {
			continue
		}
		t, err := d.Type(off)
		if err != nil {
			return nil, nil, err
		}
		types[name] = t
	}
	var all [][]member
	var skipped []string
	for i, s := range specs {
		t, ok := types[fmt.Sprintf("abigen_s%d", i)]
		if !ok {
			return nil, nil, fmt.Errorf("unit %s: no debug info for %s", u.Name, s.CType)
		}
		st, ok := underlying(t).(*dwarf.StructType)
		if !ok || st.Kind != "struct" {
			return nil, nil, fmt.Errorf("unit %s: %s is not a struct", u.Name, s.CType)
		}
		var ms []member
		walk(st, "", s.Name, &ms, &skipped)
		for _, x := range s.Extra {
			ms = append(ms, member{name: x.Name, c: x.designator()})
		}
		all = append(all, ms)
	}
	return all, skipped, nil
}

func underlying(t dwarf.Type) dwarf.Type {
	for {
		switch x := t.(type) {
		case *dwarf.TypedefType:
			t = x.Type
		case *dwarf.QualType:
			t = x.Type
		default:
			return t
		}
	}
}

func walk(st *dwarf.StructType, prefix, sname string, ms *[]member, skipped *[]string) {
	for _, f := range st.Field {
		t := underlying(f.Type)
		if f.Name == "" { // anonymous struct or union: its members are the parent's
			if sub, ok := t.(*dwarf.StructType); ok {
				walk(sub, prefix, sname, ms, skipped)
			}
			continue
		}
		name := prefix + f.Name
		if f.BitSize != 0 {
			*skipped = append(*skipped, sname+"."+name+" (bit-field)")
			continue
		}
		if strings.HasPrefix(f.Name, "_") {
			continue
		}
		arr, isArr := t.(*dwarf.ArrayType)
		*ms = append(*ms, member{name: name, c: name, flex: isArr && arr.Count <= 0})
		if sub, ok := t.(*dwarf.StructType); ok && sub.Kind == "struct" {
			walk(sub, name+".", sname, ms, skipped)
		}
	}
}

// layouts returns, for each spec, size, alignment, and each member's
// offset and size, in that order, as computed by the compiler.
func (c *cc) layouts(u unit, specs []structSpec, members [][]member) ([][]uint64, error) {
	var b strings.Builder
	b.WriteString("int printf(const char *, ...);\nstatic const unsigned long long abigen_l[] = {\n")
	for i, s := range specs {
		fmt.Fprintf(&b, "\tsizeof(%s), _Alignof(%s),\n", s.CType, s.CType)
		for _, m := range members[i] {
			size := fmt.Sprintf("sizeof(((%s *)0)->%s)", s.CType, m.c)
			if m.flex {
				size = "0"
			}
			fmt.Fprintf(&b, "\t__builtin_offsetof(%s, %s), %s,\n", s.CType, m.c, size)
		}
	}
	b.WriteString("};\nint main(void) {\n\tfor (unsigned long i = 0; i < sizeof abigen_l / sizeof abigen_l[0]; i++)\n")
	b.WriteString("\t\tprintf(\"%llu\\n\", abigen_l[i]);\n\treturn 0;\n}\n")
	out, err := c.program(u, source(u, b.String()))
	if err != nil {
		return nil, err
	}
	var nums []uint64
	for _, f := range strings.Fields(string(out)) {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("unit %s: bad layout output %q", u.Name, f)
		}
		nums = append(nums, v)
	}
	var res [][]uint64
	for i := range specs {
		n := 2 + 2*len(members[i])
		if len(nums) < n {
			return nil, errors.New("layout program printed too few numbers")
		}
		res = append(res, nums[:n])
		nums = nums[n:]
	}
	if len(nums) != 0 {
		return nil, errors.New("layout program printed too many numbers")
	}
	return res, nil
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
