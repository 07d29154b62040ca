package gen

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/anykernel/anykernel/abi"
)

// result is a generated table plus what the checks and the log need.
type result struct {
	Table *abi.Table

	// ConstUnit names the translation unit each constant came from, so
	// the C check asserts it where it was found.
	ConstUnit map[string]string

	// Shadowed lists constants a later unit defines differently from the
	// unit that won (typically glibc vs kernel), for the log.
	Shadowed []string

	// Skipped lists struct members left out (bit-fields).
	Skipped []string

	// Provenance describes the headers: "LINUX_VERSION_CODE=6.1.255 __GLIBC__=2 ...".
	Provenance string
}

var errnoName = regexp.MustCompile(`^E[A-Z0-9]+$`)

// generate builds t's table from the headers on this machine.
func generate(t *target) (*result, error) {
	if t.XSys != nil {
		return generateXSys(t)
	}
	c, err := newCC(t)
	if err != nil {
		return nil, err
	}
	defer c.close()

	res := &result{
		Table: &abi.Table{
			OS: t.GOOS, Arch: t.GOARCH, PtrSize: t.PtrSize, BigEndian: t.BigEndian, Arg64: t.Arg64,
		},
		ConstUnit: map[string]string{},
	}
	tbl := res.Table

	if len(t.ProvenanceMacros) > 0 {
		vals, err := c.values(t.Provenance, t.ProvenanceMacros)
		if err != nil {
			return nil, err
		}
		var p []string
		for _, n := range t.ProvenanceMacros {
			v := vals[n]
			if n == "LINUX_VERSION_CODE" {
				p = append(p, fmt.Sprintf("%s=%d.%d.%d", n, v>>16, v>>8&0xff, v&0xff))
			} else {
				p = append(p, fmt.Sprintf("%s=%d", n, v))
			}
		}
		res.Provenance = strings.Join(p, " ")
	}

	// Syscalls.
	names, vals, err := c.unitConsts(t.Syscalls, t.isSyscall, false)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s/%s: no %s* macros in %v", t.GOOS, t.GOARCH, t.SyscallPrefix, t.Syscalls.Headers)
	}
	for _, n := range names {
		tbl.Syscalls = append(tbl.Syscalls, abi.Syscall{Name: strings.TrimPrefix(n, t.SyscallPrefix), Nr: uintptr(vals[n])})
	}

	// Errnos: one per number, under its canonical name; every name is
	// also a constant.
	enames, err := c.unitConstNames(t.Errnos, keepErrno, false)
	if err != nil {
		return nil, err
	}
	einfo, err := c.errnos(t.Errnos, enames)
	if err != nil {
		return nil, err
	}
	alias := map[string]bool{}
	for _, a := range t.ErrnoAliases {
		alias[a] = true
	}
	byNr := map[uint64]string{}
	for _, n := range enames {
		e := einfo[n]
		tbl.Consts = append(tbl.Consts, abi.Const{Name: n, Value: e.nr})
		res.ConstUnit[n] = t.Errnos.Name
		if alias[n] {
			continue
		}
		if old, dup := byNr[e.nr]; dup {
			return nil, fmt.Errorf("errnos %s and %s are both %d: list one in ErrnoAliases", old, n, e.nr)
		}
		byNr[e.nr] = n
		tbl.Errnos = append(tbl.Errnos, abi.Errno{Name: n, Nr: uintptr(e.nr), Msg: e.msg})
	}
	for _, a := range t.ErrnoAliases {
		if _, ok := einfo[a]; ok {
			if _, ok := byNr[einfo[a].nr]; !ok {
				return nil, fmt.Errorf("errno alias %s = %d aliases no canonical errno", a, einfo[a].nr)
			}
		}
	}
	sort.Slice(tbl.Errnos, func(i, j int) bool { return tbl.Errnos[i].Nr < tbl.Errnos[j].Nr })

	if err := genUnits(c, t, res); err != nil {
		return nil, err
	}
	sort.Slice(tbl.Structs, func(i, j int) bool { return tbl.Structs[i].Name < tbl.Structs[j].Name })
	sort.Strings(res.Shadowed)
	return res, nil
}

// genUnits adds the constants and structs of t's units to res: a
// constant from the first unit (or source) that defines it, structs
// laid out by the compiler with member names from its debug info.
func genUnits(c *cc, t *target, res *result) error {
	tbl := res.Table
	// Constants, first unit wins.
	for _, u := range t.Units {
		names, vals, err := c.unitConsts(u, keepConst(t, u), true)
		if err != nil {
			return err
		}
		for _, n := range names {
			v := vals[n]
			if from, ok := res.ConstUnit[n]; ok {
				if old, _ := tbl.Const(n); from != t.Errnos.Name && old != v {
					res.Shadowed = append(res.Shadowed, fmt.Sprintf("%s: %s %#x, %s %#x", n, from, old, u.Name, v))
				}
				continue
			}
			res.ConstUnit[n] = u.Name
			tbl.Consts = append(tbl.Consts, abi.Const{Name: n, Value: v})
			// Keep Consts sorted as we go so tbl.Const works above.
			sort.Slice(tbl.Consts, func(i, j int) bool { return tbl.Consts[i].Name < tbl.Consts[j].Name })
		}
	}
	sort.Slice(tbl.Consts, func(i, j int) bool { return tbl.Consts[i].Name < tbl.Consts[j].Name })

	// Structs.
	seen := map[string]bool{}
	for _, s := range t.Structs {
		if seen[s.Name] {
			return fmt.Errorf("struct %s configured twice", s.Name)
		}
		seen[s.Name] = true
		if unitByName(t, s.Unit) == nil {
			return fmt.Errorf("struct %s: unknown unit %q", s.Name, s.Unit)
		}
	}
	for _, u := range t.Units {
		var specs []structSpec
		for _, s := range t.Structs {
			if s.Unit == u.Name {
				specs = append(specs, s)
			}
		}
		if len(specs) == 0 {
			continue
		}
		var optional []structSpec
		for _, s := range specs {
			if s.Optional {
				optional = append(optional, s)
			}
		}
		if len(optional) > 0 {
			have, err := c.declared(u, optional)
			if err != nil {
				return err
			}
			keep := map[string]bool{}
			for _, s := range have {
				keep[s.Name] = true
			}
			kept := specs[:0:0]
			for _, s := range specs {
				if !s.Optional || keep[s.Name] {
					kept = append(kept, s)
				} else {
					res.Skipped = append(res.Skipped, fmt.Sprintf("struct %s: %s is not declared (optional)", s.Name, s.CType))
				}
			}
			specs = kept
			if len(specs) == 0 {
				continue
			}
		}
		members, skipped, err := c.memberNames(u, specs)
		if err != nil {
			return err
		}
		res.Skipped = append(res.Skipped, skipped...)
		lay, err := c.layouts(u, specs, members)
		if err != nil {
			return err
		}
		for i, s := range specs {
			st := abi.Struct{Name: s.Name, Size: int(lay[i][0]), Align: int(lay[i][1])}
			for j, m := range members[i] {
				st.Fields = append(st.Fields, abi.Field{Name: m.name, Offset: int(lay[i][2+2*j]), Size: int(lay[i][3+2*j])})
			}
			// Extras (macros over unions) join the debug-info members in
			// offset order; the stable sort keeps an aggregate before
			// its first member.
			sort.SliceStable(st.Fields, func(a, b int) bool { return st.Fields[a].Offset < st.Fields[b].Offset })
			names := map[string]bool{}
			for _, f := range st.Fields {
				if names[f.Name] {
					return fmt.Errorf("struct %s: field %s appears twice", s.Name, f.Name)
				}
				names[f.Name] = true
			}
			tbl.Structs = append(tbl.Structs, st)
		}
	}
	return nil
}

// unitConstNames returns the integer-constant macros of u accepted by
// keep, sorted; with enums, u's enumerators as well (the constant units;
// syscall and errno numbers are macros).
func (c *cc) unitConstNames(u unit, keep func(string) bool, enums bool) ([]string, error) {
	m, err := c.macros(u)
	if err != nil {
		return nil, err
	}
	if enums {
		es, err := c.enumerators(u)
		if err != nil {
			return nil, err
		}
		for n := range es {
			m[n] = true
		}
	}
	var names []string
	for n := range m {
		if keep(n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return c.integers(u, names)
}

// unitConsts is unitConstNames with the values.
func (c *cc) unitConsts(u unit, keep func(string) bool, enums bool) ([]string, map[string]uint64, error) {
	names, err := c.unitConstNames(u, keep, enums)
	if err != nil {
		return nil, nil, err
	}
	vals, err := c.values(u, names)
	if err != nil {
		return nil, nil, err
	}
	return names, vals, nil
}

// isSyscall reports whether macro n names a syscall number.
func (t *target) isSyscall(n string) bool {
	rest, ok := strings.CutPrefix(n, t.SyscallPrefix)
	if !ok {
		return false
	}
	for _, x := range t.SyscallExclude {
		if rest == x {
			return false
		}
	}
	return true
}

// keepConst selects u's constants for t: by prefix, minus exclusions.
func keepConst(t *target, u unit) func(string) bool {
	return func(n string) bool {
		return hasAnyPrefix(n, t.Prefixes) && !hasAnyPrefix(n, t.Exclude) && !hasAnyPrefix(n, u.Exclude)
	}
}

// keepErrno selects errno macros.
func keepErrno(n string) bool { return errnoName.MatchString(n) }

// constUnits maps every constant of t to the unit it is taken from, by
// the same rules as generate (errno unit first, then Units in order).
func (c *cc) constUnits(t *target) (map[string]string, error) {
	from := map[string]string{}
	for _, u := range append([]unit{t.Errnos}, t.Units...) {
		keep, enums := keepConst(t, u), true
		if u.Name == t.Errnos.Name {
			keep, enums = keepErrno, false
		}
		names, err := c.unitConstNames(u, keep, enums)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if _, ok := from[n]; !ok {
				from[n] = u.Name
			}
		}
	}
	return from, nil
}

func unitByName(t *target, name string) *unit {
	for i := range t.Units {
		if t.Units[i].Name == name {
			return &t.Units[i]
		}
	}
	return nil
}
