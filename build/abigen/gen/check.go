package gen

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/anykernel/anykernel/abi"
	"github.com/anykernel/anykernel/build/abicheck/compare"
)

// CResult is the outcome of the C check of one table.
type CResult struct {
	// Unavailable is why no C check is possible for the target (no
	// headers exist for it on Debian), "" when it ran.
	Unavailable string
	// Skipped is why the check did not run on this machine (headers or
	// compiler not installed, with the apt-get command), "" when it ran.
	Skipped    string
	Assertions int      // facts compiled
	Mismatches []string // "target item: table has X, C has Y"
	Note       string   // what was checked, when it is not everything
}

// CheckC restates every entry of tbl, the committed table of target
// name, as a C _Static_assert and compiles it for the target with clang
// --target against the headers the generator read: syscall numbers,
// errno numbers (and, where the target's programs run here, strerror
// texts), constants, struct sizes and alignments, member offsets and
// sizes. A failing assertion is reported with the table's and C's values.
func CheckC(name string, tbl *abi.Table) (*CResult, error) {
	t := targetByName(name)
	if t == nil {
		return nil, fmt.Errorf("unknown target %q", name)
	}
	if t.XSys != nil {
		if t.GOOS == "netbsd" {
			return checkRump(t, tbl)
		}
		return &CResult{Unavailable: t.NoC}, nil
	}
	if m := Missing(name); m != "" {
		return &CResult{Skipped: m}, nil
	}
	cmd := t.CheckCC
	if cmd == nil {
		cmd = t.CC
	}
	c, err := newCCWith(t, cmd)
	if err != nil {
		return nil, err
	}
	defer c.close()
	r := &CResult{}
	perUnit := map[string][]assertion{}
	bad := func(format string, args ...any) {
		r.Mismatches = append(r.Mismatches, name+" "+fmt.Sprintf(format, args...))
	}

	for _, s := range tbl.Syscalls {
		perUnit[t.Syscalls.Name] = append(perUnit[t.Syscalls.Name], assertion{
			fmt.Sprintf("syscall %s = %d", s.Name, s.Nr), t.SyscallPrefix + s.Name, uint64(s.Nr), false})
	}
	from, err := c.constUnits(t)
	if err != nil {
		return nil, err
	}
	for _, k := range tbl.Consts {
		u, ok := from[k.Name]
		if !ok {
			bad("const %s: in the table but no header unit defines it as an integer", k.Name)
			continue
		}
		perUnit[u] = append(perUnit[u], assertion{fmt.Sprintf("const %s = %#x", k.Name, k.Value), k.Name, k.Value, true})
	}
	var enames []string
	for _, e := range tbl.Errnos {
		enames = append(enames, e.Name)
		perUnit[t.Errnos.Name] = append(perUnit[t.Errnos.Name], assertion{
			fmt.Sprintf("errno %s = %d", e.Name, e.Nr), e.Name, uint64(e.Nr), false})
	}
	for _, st := range tbl.Structs {
		s, as, ok := structAssertions(t, st)
		if !ok {
			bad("struct %s: in the table but not configured", st.Name)
			continue
		}
		perUnit[s.Unit] = append(perUnit[s.Unit], as...)
	}
	// An optional struct the table lacks must be one the headers do not
	// declare.
	for _, s := range t.Structs {
		if _, ok := tbl.Struct(s.Name); ok || !s.Optional {
			continue
		}
		u := unitByName(t, s.Unit)
		if u == nil {
			bad("struct %s: unknown unit %q", s.Name, s.Unit)
			continue
		}
		have, err := c.declared(*u, []structSpec{s})
		if err != nil {
			return nil, err
		}
		r.Assertions++
		if len(have) > 0 {
			bad("struct %s: not in the table, but %s declares %s", s.Name, s.Unit, s.CType)
		}
	}
	for _, u := range append([]unit{t.Syscalls, t.Errnos}, t.Units...) {
		as := perUnit[u.Name]
		r.Assertions += len(as)
		delete(perUnit, u.Name)
		ms, err := checkUnit(c, name, u, as)
		if err != nil {
			return nil, err
		}
		r.Mismatches = append(r.Mismatches, ms...)
	}
	for u := range perUnit {
		bad("unit %q is not configured", u)
	}
	if t.Run {
		// Messages come from strerror at run time, so this part runs a program.
		info, err := c.errnos(t.Errnos, enames)
		if err != nil {
			return nil, err
		}
		for _, e := range tbl.Errnos {
			if got := info[e.Name].msg; got != e.Msg {
				bad("errno %s message: table has %q, C library has %q", e.Name, e.Msg, got)
			}
		}
	} else {
		r.Note = "errno messages not checked: the target's C library does not run here"
	}
	return r, nil
}

// structAssertions restates struct st of the table as C: size,
// alignment, and each member's offset and size, in the unit of its
// configuration s (ok false: st is not configured).
func structAssertions(t *target, st abi.Struct) (s structSpec, as []assertion, ok bool) {
	for _, c := range t.Structs {
		if c.Name == st.Name {
			s, ok = c, true
		}
	}
	if !ok {
		return s, nil, false
	}
	extra := map[string]fieldSpec{}
	for _, x := range s.Extra {
		extra[x.Name] = x
	}
	as = []assertion{
		{fmt.Sprintf("struct %s size %d", st.Name, st.Size), "sizeof(" + s.CType + ")", uint64(st.Size), false},
		{fmt.Sprintf("struct %s align %d", st.Name, st.Align), "_Alignof(" + s.CType + ")", uint64(st.Align), false},
	}
	for _, f := range st.Fields {
		m := member{name: f.Name, c: f.Name}
		if x, ok := extra[f.Name]; ok {
			m = x.member()
		}
		off, size := m.exprs(s.CType)
		as = append(as, assertion{fmt.Sprintf("%s.%s offset %d", st.Name, f.Name, f.Offset), off, uint64(f.Offset), false})
		// Size 0 is a flexible array member, which sizeof rejects.
		if f.Size != 0 {
			as = append(as, assertion{fmt.Sprintf("%s.%s size %d", st.Name, f.Name, f.Size), size, uint64(f.Size), false})
		}
	}
	return s, as, true
}

// assertion is one fact of the table restated as C: EXPR == want.
type assertion struct {
	item string // what failed, as reported: "stat.st_size offset 48"
	expr string
	want uint64
	hex  bool // report values in hex (constants) rather than decimal
}

var checkLine = regexp.MustCompile(`abigen-check:(\d+):[^\n]*`)

// checkUnit compiles as's assertions in u. For each failing one it
// reports the item, the table's value and the value C computes.
func checkUnit(c *cc, target string, u unit, as []assertion) ([]string, error) {
	if len(as) == 0 {
		return nil, nil
	}
	var b strings.Builder
	b.WriteString("#line 1 \"abigen-check\"\n")
	for _, a := range as {
		fmt.Fprintf(&b, "_Static_assert((unsigned long long)(%s) == %#xULL, %q);\n", a.expr, a.want, a.item)
	}
	_, stderr, err := c.gcc(u, source(u, b.String()), "-fsyntax-only")
	if err == nil {
		return nil, nil
	}
	why := map[int]string{}
	for _, m := range checkLine.FindAllStringSubmatch(stderr, -1) {
		line, _ := strconv.Atoi(m[1])
		if _, seen := why[line-1]; !seen && line-1 < len(as) {
			why[line-1] = strings.TrimSpace(m[0])
		}
	}
	if len(why) == 0 {
		return nil, fmt.Errorf("%s unit %s: assertions do not compile: %v\n%s", target, u.Name, err, clip(stderr))
	}
	var bad []assertion
	for i, a := range as {
		if _, ok := why[i]; ok {
			bad = append(bad, a)
		}
	}
	found := exprValues(c, u, bad)
	var out []string
	for i, a := range as {
		w, ok := why[i]
		if !ok {
			continue
		}
		if v, ok := found[a.expr]; ok && a.hex {
			out = append(out, fmt.Sprintf("%s %s: table has %#x, C has %#x", target, a.item, a.want, v))
		} else if ok {
			out = append(out, fmt.Sprintf("%s %s: table has %d, C has %d", target, a.item, a.want, v))
		} else {
			out = append(out, fmt.Sprintf("%s %s: C rejects it: %s", target, a.item, w))
		}
	}
	return out, nil
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
	vals, err := c.objValues(u, names)
	if err != nil {
		return nil
	}
	m := map[string]uint64{}
	for i, n := range names {
		m[n] = vals[i]
	}
	return m
}

// checkRump checks a NetBSD table against a rump kernel's rumpdefs.h,
// which restates NetBSD's constants with a RUMP_ prefix (RUMP_O_CREAT,
// RUMP_ENOENT, ...), where RUMP_PREFIX names an installation. Without
// one, or for what rumpdefs.h lacks, it compiles the configuration's
// hand-described units (constants, mount argument structs, sigset)
// against the table, so a table that has drifted from its configuration
// fails either way.
func checkRump(t *target, tbl *abi.Table) (*CResult, error) {
	units, n, err := checkUnits(t, tbl)
	if err != nil {
		return nil, err
	}
	unitNote := fmt.Sprintf("%d facts of the hand-described units compiled", n)
	prefix := os.Getenv("RUMP_PREFIX")
	hdr := filepath.Join(prefix, "include", "rump", "rumpdefs.h")
	if prefix == "" {
		return &CResult{Unavailable: t.NoC, Assertions: n, Mismatches: units, Note: unitNote}, nil
	}
	if _, err := os.Stat(hdr); err != nil {
		return &CResult{Unavailable: fmt.Sprintf("no NetBSD headers on Debian, and RUMP_PREFIX=%s has no include/rump/rumpdefs.h", prefix),
			Assertions: n, Mismatches: units, Note: unitNote}, nil
	}
	c, err := newCCWith(t, []string{"clang", "--target=" + strings.TrimPrefix(t.CC[1], "--target="), "-ffreestanding", "-ferror-limit=0"})
	if err != nil {
		return &CResult{Skipped: err.Error()}, nil
	}
	defer c.close()
	u := unit{Name: "rumpdefs", Flags: []string{"-I", filepath.Join(prefix, "include")},
		Prelude: "#include <stddef.h>\n#include <stdint.h>\n#include <rump/rumpdefs.h>\n"}
	m, err := c.macros(u)
	if err != nil {
		return nil, err
	}
	var as []assertion
	for _, k := range tbl.Consts {
		if m["RUMP_"+k.Name] {
			as = append(as, assertion{fmt.Sprintf("const %s = %#x (RUMP_%s)", k.Name, k.Value, k.Name), "RUMP_" + k.Name, k.Value, true})
		}
	}
	sort.Slice(as, func(i, j int) bool { return as[i].item < as[j].item })
	var names []string
	for _, a := range as {
		names = append(names, a.expr)
	}
	ok, err := c.integers(u, names)
	if err != nil {
		return nil, err
	}
	keep := map[string]bool{}
	for _, n := range ok {
		keep[n] = true
	}
	kept := as[:0]
	for _, a := range as {
		if keep[a.expr] {
			kept = append(kept, a)
		}
	}
	ms, err := checkUnit(c, t.name(), u, kept)
	if err != nil {
		return nil, err
	}
	return &CResult{Assertions: len(kept) + n, Mismatches: append(units, ms...),
		Note: fmt.Sprintf("against %s (%d RUMP_ constants; syscalls and layouts are not in rumpdefs.h); %s", hdr, len(kept), unitNote)}, nil
}

// checkUnits compiles, in each hand-described unit of an x/sys target,
// the table's value of every constant the unit defines and the layout of
// every struct it declares.
func checkUnits(t *target, tbl *abi.Table) ([]string, int, error) {
	if len(t.Units) == 0 {
		return nil, 0, nil
	}
	c, err := newCC(t)
	if err != nil {
		return nil, 0, err
	}
	defer c.close()
	perUnit := map[string][]assertion{}
	for _, u := range t.Units {
		names, err := c.unitConstNames(u, keepConst(t, u), true)
		if err != nil {
			return nil, 0, err
		}
		for _, n := range names {
			if v, ok := tbl.Const(n); ok {
				perUnit[u.Name] = append(perUnit[u.Name], assertion{fmt.Sprintf("const %s = %#x", n, v), n, v, true})
			}
		}
	}
	var bad []string
	for _, st := range tbl.Structs {
		if s, as, ok := structAssertions(t, st); ok {
			perUnit[s.Unit] = append(perUnit[s.Unit], as...)
		}
	}
	for _, s := range t.Structs {
		if _, ok := tbl.Struct(s.Name); !ok {
			bad = append(bad, fmt.Sprintf("%s struct %s: configured but not in the table", t.name(), s.Name))
		}
	}
	n := 0
	for _, u := range t.Units {
		as := perUnit[u.Name]
		n += len(as)
		ms, err := checkUnit(c, t.name(), u, as)
		if err != nil {
			return nil, 0, err
		}
		bad = append(bad, ms...)
	}
	return bad, n, nil
}

// XResult is the outcome of the x/sys check of one table.
type XResult struct {
	Unavailable string   // x/sys does not support the target
	Compared    int      // facts compared
	Diffs       []string // differences the allow-list does not excuse
	Used        []string // allow-list items (as For returns them) that excused a difference
}

// CheckXSys compares tbl with golang.org/x/sys/unix for the named target,
// computed with go/types for its GOOS/GOARCH (no build tags, any host):
// syscall numbers, errnos and constants by name, struct sizes,
// alignments and member offsets and sizes as Go's gc lays x/sys's types
// out.
func CheckXSys(name string, tbl *abi.Table, xsys string) (*XResult, error) {
	t := targetByName(name)
	if t == nil {
		return nil, fmt.Errorf("unknown target %q", name)
	}
	x, err := loadXPkg(xsys, t.GOOS, t.GOARCH)
	if err != nil {
		return nil, err
	}
	if x == nil {
		return &XResult{Unavailable: "golang.org/x/sys/unix has no " + name}, nil
	}
	f := x.facts(buildXMap(t, tbl, x))
	allow := compare.For(name)
	diffs, unused := compare.Compare(tbl, f, allow)
	r := &XResult{Diffs: diffs}
	r.Compared = len(f.Syscalls) + len(f.Errnos) + len(f.Consts)
	for _, s := range f.Structs {
		r.Compared += 2 + 2*len(s.Fields)
	}
	isUnused := map[string]bool{}
	for _, u := range unused {
		isUnused[u] = true
	}
	for item := range allow {
		if !isUnused[item] {
			r.Used = append(r.Used, item)
		}
	}
	sort.Strings(r.Used)
	return r, nil
}
