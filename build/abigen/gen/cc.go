package gen

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
// values printed by compiled programs, enumerator and member names from
// debug info.
type cc struct {
	t   *target
	cmd []string // compiler command and target flags
	dir string
	n   int // names scratch files uniquely
}

func newCC(t *target) (*cc, error) {
	return newCCWith(t, t.CC)
}

// newCCWith is newCC with another compiler command (the C check's).
func newCCWith(t *target, command []string) (*cc, error) {
	if len(command) == 0 {
		return nil, fmt.Errorf("%s/%s: no C compiler configured", t.GOOS, t.GOARCH)
	}
	if _, err := exec.LookPath(command[0]); err != nil {
		return nil, fmt.Errorf("no C compiler %q (on Debian: apt-get install %s): %w", command[0], ccPackage(command[0]), err)
	}
	dir, err := os.MkdirTemp("", "abigen-")
	if err != nil {
		return nil, err
	}
	return &cc{t: t, cmd: command, dir: dir}, nil
}

// ccPackage names the Debian package of a compiler command.
func ccPackage(command string) string {
	if strings.HasPrefix(command, "clang") {
		return "clang"
	}
	return "gcc"
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
	argv := append([]string{}, c.cmd[1:]...)
	argv = append(argv, u.Flags...)
	argv = append(argv, "-w", "-x", "c")
	argv = append(argv, args...)
	argv = append(argv, file)
	cmd := exec.Command(c.cmd[0], argv...)
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

// enumerators returns the enumeration constants u's headers declare.
// Many uapi constants are enumerators rather than macros (IFLA_*, RTM_*,
// BPF_MAP_TYPE_*, ...), which -dM cannot list. They are read from the
// debug info of an object compiled from the headers alone, with every
// declared type kept (-fno-eliminate-unused-debug-types, which gcc and
// clang both accept): the compiler itself says which names exist, and
// values are then computed like macros'.
func (c *cc) enumerators(u unit) (map[string]bool, error) {
	obj := filepath.Join(c.dir, fmt.Sprintf("%s%d.o", u.Name, c.n+1))
	if _, stderr, err := c.gcc(u, source(u, ""), "-g", "-fno-eliminate-unused-debug-types", "-c", "-o", obj); err != nil {
		return nil, fmt.Errorf("unit %s: compiling enumerations: %v\n%s", u.Name, err, clip(stderr))
	}
	f, err := elf.Open(obj)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, err := f.DWARF()
	if err != nil {
		return nil, fmt.Errorf("unit %s: reading debug info: %w", u.Name, err)
	}
	m := map[string]bool{}
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			return nil, fmt.Errorf("unit %s: reading debug info: %w", u.Name, err)
		}
		if e == nil {
			break
		}
		if e.Tag != dwarf.TagEnumerator {
			continue
		}
		if name, _ := e.Val(dwarf.AttrName).(string); name != "" {
			m[name] = true
		}
	}
	return m, nil
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

// objValues evaluates integer constant expressions for the target without
// running anything: it compiles them into an initialized array of an
// object file and reads the array back from the object's data, in the
// object's byte order.
func (c *cc) objValues(u unit, exprs []string) ([]uint64, error) {
	if len(exprs) == 0 {
		return nil, nil
	}
	var b strings.Builder
	b.WriteString("const unsigned long long abigen_v[] = {\n")
	for _, e := range exprs {
		fmt.Fprintf(&b, "\t(unsigned long long)(%s),\n", e)
	}
	b.WriteString("};\n")
	obj := filepath.Join(c.dir, fmt.Sprintf("%s%d.o", u.Name, c.n+1))
	if _, stderr, err := c.gcc(u, source(u, b.String()), "-c", "-o", obj); err != nil {
		return nil, fmt.Errorf("unit %s: compiling values: %v\n%s", u.Name, err, clip(stderr))
	}
	f, err := elf.Open(obj)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return nil, fmt.Errorf("unit %s: reading symbols: %w", u.Name, err)
	}
	for _, sym := range syms {
		if sym.Name != "abigen_v" {
			continue
		}
		if int(sym.Section) >= len(f.Sections) || sym.Section == elf.SHN_UNDEF {
			return nil, fmt.Errorf("unit %s: abigen_v has no section", u.Name)
		}
		sec := f.Sections[sym.Section]
		vals := make([]uint64, len(exprs))
		if sec.Type == elf.SHT_NOBITS { // all zero, placed in .bss
			return vals, nil
		}
		data, err := sec.Data()
		if err != nil {
			return nil, err
		}
		if sym.Value+uint64(8*len(exprs)) > uint64(len(data)) {
			return nil, fmt.Errorf("unit %s: abigen_v lies outside its section", u.Name)
		}
		data = data[sym.Value:]
		for i := range vals {
			vals[i] = f.ByteOrder.Uint64(data[8*i:])
		}
		return vals, nil
	}
	return nil, fmt.Errorf("unit %s: no abigen_v in the object file", u.Name)
}

// values returns the value of each name (integer constant expressions in
// u) as a 64-bit pattern; C's conversion to unsigned long long
// sign-extends negative values.
func (c *cc) values(u unit, names []string) (map[string]uint64, error) {
	vs, err := c.objValues(u, names)
	if err != nil {
		return nil, err
	}
	vals := map[string]uint64{}
	for i, n := range names {
		vals[n] = vs[i]
	}
	return vals, nil
}

// errnoInfo is an errno's number and strerror text.
type errnoInfo struct {
	nr  uint64
	msg string
}

// errnos returns number and C-library message of each errno name. The
// numbers are the target's. The messages come from strerror: the
// target's own when its programs run on this host, else the host C
// library's for the same name (glibc's texts are keyed by name, not by
// number, and do not vary between architectures); a name the host lacks
// gets glibc's text for an unknown number.
func (c *cc) errnos(u unit, names []string) (map[string]errnoInfo, error) {
	m := map[string]errnoInfo{}
	if c.t.Run {
		out, err := c.errnoProgram(u, names, true)
		if err != nil {
			return nil, err
		}
		for n, e := range out {
			m[n] = e
		}
	} else {
		nrs, err := c.values(u, names)
		if err != nil {
			return nil, err
		}
		host, err := hostCC(c)
		if err != nil {
			return nil, err
		}
		defer host.close()
		hu := unit{Name: "hosterrno", Headers: []string{"errno.h", "string.h"}}
		out, err := host.errnoProgram(hu, names, false)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			msg := out[n].msg
			if msg == "" {
				msg = fmt.Sprintf("Unknown error %d", nrs[n])
			}
			m[n] = errnoInfo{nrs[n], msg}
		}
	}
	if len(m) != len(names) {
		return nil, fmt.Errorf("errno program printed %d errnos for %d names", len(m), len(names))
	}
	return m, nil
}

// hostCC is a compiler for programs that run on this machine.
func hostCC(c *cc) (*cc, error) {
	for _, cmd := range [][]string{{"gcc"}, {"clang"}} {
		if _, err := exec.LookPath(cmd[0]); err == nil {
			return newCCWith(c.t, cmd)
		}
	}
	return nil, errors.New("errno messages need a C compiler for this machine (on Debian: apt-get install gcc)")
}

// errnoProgram runs a program printing each name's number and strerror
// text. With all false, names u does not define print an empty message.
func (c *cc) errnoProgram(u unit, names []string, all bool) (map[string]errnoInfo, error) {
	var b strings.Builder
	b.WriteString("int printf(const char *, ...);\nchar *strerror(int);\n")
	b.WriteString("static const struct { const char *name; int v; } abigen_e[] = {\n")
	for _, n := range names {
		if all {
			fmt.Fprintf(&b, "\t{\"%s\", %s},\n", n, n)
		} else {
			fmt.Fprintf(&b, "#ifdef %[1]s\n\t{\"%[1]s\", %[1]s},\n#else\n\t{\"%[1]s\", -1},\n#endif\n", n)
		}
	}
	b.WriteString("};\nint main(void) {\n\tfor (unsigned long i = 0; i < sizeof abigen_e / sizeof abigen_e[0]; i++)\n")
	b.WriteString("\t\tprintf(\"%s\\t%d\\t%s\\n\", abigen_e[i].name, abigen_e[i].v, abigen_e[i].v < 0 ? \"\" : strerror(abigen_e[i].v));\n\treturn 0;\n}\n")
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
		nr, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("errno program: bad output line %q", line)
		}
		m[f[0]] = errnoInfo{uint64(nr), f[2]}
	}
	return m, nil
}

// member is one struct member found by memberNames.
type member struct {
	name string // table name
	c    string // C designator for offsetof
	flex bool   // flexible or zero-length array: size 0 (sizeof is not allowed on the former)
	// after and before make the member the bytes between two others
	// (see fieldSpec).
	after, before string
}

// exprs returns C expressions for m's offset and size in ctype.
func (m member) exprs(ctype string) (off, size string) {
	offsetof := func(d string) string { return fmt.Sprintf("__builtin_offsetof(%s, %s)", ctype, d) }
	sizeof := func(d string) string { return fmt.Sprintf("sizeof(((%s *)0)->%s)", ctype, d) }
	if m.after != "" {
		end := fmt.Sprintf("(%s + %s)", offsetof(m.after), sizeof(m.after))
		return end, fmt.Sprintf("(%s - %s)", offsetof(m.before), end)
	}
	if m.flex {
		return offsetof(m.c), "0"
	}
	return offsetof(m.c), sizeof(m.c)
}

// declared returns those of specs whose type u declares (a variable of
// it compiles), for Optional structs.
func (c *cc) declared(u unit, specs []structSpec) ([]structSpec, error) {
	var ctypes []string
	for _, s := range specs {
		ctypes = append(ctypes, s.CType)
	}
	var b strings.Builder
	b.WriteString("#line 1 \"abigen-names\"\n")
	for i, t := range ctypes {
		fmt.Fprintf(&b, "%s abigen_d%d;\n", t, i)
	}
	_, stderr, err := c.gcc(u, source(u, b.String()), "-fsyntax-only")
	if err == nil {
		return specs, nil
	}
	bad := map[int]bool{}
	for _, m := range namesLine.FindAllStringSubmatch(stderr, -1) {
		line, _ := strconv.Atoi(m[1])
		bad[line-1] = true
	}
	if len(bad) == 0 {
		return nil, fmt.Errorf("unit %s: cannot compile struct probe: %v\n%s", u.Name, err, clip(stderr))
	}
	var kept []structSpec
	for i, s := range specs {
		if !bad[i] {
			kept = append(kept, s)
		}
	}
	return kept, nil
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
		if !ok {
			return nil, nil, fmt.Errorf("unit %s: %s is not a struct or union", u.Name, s.CType)
		}
		var ms []member
		walk(st, "", s.Name, &ms, &skipped)
		for _, x := range s.Extra {
			ms = append(ms, x.member())
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
	var exprs []string
	for i, s := range specs {
		exprs = append(exprs, "sizeof("+s.CType+")", "_Alignof("+s.CType+")")
		for _, m := range members[i] {
			off, size := m.exprs(s.CType)
			exprs = append(exprs, off, size)
		}
	}
	nums, err := c.objValues(u, exprs)
	if err != nil {
		return nil, err
	}
	var res [][]uint64
	for i := range specs {
		n := 2 + 2*len(members[i])
		if len(nums) < n {
			return nil, errors.New("layout object holds too few numbers")
		}
		res = append(res, nums[:n])
		nums = nums[n:]
	}
	if len(nums) != 0 {
		return nil, errors.New("layout object holds too many numbers")
	}
	return res, nil
}

// hasAnyPrefix reports whether s starts with one of prefixes; a prefix
// ending in "$" must match s whole ("B0$" is B0 and not B0_FOO).
func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if exact, ok := strings.CutSuffix(p, "$"); ok {
			if s == exact {
				return true
			}
		} else if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
