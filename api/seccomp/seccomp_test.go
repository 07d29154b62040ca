package seccomp

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/anykernel/anykernel/abi"
	"github.com/anykernel/anykernel/abi/all"
	"github.com/anykernel/anykernel/api"
)

// linuxTargets returns a Target for every Linux table.
func linuxTargets(t *testing.T) []*Target {
	t.Helper()
	var out []*Target
	for _, tb := range all.Tables {
		if tb.OS != "linux" {
			continue
		}
		tg, err := TargetFor(tb)
		if errors.Is(err, api.ENOSYS) && tb.Arch != "amd64" {
			t.Logf("skipping %s/%s: %v", tb.OS, tb.Arch, err)
			continue
		}
		if err != nil {
			t.Fatalf("%s/%s: %v", tb.OS, tb.Arch, err)
		}
		out = append(out, tg)
	}
	if len(out) == 0 {
		t.Fatal("no Linux tables")
	}
	return out
}

func amd64(t *testing.T) *Target {
	t.Helper()
	for _, tb := range all.Tables {
		if tb.OS == "linux" && tb.Arch == "amd64" {
			tg, err := TargetFor(tb)
			if err != nil {
				t.Fatal(err)
			}
			return tg
		}
	}
	t.Fatal("no linux/amd64 table")
	return nil
}

// agree compiles p for tg and compares the program's verdict with the
// policy's on every input.
func agree(t *testing.T, tg *Target, p *Policy, inputs []Data) []api.SockFilter {
	t.Helper()
	prog, err := Compile(tg, p)
	if err != nil {
		t.Fatalf("%s: compile: %v\npolicy:\n%s", tg.table.Arch, err, p)
	}
	pp, err := tg.Prepare(prog)
	if err != nil {
		t.Fatalf("%s: check: %v\n%s", tg.table.Arch, err, tg.Disassemble(prog))
	}
	for _, d := range inputs {
		got := pp.Eval(d)
		want := p.Verdict(tg, d.Arch, d.Nr, d.Args)
		if got != want {
			t.Fatalf("%s: %s(%#x) arch %#x: program says %v, policy means %v\npolicy:\n%s\nprogram:\n%s",
				tg.table.Arch, tg.SyscallName(d.Nr), d.Args, d.Arch, got, want, p, tg.Disassemble(prog))
		}
	}
	return prog
}

func TestTargetsResolve(t *testing.T) {
	for _, tg := range linuxTargets(t) {
		v, name := tg.Arch()
		if v == 0 || !strings.HasPrefix(name, "AUDIT_ARCH_") {
			t.Errorf("%s: arch %#x %q", tg.table.Arch, v, name)
		}
		if _, ok := tg.Syscall("read"); !ok {
			t.Errorf("%s: no read", tg.table.Arch)
		}
	}
	for _, tb := range all.Tables {
		if tb.OS == "linux" {
			continue
		}
		_, err := TargetFor(tb)
		if !errors.Is(err, api.ENOSYS) {
			t.Errorf("%s/%s: %v, want ENOSYS", tb.OS, tb.Arch, err)
		}
	}
}

func TestBasicVerdicts(t *testing.T) {
	tg := amd64(t)
	p := NewPolicy(Errno(api.EPERM)).
		Add(Allow, "read", "write", "exit_group").
		Add(KillProcess, "ptrace").
		AddIf(Errno(api.EACCES), "openat", Cond{Arg: 2, Op: MaskedAny, Mask: uint64(tg.mustConst(t, "O_CREAT"))}).
		Add(Allow, "openat")
	prog := agree(t, tg, p, nil)
	at := func(name string, args ...uint64) Action {
		d, ok := tg.Data(name, args...)
		if !ok {
			t.Fatalf("no %s", name)
		}
		a, err := tg.Eval(prog, d)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	for _, c := range []struct {
		got, want Action
		what      string
	}{
		{at("read", 0, 0, 0), Allow, "read"},
		{at("ptrace"), KillProcess, "ptrace"},
		{at("getppid"), Errno(api.EPERM), "default"},
		{at("openat", 0, 0, 0x42), Errno(api.EACCES), "openat O_CREAT"},
		{at("openat", 0, 0, 0), Allow, "openat read-only"},
	} {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
		}
	}
	// Another ABI's call is killed, an x32 one too, but -1 is not.
	d, _ := tg.Data("read")
	d.Arch ^= 1
	if a, _ := tg.Eval(prog, d); a != KillProcess {
		t.Errorf("foreign arch: %v", a)
	}
	d, _ = tg.Data("read")
	d.Nr |= uint32(tg.x32Bit)
	if a, _ := tg.Eval(prog, d); a != KillProcess {
		t.Errorf("x32 read: %v", a)
	}
	d.Nr = ^uint32(0)
	if a, _ := tg.Eval(prog, d); a != Errno(api.EPERM) {
		t.Errorf("nr -1: %v, want the default", a)
	}
	dis := tg.Disassemble(prog)
	for _, w := range []string{"ld [4]", "AUDIT_ARCH_X86_64", "ld [0]", "errno EACCES", "kill_process", "args[2] (low)"} {
		if !strings.Contains(dis, w) {
			t.Errorf("disassembly lacks %q:\n%s", w, dis)
		}
	}
}

func (tg *Target) mustConst(t *testing.T, name string) uint64 {
	t.Helper()
	v, ok := tg.table.Const(name)
	if !ok {
		t.Fatalf("%s: no %s", tg.table.Arch, name)
	}
	return v
}

// TestSplit64 checks the halves: values that differ only in the high
// word, or only in the low one, must be told apart by every comparison.
func TestSplit64(t *testing.T) {
	tg := amd64(t)
	const v = 0x1_0000_0005
	values := []uint64{0, 4, 5, 6, v - 1, v, v + 1, 0x5, 0x2_0000_0005, 0x0_ffff_ffff, 0x1_0000_0000,
		0xffff_ffff_0000_0005, ^uint64(0), 1 << 63}
	for _, op := range []Op{EQ, NE, LT, LE, GT, GE, MaskedEQ, MaskedAny} {
		for arg := range 6 {
			c := Cond{Arg: arg, Op: op, Value: v, Mask: 0x1_0000_000f}
			if op == MaskedAny {
				c.Mask = 0x1_0000_0000
			}
			p := NewPolicy(Allow).AddIf(Errno(api.EDOM), "splice", c)
			var in []Data
			for _, x := range values {
				var args [6]uint64
				args[arg] = x
				d, _ := tg.Data("splice", args[:]...)
				in = append(in, d)
			}
			prog := agree(t, tg, p, in)
			// Spot-check the meaning, not just the agreement.
			d, _ := tg.Data("splice")
			d.Args[arg] = 5
			got, _ := tg.Eval(prog, d)
			hold := c.Holds(d.Args, false)
			if (got == Errno(api.EDOM)) != hold {
				t.Errorf("%v with arg%d=5: %v", c, arg, got)
			}
			if op == EQ && hold {
				t.Errorf("arg == %#x holds for 5: the high word was not compared", uint64(v))
			}
		}
	}
}

// TestArgs32 checks ABIs with 32-bit arguments: only the low word counts,
// and values must fit.
func TestArgs32(t *testing.T) {
	for _, tg := range linuxTargets(t) {
		if !tg.args32 {
			continue
		}
		p := NewPolicy(Allow).AddIf(Errno(api.EDOM), "close", Cond{Arg: 0, Op: EQ, Value: ^uint64(0)}) // -1
		prog := agree(t, tg, p, nil)
		d, _ := tg.Data("close", 0xffff_ffff)
		if a, _ := tg.Eval(prog, d); a != Errno(api.EDOM) {
			t.Errorf("%s: close(-1): %v", tg.table.Arch, a)
		}
		_, err := Compile(tg, NewPolicy(Allow).AddIf(Allow, "close", Cond{Arg: 0, Op: EQ, Value: 1 << 40}))
		if err == nil {
			t.Errorf("%s: a 41-bit value compiled for 32-bit arguments", tg.table.Arch)
		}
	}
}

// TestFarJumps makes policies big enough that the 8-bit jump offsets of
// classic BPF cannot reach, so the compiler must insert trampolines.
func TestFarJumps(t *testing.T) {
	for _, tg := range linuxTargets(t) {
		names := tg.Syscalls()
		p := NewPolicy(KillProcess)
		seen := map[uint32]bool{}
		for i, n := range names {
			nr, _ := tg.Syscall(n)
			if seen[nr] {
				continue // another name of the same call
			}
			seen[nr] = true
			if i%3 == 0 {
				v := uint64(i) << 33
				if tg.args32 {
					v = uint64(i) << 20
				}
				p.AddIf(Errno(api.EDOM), n, Cond{Arg: i % 6, Op: GT, Value: v}, Cond{Arg: (i + 1) % 6, Op: NE, Value: 7})
				p.AddIf(Trap(uint16(i)), n, Cond{Arg: 0, Op: MaskedEQ, Mask: 0xff, Value: uint64(i & 0xff)})
			}
			p.Add(Allow, n)
		}
		rng := rand.New(rand.NewPCG(1, uint64(len(names))))
		var in []Data
		for range 1500 {
			d := Data{Nr: uint32(tg.table.Syscalls[rng.IntN(len(tg.table.Syscalls))].Nr), Arch: tg.arch}
			for a := range d.Args {
				d.Args[a] = randArg(rng, tg)
			}
			in = append(in, d)
		}
		prog := agree(t, tg, p, in)
		far := false
		for _, ins := range prog {
			if ins.Code == tg.op.ja && ins.K > 255 {
				far = true
			}
		}
		if !far {
			t.Errorf("%s: %d instructions and no long jump: the test does not test trampolines", tg.table.Arch, len(prog))
		}
	}
}

// TestPolicyTooBig checks the BPF_MAXINSNS limit is reported.
func TestPolicyTooBig(t *testing.T) {
	tg := amd64(t)
	p := NewPolicy(Allow)
	for i := range 2000 {
		p.AddIf(Errno(api.EDOM), "read", Cond{Arg: 0, Op: EQ, Value: uint64(i)<<32 | 1})
	}
	_, err := Compile(tg, p)
	var ce *CompileError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "BPF_MAXINSNS") {
		t.Fatalf("got %v", err)
	}
}

func TestCompileErrors(t *testing.T) {
	tg := amd64(t)
	for _, c := range []struct {
		p    *Policy
		want string
	}{
		{NewPolicy(Allow).Add(Allow, "opnat"), `unknown syscall "opnat"`},
		{NewPolicy(Allow).AddIf(Allow, "read", Cond{Arg: 6}), "argument index 6"},
		{NewPolicy(Allow).Add(Allow, "read").Add(Errno(api.EPERM), "read"), "never applies"},
		{NewPolicy(Errno(api.Errno(5000))), "errno"},
		{nil, "nil policy"},
	} {
		_, err := Compile(tg, c.p)
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, api.EINVAL) {
			t.Errorf("got %v, want an EINVAL error with %q", err, c.want)
		}
	}
}

// randArg draws argument values that often sit on the edges the
// comparisons care about.
func randArg(rng *rand.Rand, tg *Target) uint64 {
	var v uint64
	switch rng.IntN(6) {
	case 0:
		v = uint64(rng.IntN(8))
	case 1:
		v = uint64(rng.IntN(8)) << 32
	case 2:
		v = uint64(rng.IntN(4))<<32 | uint64(rng.IntN(8))
	case 3:
		v = ^uint64(rng.IntN(4))
	case 4:
		v = 1<<32 - uint64(rng.IntN(3))
	default:
		v = rng.Uint64()
	}
	if tg.args32 {
		v = uint64(uint32(v))
	}
	return v
}

// randPolicy builds a policy over a few calls with random rules.
func randPolicy(rng *rand.Rand, tg *Target, calls []string) *Policy {
	acts := []Action{Allow, Log, KillThread, KillProcess, Notify, Errno(api.EPERM), Errno(api.EDOM), Trap(7), Trace(9)}
	p := NewPolicy(acts[rng.IntN(len(acts))])
	for range rng.IntN(12) {
		name := calls[rng.IntN(len(calls))]
		var conds []Cond
		for range rng.IntN(4) {
			c := Cond{Arg: rng.IntN(6), Op: Op(rng.IntN(int(MaskedAny) + 1)), Value: randArg(rng, tg), Mask: randArg(rng, tg)}
			if c.Op == MaskedEQ && rng.IntN(2) == 0 {
				c.Value &= c.Mask // satisfiable more often
			}
			conds = append(conds, c)
		}
		// An unconditional rule may only be the last one for its call.
		last := false
		for _, r := range p.Rules {
			if r.Syscall == name && len(r.Conds) == 0 {
				last = true
			}
		}
		if last {
			continue
		}
		p.AddIf(acts[rng.IntN(len(acts))], name, conds...)
	}
	return p
}

// TestProperty compares, for many random policies on every Linux ABI,
// the interpreter's verdict on the compiled program with the policy's own
// meaning, on inputs drawn near the policy's constants.
func TestProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 7))
	for _, tg := range linuxTargets(t) {
		var calls []string
		for _, n := range []string{"read", "write", "openat", "close", "mmap", "splice", "getppid", "ioctl", "kill"} {
			if _, ok := tg.Syscall(n); ok {
				calls = append(calls, n)
			}
		}
		for range 150 {
			p := randPolicy(rng, tg, calls)
			var in []Data
			for range 60 {
				d, _ := tg.Data(calls[rng.IntN(len(calls))])
				for a := range d.Args {
					d.Args[a] = randArg(rng, tg)
				}
				// Sometimes hit a rule's values exactly.
				if len(p.Rules) > 0 {
					r := p.Rules[rng.IntN(len(p.Rules))]
					nr, _ := tg.Syscall(r.Syscall)
					d.Nr = nr
					for _, c := range r.Conds {
						if rng.IntN(2) == 0 {
							d.Args[c.Arg] = c.Value
						}
					}
				}
				switch rng.IntN(20) {
				case 0:
					d.Arch++
				case 1:
					d.Nr = uint32(rng.IntN(1 << 12))
				}
				in = append(in, d)
			}
			agree(t, tg, p, in)
		}
	}
}

// FuzzCompile lets go test -fuzz look for disagreements.
func FuzzCompile(f *testing.F) {
	f.Add(uint64(1), uint64(2), uint64(3))
	f.Fuzz(func(t *testing.T, seed, a, b uint64) {
		tg := amd64(t)
		rng := rand.New(rand.NewPCG(seed, a))
		p := randPolicy(rng, tg, []string{"read", "write", "splice", "openat"})
		d, _ := tg.Data("splice", a, b, a^b, a+b, a<<32, b>>32)
		agree(t, tg, p, []Data{d})
	})
}

func TestCheckRejects(t *testing.T) {
	tg := amd64(t)
	ret := api.SockFilter{Code: tg.op.ret, K: tg.ret.allow}
	for _, c := range []struct {
		prog []api.SockFilter
		want string
	}{
		{nil, "program of 0"},
		{[]api.SockFilter{{Code: tg.op.ldAbs, K: 2}, ret}, "unaligned"},
		{[]api.SockFilter{{Code: tg.op.ldAbs, K: 64}, ret}, "outside"},
		{[]api.SockFilter{{Code: tg.op.jeq, Jt: 5}, ret}, "past the end"},
		{[]api.SockFilter{{Code: 0xffff}, ret}, "not allowed"},
		{[]api.SockFilter{{Code: tg.op.ldAbs}}, "not a return"},
	} {
		err := tg.Check(c.prog)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}

func TestParse(t *testing.T) {
	tg := amd64(t)
	src := `# a sandbox
default errno EPERM
allow read write, close; allow exit_group
errno EACCES openat if arg2 & O_CREAT
errno 13 open if arg1 & O_ACCMODE == O_WRONLY && arg1 != 0x1_0000
trap 3 getppid
trace kill if arg1 >= 32 and arg1 <= 64
kill ptrace ; log uname ; notify mkdirat if arg0 == AT_FDCWD
badarch errno ENOSYS
errno EWOULDBLOCK splice if arg4 < -1 && arg5 > 0b101
`
	p, err := Parse(tg, src)
	if err != nil {
		t.Fatal(err)
	}
	if p.Default != Errno(api.EPERM) || !p.BadArchSet || p.BadArch != Errno(api.ENOSYS) {
		t.Errorf("default %v badarch %v", p.Default, p.BadArch)
	}
	at := map[string]Rule{}
	for _, r := range p.Rules {
		at[r.Syscall] = r
	}
	if len(p.Rules) != 12 {
		t.Errorf("%d rules:\n%s", len(p.Rules), p)
	}
	creat := tg.mustConst(t, "O_CREAT")
	if r := at["openat"]; r.Action != Errno(api.EACCES) || len(r.Conds) != 1 || r.Conds[0] != (Cond{Arg: 2, Op: MaskedAny, Mask: creat}) {
		t.Errorf("openat: %v", r)
	}
	if r := at["open"]; len(r.Conds) != 2 || r.Conds[0].Op != MaskedEQ || r.Conds[0].Mask != tg.mustConst(t, "O_ACCMODE") ||
		r.Conds[0].Value != tg.mustConst(t, "O_WRONLY") || r.Conds[1] != (Cond{Arg: 1, Op: NE, Value: 0x10000}) || r.Action != Errno(api.EACCES) {
		t.Errorf("open: %v", r)
	}
	if r := at["getppid"]; r.Action != Trap(3) {
		t.Errorf("getppid: %v", r)
	}
	if r := at["kill"]; r.Action != Trace(0) || len(r.Conds) != 2 || r.Conds[1].Op != LE {
		t.Errorf("kill: %v", r)
	}
	if r := at["mkdirat"]; r.Action != Notify || r.Conds[0].Value != tg.mustConst(t, "AT_FDCWD") {
		t.Errorf("mkdirat: %v", r)
	}
	if r := at["splice"]; r.Action != Errno(api.EAGAIN) || r.Conds[0].Value != ^uint64(0) || r.Conds[1].Value != 5 {
		t.Errorf("splice: %v", r)
	}
	// The printed form parses back to the same policy.
	p2, err := Parse(tg, p.String())
	if err != nil {
		t.Fatalf("reparse: %v\n%s", err, p)
	}
	if p.String() != p2.String() {
		t.Errorf("round trip:\n%s\n%s", p, p2)
	}
	agree(t, tg, p, nil)
}

func TestParseErrors(t *testing.T) {
	tg := amd64(t)
	for _, c := range []struct {
		src, token, msg string
		line, col       int
	}{
		{"default errno EPERM; allow read opnat", "opnat", "unknown syscall", 1, 33},
		{"default errno EPRM", "EPRM", "unknown errno", 1, 15},
		{"default deny", "deny", "unknown action", 1, 9},
		{"default allow\nerrno EACCES openat if arg7 == 1", "arg7", "expected an argument", 2, 24},
		{"default allow\nerrno EACCES openat if arg2 ~ 1", "~", "unexpected character", 2, 29},
		{"default allow\nerrno EACCES openat if arg2 & O_CRAET", "O_CRAET", "unknown constant", 2, 31},
		{"default allow\nerrno EACCES openat if arg2 =< 1", "=", "unexpected character", 2, 29},
		{"default allow\nallow", "", "expected a syscall name", 2, 6},
		{"allow read", "", "no default", 1, 1},
		{"default allow; default kill", "default", "second default", 1, 16},
		{"default allow allow", "allow", "expected end of statement", 1, 15},
		{"default allow\ntrap 70000 read", "70000", "data must be", 2, 6},
		{"default allow\nerrno EPERM read if arg1 == 99999999999999999999", "99999999999999999999", "bad number", 2, 29},
	} {
		_, err := Parse(tg, c.src)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%q: got %v, want a *ParseError", c.src, err)
			continue
		}
		if pe.Token != c.token || !strings.Contains(pe.Msg, c.msg) || pe.Line != c.line || pe.Col != c.col {
			t.Errorf("%q: got %d:%d %q %q (%v), want %d:%d %q %q", c.src, pe.Line, pe.Col, pe.Token, pe.Msg, err, c.line, c.col, c.token, c.msg)
		}
		if !errors.Is(err, api.EINVAL) {
			t.Errorf("%q: not EINVAL", c.src)
		}
	}
}

func ExampleParse() {
	var tb *abi.Table
	for _, x := range all.Tables {
		if x.OS == "linux" && x.Arch == "amd64" {
			tb = x
		}
	}
	tg, _ := TargetFor(tb)
	p, err := Parse(tg, "default errno EPERM; allow read write exit_group; errno EACCES openat if arg2 & O_CREAT")
	if err != nil {
		fmt.Println(err)
		return
	}
	prog, _ := Compile(tg, p)
	d, _ := tg.Data("openat", 0, 0, 0o100)
	a, _ := tg.Eval(prog, d)
	fmt.Println(a)
	d, _ = tg.Data("getpid")
	a, _ = tg.Eval(prog, d)
	fmt.Println(a)
	// Output:
	// errno EACCES
	// errno EPERM
}
