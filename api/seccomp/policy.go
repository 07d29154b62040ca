package seccomp

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/anykernel/anykernel/api"
)

// ActionKind is what a filter tells the kernel to do with a call.
type ActionKind uint8

const (
	// ActAllow lets the call run.
	ActAllow ActionKind = iota
	// ActErrno fails the call with an errno without running it.
	ActErrno
	// ActTrap sends the thread SIGSYS (si_code SYS_SECCOMP, si_errno the
	// action's data). A Go program crashes unless something else handles
	// it.
	ActTrap
	// ActLog lets the call run and logs it (audit log, or the kernel log).
	ActLog
	// ActKillThread ends the calling thread, as if by SIGSYS that cannot
	// be caught; Go programs rarely survive it.
	ActKillThread
	// ActKillProcess ends the whole process with SIGSYS.
	ActKillProcess
	// ActTrace asks a ptrace tracer (PTRACE_O_TRACESECCOMP) to decide;
	// without one the call fails with ENOSYS.
	ActTrace
	// ActNotify asks the supervisor holding the filter's notification
	// descriptor (see Notifier) to decide.
	ActNotify
)

var actionNames = [...]string{"allow", "errno", "trap", "log", "kill_thread", "kill_process", "trace", "notify"}

// String returns the action's word in the text policy format.
func (k ActionKind) String() string {
	if int(k) < len(actionNames) {
		return actionNames[k]
	}
	return "action(" + strconv.Itoa(int(k)) + ")"
}

// Action is an action with its argument: the errno of ActErrno, the
// 16-bit value handed to the signal handler (ActTrap) or to the tracer
// (ActTrace).
type Action struct {
	Kind  ActionKind
	Errno api.Errno // ActErrno
	Data  uint16    // ActTrap, ActTrace
}

// Action values for the common cases.
var (
	Allow       = Action{Kind: ActAllow}
	Log         = Action{Kind: ActLog}
	KillThread  = Action{Kind: ActKillThread}
	KillProcess = Action{Kind: ActKillProcess}
	Notify      = Action{Kind: ActNotify}
)

// Errno returns the action that fails a call with e. Errno(0) skips the
// call and reports success (0) to the caller.
func Errno(e api.Errno) Action { return Action{Kind: ActErrno, Errno: e} }

// Trap returns the action that sends SIGSYS with data in si_errno.
func Trap(data uint16) Action { return Action{Kind: ActTrap, Data: data} }

// Trace returns the action that stops the thread for its ptrace tracer,
// which reads data with PTRACE_GETEVENTMSG.
func Trace(data uint16) Action { return Action{Kind: ActTrace, Data: data} }

// String prints the action in the text policy format: "errno EPERM",
// "trap 3", "allow".
func (a Action) String() string {
	switch a.Kind {
	case ActErrno:
		return "errno " + a.Errno.Name()
	case ActTrap, ActTrace:
		if a.Data != 0 {
			return a.Kind.String() + " " + strconv.Itoa(int(a.Data))
		}
	}
	return a.Kind.String()
}

// Op is an argument comparison. Values are compared as unsigned 64-bit
// numbers (on ABIs with 32-bit arguments, as unsigned 32-bit ones).
type Op uint8

const (
	EQ        Op = iota // arg == Value
	NE                  // arg != Value
	LT                  // arg < Value
	LE                  // arg <= Value
	GT                  // arg > Value
	GE                  // arg >= Value
	MaskedEQ            // arg & Mask == Value
	MaskedAny           // arg & Mask != 0: any of the bits set
)

var opNames = [...]string{"==", "!=", "<", "<=", ">", ">=", "&==", "&"}

// String returns the operator as the text format writes it.
func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// Cond is one comparison of a call argument (0..5).
type Cond struct {
	Arg   int
	Op    Op
	Value uint64
	Mask  uint64 // MaskedEQ, MaskedAny
}

// String prints the condition as the text format writes it.
func (c Cond) String() string {
	switch c.Op {
	case MaskedEQ:
		return fmt.Sprintf("arg%d & %#x == %#x", c.Arg, c.Mask, c.Value)
	case MaskedAny:
		return fmt.Sprintf("arg%d & %#x", c.Arg, c.Mask)
	}
	return fmt.Sprintf("arg%d %s %#x", c.Arg, c.Op, c.Value)
}

// Holds reports whether the condition holds for the call's arguments; it
// is the meaning compiled programs implement. args32 compares only the low
// 32 bits, as on ABIs whose arguments are 32 bits wide.
func (c Cond) Holds(args [6]uint64, args32 bool) bool {
	v, x, m := c.Value, args[c.Arg], c.Mask
	if args32 {
		v, x, m = uint64(uint32(v)), uint64(uint32(x)), uint64(uint32(m))
	}
	switch c.Op {
	case EQ:
		return x == v
	case NE:
		return x != v
	case LT:
		return x < v
	case LE:
		return x <= v
	case GT:
		return x > v
	case GE:
		return x >= v
	case MaskedEQ:
		return x&m == v
	case MaskedAny:
		return x&m != 0
	}
	return false
}

// Rule gives the action for one call when all its conditions hold (no
// conditions: always).
type Rule struct {
	Syscall string // the call's Linux name: "openat", "getppid"
	Action  Action
	Conds   []Cond
}

// String prints the rule as one statement of the text format.
func (r Rule) String() string {
	var b strings.Builder
	b.WriteString(r.Action.String())
	b.WriteByte(' ')
	b.WriteString(r.Syscall)
	for i, c := range r.Conds {
		if i == 0 {
			b.WriteString(" if ")
		} else {
			b.WriteString(" && ")
		}
		b.WriteString(c.String())
	}
	return b.String()
}

// Policy is what a filter does with every call. For a call, the rules
// naming it are tried in order and the first whose conditions hold
// decides; when none does, or no rule names the call, Default decides. A
// call made through another ABI than the target's (checked first, by
// seccomp_data.arch) gets BadArch, KillProcess when BadArch is the zero
// Action... which is Allow, so set it explicitly with NewPolicy or leave
// BadArchSet false to get KillProcess.
type Policy struct {
	Default Action
	Rules   []Rule
	// BadArch is the action for calls of another ABI; used only when
	// BadArchSet, otherwise such calls kill the process.
	BadArch    Action
	BadArchSet bool
}

// NewPolicy returns an empty policy with the given default action.
func NewPolicy(def Action) *Policy { return &Policy{Default: def} }

// Add appends a rule for each call in syscalls; it returns p, to chain.
func (p *Policy) Add(a Action, syscalls ...string) *Policy {
	for _, s := range syscalls {
		p.Rules = append(p.Rules, Rule{Syscall: s, Action: a})
	}
	return p
}

// AddIf appends one rule for call with conditions that must all hold.
func (p *Policy) AddIf(a Action, syscall string, conds ...Cond) *Policy {
	p.Rules = append(p.Rules, Rule{Syscall: syscall, Action: a, Conds: conds})
	return p
}

// badArch returns the action for calls of a foreign ABI.
func (p *Policy) badArch() Action {
	if p.BadArchSet {
		return p.BadArch
	}
	return KillProcess
}

// String prints p in the text format, one statement per line.
func (p *Policy) String() string {
	var b strings.Builder
	b.WriteString("default ")
	b.WriteString(p.Default.String())
	b.WriteByte('\n')
	if p.BadArchSet {
		b.WriteString("badarch ")
		b.WriteString(p.BadArch.String())
		b.WriteByte('\n')
	}
	for _, r := range p.Rules {
		b.WriteString(r.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// UsesNotify reports whether any action of p is ActNotify: installing it
// then gives a notification descriptor.
func (p *Policy) UsesNotify() bool {
	if p.Default.Kind == ActNotify || p.badArch().Kind == ActNotify {
		return true
	}
	for _, r := range p.Rules {
		if r.Action.Kind == ActNotify {
			return true
		}
	}
	return false
}

// Verdict is what a policy means for one call: the action that applies.
// It is computed from the policy directly, without compiling it, and is
// what the compiled program must agree with.
func (p *Policy) Verdict(tg *Target, arch, nr uint32, args [6]uint64) Action {
	if arch != tg.arch {
		return p.badArch()
	}
	if tg.x32Bit != 0 && uint64(nr) >= tg.x32Bit && nr != ^uint32(0) {
		return p.badArch()
	}
	name, ok := tg.byNr[nr]
	if !ok {
		return p.Default
	}
	for _, r := range p.Rules {
		if r.Syscall != name && !tg.sameCall(r.Syscall, nr) {
			continue
		}
		all := true
		for _, c := range r.Conds {
			if !c.Holds(args, tg.args32) {
				all = false
				break
			}
		}
		if all {
			return r.Action
		}
	}
	return p.Default
}

// sameCall reports whether name is call nr (two names may share a number).
func (tg *Target) sameCall(name string, nr uint32) bool {
	n, ok := tg.table.Syscall(name)
	return ok && uint32(n) == nr
}
