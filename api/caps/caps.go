// Package caps is the capability toolbox on top of api's calls: a
// thread's whole capability state at once, libcap's text form
// ("cap_chown,cap_net_raw=ep"), dropping privileges in the right order,
// and file capabilities, the security.capability extended attribute, in
// its v2 and v3 (user-namespaced) formats.
//
// The calls it builds on (api.Kernel.Capget, Capset, CapbsetDrop,
// CapAmbientRaise, SetSecurebits, ...) change every thread of the process
// by default; see package api for the *Thread variants and for the cgo
// limitation (AllThreadsSyscall answers ENOTSUP in programs linked with
// cgo).
package caps

import (
	"errors"
	"fmt"
	"runtime"
	"strings"

	"github.com/anykernel/anykernel/api"
)

// State is the whole capability state of a thread.
type State struct {
	api.Caps
	Bounding   api.CapSet // what execve may ever grant
	Ambient    api.CapSet // kept across execve of programs without file capabilities
	Securebits api.Securebits
}

// Current reads the state of the calling thread. Threads agree unless a
// *Thread setter made one differ; to read a particular one, lock the
// goroutine to it first.
func Current(k *api.Kernel) (State, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var s State
	var err error
	if s.Caps, err = k.Capget(0); err != nil {
		return s, err
	}
	for _, c := range Known() {
		in, err := k.CapbsetRead(c)
		if errors.Is(err, api.EINVAL) {
			continue // a capability this kernel does not have
		}
		if err != nil {
			return s, err
		}
		if in {
			s.Bounding = s.Bounding.Add(c)
		}
		amb, err := k.CapAmbientIsSet(c)
		if err != nil && !errors.Is(err, api.EINVAL) {
			return s, err
		}
		if amb {
			s.Ambient = s.Ambient.Add(c)
		}
	}
	if s.Securebits, err = k.GetSecurebits(); err != nil {
		return s, err
	}
	return s, nil
}

// Known returns every capability api has a name for, in number order.
func Known() []api.Capability {
	var out []api.Capability
	for c := api.Capability(0); c < 64; c++ {
		if !strings.HasPrefix(c.String(), "Capability(") {
			out = append(out, c)
		}
	}
	return out
}

// All is the set of every capability api knows.
func All() api.CapSet {
	return api.CapSetOf(Known()...)
}

// Drop removes caps from every set of every thread, for good, in the
// order that works: ambient first (it may only hold what is permitted and
// inheritable), then the bounding set (which needs CAP_SETPCAP, possibly
// among those dropped), then the effective, permitted and inheritable
// sets. In cgo programs it fails with ENOTSUP before changing anything
// (see package api); DropThread is the way there.
func Drop(k *api.Kernel, caps api.CapSet) error {
	return drop(k, caps, false)
}

// DropThread is Drop for the calling OS thread only; it locks the
// goroutine to its thread for good (runtime.LockOSThread), as the thread
// can never get the capabilities back.
func DropThread(k *api.Kernel, caps api.CapSet) error {
	runtime.LockOSThread()
	return drop(k, caps, true)
}

func drop(k *api.Kernel, caps api.CapSet, thread bool) error {
	for _, c := range caps.List() {
		in, err := k.CapAmbientIsSet(c)
		if errors.Is(err, api.EINVAL) {
			continue // a capability this kernel does not have
		}
		if err != nil {
			return err
		}
		if !in {
			continue
		}
		if thread {
			err = k.CapAmbientLowerThread(c)
		} else {
			err = k.CapAmbientLower(c)
		}
		if err != nil {
			return err
		}
	}
	for _, c := range caps.List() {
		in, err := k.CapbsetRead(c)
		if errors.Is(err, api.EINVAL) {
			continue
		}
		if err != nil {
			return err
		}
		if !in {
			continue
		}
		if thread {
			err = k.CapbsetDropThread(c)
		} else {
			err = k.CapbsetDrop(c)
		}
		if err != nil {
			return err
		}
	}
	cur, err := k.Capget(0)
	if err != nil {
		return err
	}
	next := api.Caps{
		Effective:   cur.Effective &^ caps,
		Permitted:   cur.Permitted &^ caps,
		Inheritable: cur.Inheritable &^ caps,
	}
	if thread {
		return k.CapsetThread(next)
	}
	return k.Capset(next)
}

// Flag bits of the text form, in libcap's order (CAP_EFFECTIVE,
// CAP_PERMITTED, CAP_INHERITABLE), which decides the order of clauses.
const (
	flagE = 1 << iota
	flagP
	flagI
)

func flagsOf(c api.Caps, n api.Capability) int {
	f := 0
	if c.Effective.Has(n) {
		f |= flagE
	}
	if c.Inheritable.Has(n) {
		f |= flagI
	}
	if c.Permitted.Has(n) {
		f |= flagP
	}
	return f
}

func flagText(f int) string {
	var b strings.Builder
	if f&flagE != 0 {
		b.WriteByte('e')
	}
	if f&flagI != 0 {
		b.WriteByte('i')
	}
	if f&flagP != 0 {
		b.WriteByte('p')
	}
	return b.String()
}

// capText is libcap's name of c: "cap_chown", or the number.
func capText(c api.Capability) string {
	s := c.String()
	if strings.HasPrefix(s, "Capability(") {
		return fmt.Sprint(int(c))
	}
	return strings.ToLower(s)
}

// Format prints c as libcap's cap_to_text does, for a kernel with ncaps
// capabilities (its /proc/sys/kernel/cap_last_cap plus one; 0: as many as
// api knows): the flags most capabilities share first ("=ep"), then the
// others grouped by their flags ("cap_sys_resource-ep"). It is what
// getcap and capsh print.
func Format(c api.Caps, ncaps int) string {
	if ncaps <= 0 {
		ncaps = len(Known())
	}
	var histo [8]int
	for n := range ncaps {
		histo[flagsOf(c, api.Capability(n))]++
	}
	m := 7
	for t := 6; t >= 0; t-- {
		if histo[t] >= histo[m] {
			m = t
		}
	}
	var b strings.Builder
	b.WriteString("=" + flagText(m))
	first := true
	for t := 7; t >= 0; t-- {
		if t == m || histo[t] == 0 {
			continue
		}
		var names []string
		for n := range ncaps {
			if flagsOf(c, api.Capability(n)) == t {
				names = append(names, capText(api.Capability(n)))
			}
		}
		clause := strings.Join(names, ",")
		if add := t &^ m; add != 0 {
			op := "+"
			if m == 0 && first {
				// libcap writes "= foo+eip ..." as "foo=eip ...".
				op = "="
			}
			clause += op + flagText(add)
		}
		if del := m &^ t; del != 0 {
			clause += "-" + flagText(del)
		}
		if m == 0 && first {
			b.Reset()
			b.WriteString(clause)
		} else {
			b.WriteString(" " + clause)
		}
		first = false
	}
	return b.String()
}

// TextError reports a word of the text form that cannot be parsed.
type TextError struct {
	Word, Input string
	Msg         string
}

func (e *TextError) Error() string {
	return fmt.Sprintf("caps: %s %q in %q", e.Msg, e.Word, e.Input)
}

// Unwrap makes errors.Is(err, api.EINVAL) hold.
func (e *TextError) Unwrap() error { return api.EINVAL }

// Parse reads libcap's text form (cap_from_text): clauses separated by
// spaces, each a comma-separated list of capabilities ("all", or nothing
// before "=", means every capability) followed by operations: "=flags"
// sets exactly those sets, "+flags" adds, "-flags" removes, with flags
// from e, i, p. "cap_chown,cap_kill=ep cap_net_raw+i" is an example.
func Parse(s string) (api.Caps, error) {
	var c api.Caps
	for _, clause := range strings.Fields(s) {
		i := strings.IndexAny(clause, "=+-")
		if i < 0 {
			return c, &TextError{clause, s, "no operation (=, + or -) in"}
		}
		var set api.CapSet
		if names := clause[:i]; names == "" || strings.EqualFold(names, "all") {
			if clause[i] != '=' && names == "" {
				return c, &TextError{clause, s, "no capabilities before + or - in"}
			}
			set = All()
		} else {
			for _, n := range strings.Split(names, ",") {
				x, err := api.ParseCapSet(n)
				if err != nil || n == "" || strings.HasPrefix(n, "~") {
					return c, &TextError{n, s, "unknown capability"}
				}
				set |= x
			}
		}
		ops := clause[i:]
		for len(ops) > 0 {
			op := ops[0]
			j := 1
			for j < len(ops) && strings.IndexByte("=+-", ops[j]) < 0 {
				j++
			}
			flags := ops[1:j]
			if op != '=' && flags == "" {
				return c, &TextError{ops[:j], s, "no flags after operation"}
			}
			if op == '=' {
				c.Effective &^= set
				c.Permitted &^= set
				c.Inheritable &^= set
			}
			for _, f := range flags {
				var p *api.CapSet
				switch f {
				case 'e':
					p = &c.Effective
				case 'i':
					p = &c.Inheritable
				case 'p':
					p = &c.Permitted
				default:
					return c, &TextError{string(f), s, "unknown flag (want e, i or p)"}
				}
				if op == '-' {
					*p &^= set
				} else {
					*p |= set
				}
			}
			ops = ops[j:]
		}
	}
	return c, nil
}
