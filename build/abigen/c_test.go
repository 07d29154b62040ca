package main

import (
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/anykernel/anykernel/abi"
	linuxamd64 "github.com/anykernel/anykernel/abi/linux/amd64"
)

// tables are the committed tables, by target, for the checks.
var tables = map[string]*abi.Table{
	"linux/amd64": linuxamd64.Table,
}

func needCC(t *testing.T, tg *target) {
	t.Helper()
	if _, err := exec.LookPath(tg.CC[0]); err != nil {
		t.Skipf("%s not found: the checks against C need a C compiler (on Debian: apt-get install gcc)", tg.CC[0])
	}
}

// assertion is one fact of the table restated as C: EXPR == want.
type assertion struct {
	item string // what failed, as reported: "stat.st_size offset 48"
	expr string
	want uint64
	hex  bool // report values in hex (constants) rather than decimal
}

// TestCHeaders restates every table entry as a C _Static_assert and
// compiles it against the same headers the generator read: syscall
// numbers, errno numbers (and strerror texts, which need a program),
// constants, struct sizes and alignments, member offsets and sizes.
func TestCHeaders(t *testing.T) {
	for _, tg := range targets {
		name := tg.GOOS + "/" + tg.GOARCH
		tbl := tables[name]
		if tbl == nil {
			t.Errorf("%s: no committed table registered in c_test.go", name)
			continue
		}
		t.Run(strings.ReplaceAll(name, "/", "_"), func(t *testing.T) {
			needCC(t, tg)
			c, err := newCC(tg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.close()
			checkTable(t, c, tg, tbl)
		})
	}
}

func checkTable(t *testing.T, c *cc, tg *target, tbl *abi.Table) {
	name := tg.GOOS + "/" + tg.GOARCH
	perUnit := map[string][]assertion{}

	for _, s := range tbl.Syscalls {
		perUnit[tg.Syscalls.Name] = append(perUnit[tg.Syscalls.Name], assertion{
			fmt.Sprintf("syscall %s = %d", s.Name, s.Nr), tg.SyscallPrefix + s.Name, uint64(s.Nr), false})
	}

	from, err := c.constUnits(tg)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range tbl.Consts {
		u, ok := from[k.Name]
		if !ok {
			t.Errorf("%s const %s: in the table but no header unit defines it as an integer", name, k.Name)
			continue
		}
		perUnit[u] = append(perUnit[u], assertion{fmt.Sprintf("const %s = %#x", k.Name, k.Value), k.Name, k.Value, true})
	}
	var enames []string
	for _, e := range tbl.Errnos {
		enames = append(enames, e.Name)
		perUnit[tg.Errnos.Name] = append(perUnit[tg.Errnos.Name], assertion{
			fmt.Sprintf("errno %s = %d", e.Name, e.Nr), e.Name, uint64(e.Nr), false})
	}

	specs := map[string]structSpec{}
	for _, s := range tg.Structs {
		specs[s.Name] = s
	}
	for _, st := range tbl.Structs {
		s, ok := specs[st.Name]
		if !ok {
			t.Errorf("%s struct %s: in the table but not configured", name, st.Name)
			continue
		}
		designator := map[string]string{}
		for _, x := range s.Extra {
			designator[x.Name] = x.designator()
		}
		as := []assertion{
			{fmt.Sprintf("struct %s size %d", st.Name, st.Size), "sizeof(" + s.CType + ")", uint64(st.Size), false},
			{fmt.Sprintf("struct %s align %d", st.Name, st.Align), "_Alignof(" + s.CType + ")", uint64(st.Align), false},
		}
		for _, f := range st.Fields {
			d := f.Name
			if x, ok := designator[f.Name]; ok {
				d = x
			}
			as = append(as, assertion{fmt.Sprintf("%s.%s offset %d", st.Name, f.Name, f.Offset),
				fmt.Sprintf("__builtin_offsetof(%s, %s)", s.CType, d), uint64(f.Offset), false})
			// Size 0 is a flexible array member, which sizeof rejects.
			if f.Size != 0 {
				as = append(as, assertion{fmt.Sprintf("%s.%s size %d", st.Name, f.Name, f.Size),
					fmt.Sprintf("sizeof(((%s *)0)->%s)", s.CType, d), uint64(f.Size), false})
			}
		}
		perUnit[s.Unit] = append(perUnit[s.Unit], as...)
	}

	n := 0
	for _, u := range append([]unit{tg.Syscalls, tg.Errnos}, tg.Units...) {
		as := perUnit[u.Name]
		n += len(as)
		delete(perUnit, u.Name)
		checkUnit(t, c, name, u, as)
	}
	for u := range perUnit {
		t.Errorf("%s: unit %q is not configured", name, u)
	}
	t.Logf("%s: %d assertions compiled", name, n)

	// Messages come from strerror at run time, so this part runs a program.
	info, err := c.errnos(tg.Errnos, enames)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range tbl.Errnos {
		if got := info[e.Name].msg; got != e.Msg {
			t.Errorf("%s errno %s message: table has %q, C library has %q", name, e.Name, e.Msg, got)
		}
	}
}

var checkLine = regexp.MustCompile(`abigen-check:(\d+):[^\n]*`)

// checkUnit compiles as's assertions in u. For each failing one it
// reports the item, the table's value and the value C computes.
func checkUnit(t *testing.T, c *cc, target string, u unit, as []assertion) {
	if len(as) == 0 {
		return
	}
	var b strings.Builder
	b.WriteString("#line 1 \"abigen-check\"\n")
	for _, a := range as {
		fmt.Fprintf(&b, "_Static_assert((unsigned long long)(%s) == %#xULL, %q);\n", a.expr, a.want, a.item)
	}
	_, stderr, err := c.gcc(u, source(u, b.String()), "-fsyntax-only")
	if err == nil {
		return
	}
	why := map[int]string{}
	for _, m := range checkLine.FindAllStringSubmatch(stderr, -1) {
		line, _ := strconv.Atoi(m[1])
		if _, seen := why[line-1]; !seen && line-1 < len(as) {
			why[line-1] = strings.TrimSpace(m[0])
		}
	}
	if len(why) == 0 {
		t.Fatalf("%s unit %s: assertions do not compile: %v\n%s", target, u.Name, err, clip(stderr))
	}
	var bad []assertion
	for i, a := range as {
		if _, ok := why[i]; ok {
			bad = append(bad, a)
		}
	}
	found := exprValues(c, u, bad)
	for i, a := range as {
		w, ok := why[i]
		if !ok {
			continue
		}
		if v, ok := found[a.expr]; ok && a.hex {
			t.Errorf("%s %s: table has %#x, C has %#x", target, a.item, a.want, v)
		} else if ok {
			t.Errorf("%s %s: table has %d, C has %d", target, a.item, a.want, v)
		} else {
			t.Errorf("%s %s: C rejects it: %s", target, a.item, w)
		}
	}
}

// exprValues computes what C says each expression is, for the failure
// messages; expressions that do not compile are left out.
func exprValues(c *cc, u unit, as []assertion) map[string]uint64 {
	var names []string
	for _, a := range as {
		names = append(names, a.expr)
	}
	names, err := c.integers(u, names)
	if err != nil {
		return nil
	}
	var b strings.Builder
	b.WriteString("int printf(const char *, ...);\nstatic const unsigned long long abigen_x[] = {\n")
	for _, n := range names {
		fmt.Fprintf(&b, "\t(unsigned long long)(%s),\n", n)
	}
	b.WriteString("};\nint main(void) {\n\tfor (unsigned long i = 0; i < sizeof abigen_x / sizeof abigen_x[0]; i++)\n")
	b.WriteString("\t\tprintf(\"%llx\\n\", abigen_x[i]);\n\treturn 0;\n}\n")
	out, err := c.program(u, source(u, b.String()))
	if err != nil {
		return nil
	}
	vals := strings.Fields(string(out))
	m := map[string]uint64{}
	for i, n := range names {
		if i < len(vals) {
			if v, err := strconv.ParseUint(vals[i], 16, 64); err == nil {
				m[n] = v
			}
		}
	}
	return m
}
