package seccomp

import (
	"fmt"
	"sort"
	"sync"

	"github.com/anykernel/anykernel/api"
)

// CompileError reports a policy the compiler cannot turn into a program:
// an unknown call, a bad argument index, a value that does not fit, a rule
// that can never apply, a program too long for the kernel.
type CompileError struct {
	Rule int // index into Policy.Rules; -1 for the policy as a whole
	Msg  string
}

func (e *CompileError) Error() string {
	if e.Rule < 0 {
		return "seccomp: " + e.Msg
	}
	return fmt.Sprintf("seccomp: rule %d: %s", e.Rule+1, e.Msg)
}

// Unwrap makes errors.Is(err, api.EINVAL) hold.
func (e *CompileError) Unwrap() error { return api.EINVAL }

// ActionValue returns the SECCOMP_RET_* value a program returns for a in
// tg's ABI (the action in the high bits, the errno or data in the low 16).
func (tg *Target) ActionValue(a Action) (uint32, error) {
	r := &tg.ret
	switch a.Kind {
	case ActAllow:
		return r.allow, nil
	case ActErrno:
		n, ok := tg.errno(a.Errno)
		if !ok {
			return 0, fmt.Errorf("errno %s does not exist in the %s/%s ABI", a.Errno.Name(), tg.table.OS, tg.table.Arch)
		}
		if uint64(n) > uint64(tg.dataMk) {
			return 0, fmt.Errorf("errno %d does not fit SECCOMP_RET_DATA", n)
		}
		return r.errno | uint32(n), nil
	case ActTrap:
		return r.trap | uint32(a.Data)&tg.dataMk, nil
	case ActLog:
		return r.log, nil
	case ActKillThread:
		return r.killThread, nil
	case ActKillProcess:
		return r.killProcess, nil
	case ActTrace:
		return r.trace | uint32(a.Data)&tg.dataMk, nil
	case ActNotify:
		return r.userNotif, nil
	}
	return 0, fmt.Errorf("unknown action kind %d", a.Kind)
}

// ActionOf decodes a SECCOMP_RET_* value of tg's ABI, as a program
// returns it. Unknown actions decode as KillProcess, which is what the
// kernel does with them.
func (tg *Target) ActionOf(v uint32) Action {
	r := &tg.ret
	data := v & tg.dataMk
	switch v & tg.actionMask {
	case r.allow:
		return Allow
	case r.errno:
		return Errno(tg.errnoFromABI(uintptr(data)))
	case r.trap:
		return Trap(uint16(data))
	case r.log:
		return Log
	case r.killThread:
		return KillThread
	case r.trace:
		return Trace(uint16(data))
	case r.userNotif:
		return Notify
	}
	return KillProcess
}

var (
	errnoNamesOnce sync.Once
	errnoByName    map[string]api.Errno
)

// initErrnoNames maps api's errno names to their values.
func initErrnoNames() {
	errnoByName = map[string]api.Errno{}
	for e := api.Errno(1); e < 4096; e++ {
		if name := e.Name(); name[0] == 'E' {
			errnoByName[name] = e
		}
	}
}

// errnoFromABI converts an ABI errno number to api's.
func (tg *Target) errnoFromABI(n uintptr) api.Errno {
	errnoNamesOnce.Do(initErrnoNames)
	for _, e := range tg.table.Errnos {
		if e.Nr == n {
			if v, ok := errnoByName[e.Name]; ok {
				return v
			}
		}
	}
	return api.Errno(n)
}

// label is a place in the program being assembled.
type label int

const (
	aPlain uint8 = iota // any instruction that is not a jump
	aCond               // conditional jump to jt or jf
	aJump               // BPF_JA to target
	aMark               // defines lbl here; emits nothing
)

type asmInsn struct {
	kind   uint8
	code   uint16
	k      uint32
	jt, jf label // aCond; target in jt for aJump; the label for aMark
}

// asm collects instructions with symbolic forward jumps and resolves them;
// a conditional jump too far for its 8-bit offsets goes through a BPF_JA
// trampoline inserted right after it.
type asm struct {
	tg      *Target
	ins     []asmInsn
	nlabels int
}

func (a *asm) newLabel() label { a.nlabels++; return label(a.nlabels - 1) }
func (a *asm) mark(l label)    { a.ins = append(a.ins, asmInsn{kind: aMark, jt: l}) }
func (a *asm) emit(code uint16, k uint32) {
	a.ins = append(a.ins, asmInsn{kind: aPlain, code: code, k: k})
}
func (a *asm) load(off uint32) { a.emit(a.tg.op.ldAbs, off) }
func (a *asm) jump(l label)    { a.ins = append(a.ins, asmInsn{kind: aJump, code: a.tg.op.ja, jt: l}) }
func (a *asm) cond(code uint16, k uint32, jt, jf label) {
	a.ins = append(a.ins, asmInsn{kind: aCond, code: code, k: k, jt: jt, jf: jf})
}

// positions returns each label's instruction index.
func (a *asm) positions() []int {
	pos := make([]int, a.nlabels)
	for i := range pos {
		pos[i] = -1
	}
	n := 0
	for _, in := range a.ins {
		if in.kind == aMark {
			pos[in.jt] = n
		} else {
			n++
		}
	}
	return pos
}

func (a *asm) assemble() ([]api.SockFilter, error) {
	for {
		pos := a.positions()
		var out []asmInsn
		grew := false
		n := 0
		for _, in := range a.ins {
			if in.kind == aMark {
				out = append(out, in)
				continue
			}
			if in.kind == aCond {
				var tramp []asmInsn
				for _, t := range []*label{&in.jt, &in.jf} {
					if pos[*t] < 0 {
						return nil, fmt.Errorf("seccomp: internal error: label %d not placed", *t)
					}
					if pos[*t]-(n+1) > 255 {
						l := a.newLabel()
						tramp = append(tramp, asmInsn{kind: aMark, jt: l}, asmInsn{kind: aJump, code: a.tg.op.ja, jt: *t})
						*t = l
						grew = true
					}
				}
				out = append(out, in)
				out = append(out, tramp...)
				n++
				continue
			}
			out = append(out, in)
			n++
		}
		a.ins = out
		if !grew {
			break
		}
	}
	pos := a.positions()
	var prog []api.SockFilter
	for _, in := range a.ins {
		i := len(prog)
		switch in.kind {
		case aMark:
			continue
		case aPlain:
			prog = append(prog, api.SockFilter{Code: in.code, K: in.k})
		case aJump:
			off := pos[in.jt] - (i + 1)
			if off < 0 {
				return nil, fmt.Errorf("seccomp: internal error: backward jump")
			}
			prog = append(prog, api.SockFilter{Code: in.code, K: uint32(off)})
		case aCond:
			t, f := pos[in.jt]-(i+1), pos[in.jf]-(i+1)
			if t < 0 || f < 0 || t > 255 || f > 255 {
				return nil, fmt.Errorf("seccomp: internal error: jump out of range")
			}
			prog = append(prog, api.SockFilter{Code: in.code, Jt: uint8(t), Jf: uint8(f), K: in.k})
		}
	}
	return prog, nil
}

// group is the rules of one call number, in policy order.
type group struct {
	nr    uint32
	rules []int // indexes into Policy.Rules
	entry label // where the call's rules start, or its action
}

// Compile turns p into a seccomp program for tg's ABI. The program checks
// the architecture, dispatches on the call number through a binary search
// tree, tests each rule's conditions in policy order and returns the
// first matching action, or the default.
func Compile(tg *Target, p *Policy) ([]api.SockFilter, error) {
	if p == nil {
		return nil, &CompileError{-1, "nil policy"}
	}
	byNr := map[uint32]*group{}
	var groups []*group
	for i, r := range p.Rules {
		nr, ok := tg.table.Syscall(r.Syscall)
		if !ok {
			return nil, &CompileError{i, fmt.Sprintf("unknown syscall %q in the %s/%s ABI", r.Syscall, tg.table.OS, tg.table.Arch)}
		}
		if err := tg.checkConds(r.Conds); err != nil {
			return nil, &CompileError{i, err.Error()}
		}
		g := byNr[uint32(nr)]
		if g == nil {
			g = &group{nr: uint32(nr)}
			byNr[uint32(nr)] = g
			groups = append(groups, g)
		}
		if len(g.rules) > 0 {
			if last := g.rules[len(g.rules)-1]; len(p.Rules[last].Conds) == 0 {
				return nil, &CompileError{i, fmt.Sprintf("never applies: rule %d (%s) always decides %s first", last+1, p.Rules[last], r.Syscall)}
			}
		}
		g.rules = append(g.rules, i)
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].nr < groups[j].nr })

	a := &asm{tg: tg}
	acts := map[uint32]label{}
	var actOrder []uint32
	act := func(x Action) (label, error) {
		v, err := tg.ActionValue(x)
		if err != nil {
			return 0, err
		}
		if l, ok := acts[v]; ok {
			return l, nil
		}
		l := a.newLabel()
		acts[v] = l
		actOrder = append(actOrder, v)
		return l, nil
	}
	def, err := act(p.Default)
	if err != nil {
		return nil, &CompileError{-1, "default action: " + err.Error()}
	}
	bad, err := act(p.badArch())
	if err != nil {
		return nil, &CompileError{-1, "bad-architecture action: " + err.Error()}
	}
	for _, g := range groups {
		first := p.Rules[g.rules[0]]
		if len(first.Conds) == 0 {
			if g.entry, err = act(first.Action); err != nil {
				return nil, &CompileError{g.rules[0], err.Error()}
			}
		} else {
			g.entry = a.newLabel()
		}
	}

	// The architecture, then the number.
	archOK := a.newLabel()
	a.load(tg.offArch)
	a.cond(tg.op.jeq, tg.arch, archOK, bad)
	a.mark(archOK)
	a.load(tg.offNr)
	if tg.x32Bit != 0 {
		// Numbers from the x32 bit up are another ABI's, except -1,
		// which a tracer uses to skip a call and which must get the
		// default action (ENOSYS from the kernel) rather than a kill.
		native, high := a.newLabel(), a.newLabel()
		a.cond(tg.op.jge, uint32(tg.x32Bit), high, native)
		a.mark(high)
		a.cond(tg.op.jeq, ^uint32(0), native, bad)
		a.mark(native)
	}
	a.tree(groups, def)

	// The rules of calls with conditions.
	for _, g := range groups {
		if len(p.Rules[g.rules[0]].Conds) == 0 {
			continue
		}
		a.mark(g.entry)
		for _, ri := range g.rules {
			r := p.Rules[ri]
			target, err := act(r.Action)
			if err != nil {
				return nil, &CompileError{ri, err.Error()}
			}
			if len(r.Conds) == 0 {
				a.jump(target)
				break
			}
			next := a.newLabel()
			for ci, c := range r.Conds {
				pass := target
				if ci < len(r.Conds)-1 {
					pass = a.newLabel()
				}
				a.condArg(c, pass, next)
				if ci < len(r.Conds)-1 {
					a.mark(pass)
				}
			}
			a.mark(next)
		}
		if len(p.Rules[g.rules[len(g.rules)-1]].Conds) > 0 {
			a.jump(def)
		}
	}

	// One return per distinct action.
	for _, v := range actOrder {
		a.mark(acts[v])
		a.emit(tg.op.ret, v)
	}
	prog, err := a.assemble()
	if err != nil {
		return nil, err
	}
	if len(prog) > tg.maxInsns {
		return nil, &CompileError{-1, fmt.Sprintf("program of %d instructions, more than BPF_MAXINSNS (%d)", len(prog), tg.maxInsns)}
	}
	return prog, nil
}

// treeLeaf is how many numbers a dispatch leaf compares one by one.
const treeLeaf = 4

// tree dispatches on the number in A: a binary search over the sorted
// groups, ending in short chains of equality tests.
func (a *asm) tree(gs []*group, def label) {
	if len(gs) <= treeLeaf {
		if len(gs) == 0 {
			a.jump(def)
			return
		}
		for i, g := range gs {
			next := def
			if i < len(gs)-1 {
				next = a.newLabel()
			}
			a.cond(a.tg.op.jeq, g.nr, g.entry, next)
			if i < len(gs)-1 {
				a.mark(next)
			}
		}
		return
	}
	mid := len(gs) / 2
	left, right := a.newLabel(), a.newLabel()
	a.cond(a.tg.op.jge, gs[mid].nr, right, left)
	a.mark(left)
	a.tree(gs[:mid], def)
	a.mark(right)
	a.tree(gs[mid:], def)
}

// checkConds validates the conditions of one rule for tg.
func (tg *Target) checkConds(cs []Cond) error {
	for _, c := range cs {
		if c.Arg < 0 || c.Arg > 5 {
			return fmt.Errorf("argument index %d out of range 0..5", c.Arg)
		}
		if c.Op > MaskedAny {
			return fmt.Errorf("unknown comparison %d", c.Op)
		}
		if tg.args32 {
			for _, v := range []uint64{c.Value, c.Mask} {
				if v>>32 != 0 && v>>31 != 1<<33-1 {
					return fmt.Errorf("value %#x does not fit the 32-bit arguments of %s/%s", v, tg.table.OS, tg.table.Arch)
				}
			}
		}
	}
	return nil
}

// condArg emits one comparison of a 64-bit argument as classic BPF sees
// it, two 32-bit words: it jumps to pass when it holds, to fail otherwise.
// On ABIs with 32-bit arguments only the low word is compared.
func (a *asm) condArg(c Cond, pass, fail label) {
	tg := a.tg
	lo, hi := tg.argLo[c.Arg], tg.argHi[c.Arg]
	vlo, vhi := uint32(c.Value), uint32(c.Value>>32)
	mlo, mhi := uint32(c.Mask), uint32(c.Mask>>32)
	wide := !tg.args32
	op := &tg.op
	switch c.Op {
	case EQ, NE:
		t, f := pass, fail
		if c.Op == NE {
			t, f = fail, pass
		}
		if wide {
			l := a.newLabel()
			a.load(hi)
			a.cond(op.jeq, vhi, l, f)
			a.mark(l)
		}
		a.load(lo)
		a.cond(op.jeq, vlo, t, f)
	case GT, GE, LT, LE:
		// LT is !GE and LE is !GT: the same test, outcomes swapped.
		t, f := pass, fail
		if c.Op == LT || c.Op == LE {
			t, f = fail, pass
		}
		last := op.jgt
		if c.Op == GE || c.Op == LT {
			last = op.jge
		}
		if wide {
			l1, l2 := a.newLabel(), a.newLabel()
			a.load(hi)
			a.cond(op.jgt, vhi, t, l1)
			a.mark(l1)
			a.cond(op.jeq, vhi, l2, f)
			a.mark(l2)
		}
		a.load(lo)
		a.cond(last, vlo, t, f)
	case MaskedEQ:
		if wide {
			if mhi == 0 {
				if vhi != 0 {
					a.jump(fail) // (x & 0) can never be non-zero
					return
				}
			} else {
				l := a.newLabel()
				a.load(hi)
				if mhi != ^uint32(0) {
					a.emit(op.and, mhi)
				}
				a.cond(op.jeq, vhi, l, fail)
				a.mark(l)
			}
		}
		if mlo == 0 {
			if vlo == 0 {
				a.jump(pass)
			} else {
				a.jump(fail)
			}
			return
		}
		a.load(lo)
		if mlo != ^uint32(0) {
			a.emit(op.and, mlo)
		}
		a.cond(op.jeq, vlo, pass, fail)
	case MaskedAny:
		hiPart, loPart := wide && mhi != 0, mlo != 0
		if !hiPart && !loPart {
			a.jump(fail)
			return
		}
		if hiPart {
			next := fail
			if loPart {
				next = a.newLabel()
			}
			a.load(hi)
			a.cond(op.jset, mhi, pass, next)
			if !loPart {
				return
			}
			a.mark(next)
		}
		a.load(lo)
		a.cond(op.jset, mlo, pass, fail)
	}
}
