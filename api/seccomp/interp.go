package seccomp

import (
	"fmt"
	"strings"

	"github.com/anykernel/anykernel/api"
)

// A classic BPF interpreter for seccomp programs, in pure Go: it checks a
// program as the kernel does when it is installed and runs it on the
// struct seccomp_data of one call, so that a compiled policy can be tested
// on any host and for any ABI.

type opKind struct {
	kind uint8
	op   uint8 // the ALU operation or jump test
	x    bool  // the operand is X rather than k
}

const (
	kLdAbs uint8 = iota + 1
	kLdLen
	kLdxLen
	kLdImm
	kLdxImm
	kLdMem
	kLdxMem
	kSt
	kStx
	kTax
	kTxa
	kRetK
	kRetA
	kJa
	kJmp
	kAlu
)

const (
	jEq uint8 = iota
	jGt
	jGe
	jSet
)

const (
	aAdd uint8 = iota
	aSub
	aMul
	aDiv
	aOr
	aAnd
	aLsh
	aRsh
	aMod
	aXor
	aNeg
)

// Data is the input a filter sees: struct seccomp_data of one call.
type Data struct {
	Nr                 uint32 // the call number in the ABI of Arch
	Arch               uint32 // AUDIT_ARCH_* of the calling ABI
	InstructionPointer uint64
	Args               [6]uint64
}

// Data returns the input for call name with args, as tg's ABI reports it;
// ok is false when the ABI has no such call.
func (tg *Target) Data(name string, args ...uint64) (Data, bool) {
	nr, ok := tg.table.Syscall(name)
	d := Data{Nr: uint32(nr), Arch: tg.arch}
	copy(d.Args[:], args)
	if tg.args32 {
		for i := range d.Args {
			d.Args[i] = uint64(uint32(d.Args[i]))
		}
	}
	return d, ok
}

// bytes lays d out as the ABI's struct seccomp_data.
func (tg *Target) bytes(d Data, b []byte) {
	bo := tg.table.ByteOrder()
	bo.PutUint32(b[tg.offNr:], d.Nr)
	bo.PutUint32(b[tg.offArch:], d.Arch)
	bo.PutUint32(b[tg.offIPLo:], uint32(d.InstructionPointer))
	bo.PutUint32(b[tg.offIPHi:], uint32(d.InstructionPointer>>32))
	for i, a := range d.Args {
		bo.PutUint32(b[tg.argLo[i]:], uint32(a))
		bo.PutUint32(b[tg.argHi[i]:], uint32(a>>32))
	}
}

// Check validates prog as the kernel does before installing it
// (bpf_check_classic and seccomp_check_filter): a length of 1 to
// BPF_MAXINSNS, only the instructions seccomp allows, aligned loads
// inside struct seccomp_data, jumps that stay inside the program, no
// division by a constant zero, and a return at the end. (The kernel also
// rejects reads of scratch memory not written on every path before; Check
// does not, and Run reads such memory as zero.)
func (tg *Target) Check(prog []api.SockFilter) error {
	n := len(prog)
	if n == 0 || n > tg.maxInsns {
		return fmt.Errorf("seccomp: program of %d instructions (want 1..%d)", n, tg.maxInsns)
	}
	for pc, in := range prog {
		o, ok := tg.ops[in.Code]
		if !ok {
			return fmt.Errorf("seccomp: instruction %d: opcode %#04x is not allowed in seccomp filters", pc, in.Code)
		}
		switch o.kind {
		case kLdAbs:
			if in.K >= tg.dataSize || in.K&3 != 0 {
				return fmt.Errorf("seccomp: instruction %d: load at offset %d outside struct seccomp_data or unaligned", pc, in.K)
			}
		case kLdMem, kLdxMem, kSt, kStx:
			if in.K >= tg.memWords {
				return fmt.Errorf("seccomp: instruction %d: scratch word %d out of range", pc, in.K)
			}
		case kAlu:
			if !o.x && (o.op == aDiv || o.op == aMod) && in.K == 0 {
				return fmt.Errorf("seccomp: instruction %d: division by constant zero", pc)
			}
			if !o.x && (o.op == aLsh || o.op == aRsh) && in.K >= 32 {
				return fmt.Errorf("seccomp: instruction %d: shift by %d", pc, in.K)
			}
		case kJa:
			if uint64(in.K) >= uint64(n-pc-1) {
				return fmt.Errorf("seccomp: instruction %d: jump past the end", pc)
			}
		case kJmp:
			if pc+int(in.Jt)+1 >= n || pc+int(in.Jf)+1 >= n {
				return fmt.Errorf("seccomp: instruction %d: jump past the end", pc)
			}
		}
	}
	if k := tg.ops[prog[n-1].Code].kind; k != kRetK && k != kRetA {
		return fmt.Errorf("seccomp: the last instruction is not a return")
	}
	return nil
}

// Prepared is a checked program, decoded once to run many times.
type Prepared struct {
	tg   *Target
	prog []api.SockFilter
	ops  []opKind
}

// Prepare checks prog (see Check) and decodes it for Run.
func (tg *Target) Prepare(prog []api.SockFilter) (*Prepared, error) {
	if err := tg.Check(prog); err != nil {
		return nil, err
	}
	p := &Prepared{tg: tg, prog: append([]api.SockFilter(nil), prog...), ops: make([]opKind, len(prog))}
	for i, in := range prog {
		p.ops[i] = tg.ops[in.Code]
	}
	return p, nil
}

// Run checks prog and runs it on d as the kernel would, returning the
// SECCOMP_RET_* value (ActionOf decodes it). To run one program many
// times, Prepare it once.
func (tg *Target) Run(prog []api.SockFilter, d Data) (uint32, error) {
	p, err := tg.Prepare(prog)
	if err != nil {
		return 0, err
	}
	return p.Run(d), nil
}

// Eval runs prog on d and decodes the result.
func (tg *Target) Eval(prog []api.SockFilter, d Data) (Action, error) {
	v, err := tg.Run(prog, d)
	if err != nil {
		return Action{}, err
	}
	return tg.ActionOf(v), nil
}

// Eval runs the program on d and decodes the result.
func (p *Prepared) Eval(d Data) Action { return p.tg.ActionOf(p.Run(d)) }

// Limits of the interpreter's scratch space; newTarget refuses a table
// beyond them.
const (
	maxDataSize = 256
	maxMemWords = 64
)

// Run runs the program on d as the kernel would and returns the
// SECCOMP_RET_* value.
func (p *Prepared) Run(d Data) uint32 {
	tg := p.tg
	var buf [maxDataSize]byte
	tg.bytes(d, buf[:tg.dataSize])
	bo := tg.table.ByteOrder()
	var A, X uint32
	var M [maxMemWords]uint32
	for pc := 0; pc < len(p.prog); pc++ {
		in := p.prog[pc]
		o := p.ops[pc]
		switch o.kind {
		case kLdAbs:
			A = bo.Uint32(buf[in.K:])
		case kLdLen:
			A = tg.dataSize
		case kLdxLen:
			X = tg.dataSize
		case kLdImm:
			A = in.K
		case kLdxImm:
			X = in.K
		case kLdMem:
			A = M[in.K]
		case kLdxMem:
			X = M[in.K]
		case kSt:
			M[in.K] = A
		case kStx:
			M[in.K] = X
		case kTax:
			X = A
		case kTxa:
			A = X
		case kRetK:
			return in.K
		case kRetA:
			return A
		case kJa:
			pc += int(in.K)
		case kJmp:
			v := in.K
			if o.x {
				v = X
			}
			var t bool
			switch o.op {
			case jEq:
				t = A == v
			case jGt:
				t = A > v
			case jGe:
				t = A >= v
			case jSet:
				t = A&v != 0
			}
			if t {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case kAlu:
			v := in.K
			if o.x {
				v = X
			}
			switch o.op {
			case aAdd:
				A += v
			case aSub:
				A -= v
			case aMul:
				A *= v
			case aDiv:
				if v == 0 {
					return 0 // the kernel's filter returns 0
				}
				A /= v
			case aMod:
				if v == 0 {
					return 0
				}
				A %= v
			case aOr:
				A |= v
			case aAnd:
				A &= v
			case aXor:
				A ^= v
			case aLsh:
				A <<= v & 31
			case aRsh:
				A >>= v & 31
			case aNeg:
				A = -A
			}
		}
	}
	return 0 // unreachable: Check wants a return at the end
}

// Disassemble prints prog one instruction a line, in the style of the
// kernel's bpf_dbg ("ld [0]", "jeq #0xc000003e, 1, 0"), with the loads
// named after seccomp_data's fields and the returns decoded.
func (tg *Target) Disassemble(prog []api.SockFilter) string {
	var b strings.Builder
	for pc, in := range prog {
		fmt.Fprintf(&b, "%4d: ", pc)
		o, ok := tg.ops[in.Code]
		if !ok {
			fmt.Fprintf(&b, "??? code=%#04x jt=%d jf=%d k=%#x\n", in.Code, in.Jt, in.Jf, in.K)
			continue
		}
		src := fmt.Sprintf("#%#x", in.K)
		if o.x {
			src = "x"
		}
		switch o.kind {
		case kLdAbs:
			fmt.Fprintf(&b, "ld [%d]\t; %s", in.K, tg.fieldName(in.K))
		case kLdLen:
			b.WriteString("ld #len")
		case kLdxLen:
			b.WriteString("ldx #len")
		case kLdImm:
			fmt.Fprintf(&b, "ld #%#x", in.K)
		case kLdxImm:
			fmt.Fprintf(&b, "ldx #%#x", in.K)
		case kLdMem:
			fmt.Fprintf(&b, "ld M[%d]", in.K)
		case kLdxMem:
			fmt.Fprintf(&b, "ldx M[%d]", in.K)
		case kSt:
			fmt.Fprintf(&b, "st M[%d]", in.K)
		case kStx:
			fmt.Fprintf(&b, "stx M[%d]", in.K)
		case kTax:
			b.WriteString("tax")
		case kTxa:
			b.WriteString("txa")
		case kRetK:
			fmt.Fprintf(&b, "ret #%#x\t; %s", in.K, tg.ActionOf(in.K))
		case kRetA:
			b.WriteString("ret a")
		case kJa:
			fmt.Fprintf(&b, "ja %d\t; -> %d", in.K, pc+1+int(in.K))
		case kJmp:
			name := [...]string{"jeq", "jgt", "jge", "jset"}[o.op]
			fmt.Fprintf(&b, "%s %s, %d, %d\t; -> %d, %d", name, src, in.Jt, in.Jf, pc+1+int(in.Jt), pc+1+int(in.Jf))
			if !o.x && o.op != jSet && in.K == tg.arch {
				b.WriteString(" (" + tg.archName + ")")
			}
		case kAlu:
			name := [...]string{"add", "sub", "mul", "div", "or", "and", "lsh", "rsh", "mod", "xor", "neg"}[o.op]
			if o.op == aNeg {
				b.WriteString(name)
			} else {
				fmt.Fprintf(&b, "%s %s", name, src)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// fieldName names the seccomp_data word at off.
func (tg *Target) fieldName(off uint32) string {
	switch off {
	case tg.offNr:
		return "nr"
	case tg.offArch:
		return "arch"
	case tg.offIPLo:
		return "instruction_pointer (low)"
	case tg.offIPHi:
		return "instruction_pointer (high)"
	}
	for i := range 6 {
		if off == tg.argLo[i] {
			return fmt.Sprintf("args[%d] (low)", i)
		}
		if off == tg.argHi[i] {
			return fmt.Sprintf("args[%d] (high)", i)
		}
	}
	return "?"
}
