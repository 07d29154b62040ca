// Package seccomp compiles readable system-call policies into the classic
// BPF programs of Linux's seccomp filter mode, installs them, and serves
// the user-notification descriptor of filters that hand decisions to a
// supervisor process.
//
// A Policy says what happens to each system call: a default action, then
// rules per call (by its Linux name, resolved through the kernel's ABI
// table), each optionally guarded by comparisons on the call's six
// arguments. Policies can also be written as text:
//
//	default errno EPERM
//	allow read write close exit_group
//	errno EACCES openat if arg2 & O_CREAT
//	kill_process ptrace
//
// Compile turns a policy into a program for one ABI: it checks the
// architecture first (a call made through another ABI of the same kernel,
// such as a 32-bit one on a 64-bit kernel, would otherwise be judged by the
// wrong numbers), and splits 64-bit argument values into the 32-bit halves
// classic BPF sees. Every number in the program comes from the ABI table:
// opcodes, return actions, errnos, syscall numbers and the layout of
// struct seccomp_data. Run interprets a program in pure Go, so a policy's
// behaviour can be checked on any host.
package seccomp

import (
	"fmt"
	"sort"
	"strings"

	"github.com/anykernel/anykernel/abi"
	"github.com/anykernel/anykernel/api"
)

// Target is one ABI's seccomp vocabulary: the numbers a compiled program
// uses, resolved once from an ABI table.
type Target struct {
	table    *abi.Table
	archName string // "AUDIT_ARCH_X86_64"
	arch     uint32
	errno    func(api.Errno) (uintptr, bool)
	byNr     map[uint32]string // syscall names by number, for messages

	// Offsets into struct seccomp_data of each 32-bit word a program can
	// load: the call number, the architecture, and both halves of each
	// argument and of the instruction pointer.
	offNr, offArch     uint32
	offIPLo, offIPHi   uint32
	argLo, argHi       [6]uint32
	dataSize           uint32
	args32             bool   // the ABI passes 32-bit arguments (zero-extended)
	x32Bit             uint64 // __X32_SYSCALL_BIT on x86-64, 0 elsewhere
	maxInsns           int
	memWords           uint32 // BPF_MEMWORDS, the scratch words of classic BPF
	ret                retCodes
	op                 opcodes
	ops                map[uint16]opKind // full opcode -> operation, for Run
	actionMask, dataMk uint32
}

// retCodes are the SECCOMP_RET_* action values.
type retCodes struct {
	killProcess, killThread, trap, errno, userNotif, trace, log, allow uint32
}

// opcodes are the classic BPF instructions the compiler emits.
type opcodes struct {
	ldAbs, jeq, jgt, jge, jset, ja, ret, and uint16
}

// auditArch maps a table's GOARCH spelling to the AUDIT_ARCH_* constant
// the kernel reports for that ABI (seccomp_data.arch).
var auditArch = map[string]string{
	"amd64": "AUDIT_ARCH_X86_64", "386": "AUDIT_ARCH_I386",
	"arm64": "AUDIT_ARCH_AARCH64", "riscv64": "AUDIT_ARCH_RISCV64",
	"ppc64le": "AUDIT_ARCH_PPC64LE", "ppc64": "AUDIT_ARCH_PPC64",
	"s390x": "AUDIT_ARCH_S390X", "loong64": "AUDIT_ARCH_LOONGARCH64",
	"mips": "AUDIT_ARCH_MIPS", "mipsle": "AUDIT_ARCH_MIPSEL",
	"mips64": "AUDIT_ARCH_MIPS64", "mips64le": "AUDIT_ARCH_MIPSEL64",
}

// NewTarget resolves the seccomp vocabulary of k's ABI; ERRNO actions
// translate api's errnos with k.ErrnoToABI. A kernel whose ABI has no
// seccomp (NetBSD) gives an error wrapping api.ENOSYS.
func NewTarget(k *api.Kernel) (*Target, error) {
	return newTarget(k.ABI(), k.ErrnoToABI)
}

// TargetFor is NewTarget for an ABI table alone, to compile (and Run)
// programs for another machine; errnos translate by name through the
// table.
func TargetFor(t *abi.Table) (*Target, error) {
	return newTarget(t, func(e api.Errno) (uintptr, bool) {
		x, ok := t.ErrnoByName(e.Name())
		return x.Nr, ok
	})
}

type missingError struct {
	table *abi.Table
	what  string
}

func (e *missingError) Error() string {
	return fmt.Sprintf("seccomp: the %s/%s ABI table lacks %s", e.table.OS, e.table.Arch, e.what)
}

func (e *missingError) Unwrap() error { return api.ENOSYS }

func newTarget(t *abi.Table, errno func(api.Errno) (uintptr, bool)) (*Target, error) {
	if t.OS != "linux" {
		return nil, &missingError{t, "seccomp (a Linux interface)"}
	}
	tg := &Target{table: t, errno: errno, byNr: map[uint32]string{}, args32: t.PtrSize == 4}
	var missing []string
	c := func(name string) uint32 {
		v, ok := t.Const(name)
		if !ok {
			missing = append(missing, name)
		}
		return uint32(v)
	}
	opt := func(name string) (uint32, bool) {
		v, ok := t.Const(name)
		return uint32(v), ok
	}
	tg.resolve(c, opt)
	name := auditArch[t.Arch]
	if t.Arch == "arm" {
		name = "AUDIT_ARCH_ARM"
		if t.BigEndian {
			name = "AUDIT_ARCH_ARMEB"
		}
	}
	if name == "" {
		missing = append(missing, "an AUDIT_ARCH_* constant for arch "+t.Arch)
	} else {
		tg.archName, tg.arch = name, c(name)
	}
	if t.Arch == "amd64" {
		// x32 calls arrive with AUDIT_ARCH_X86_64 and this bit in the
		// number; a filter that did not reject them would let the x32
		// forms of denied calls through. A table without the constant
		// gets a stricter bound: every number above the next power of
		// two beyond the table's largest is rejected (so a call newer
		// than the table, that high, would be refused too).
		if v, ok := t.Const("__X32_SYSCALL_BIT"); ok {
			tg.x32Bit = v
		} else {
			var top uintptr
			for _, s := range t.Syscalls {
				top = max(top, s.Nr)
			}
			tg.x32Bit = 1
			for tg.x32Bit <= uint64(top) {
				tg.x32Bit <<= 1
			}
		}
	}
	if len(missing) > 0 {
		return nil, &missingError{t, strings.Join(missing, ", ")}
	}
	if err := tg.layout(); err != nil {
		return nil, err
	}
	for _, s := range t.Syscalls {
		if _, dup := tg.byNr[uint32(s.Nr)]; !dup {
			tg.byNr[uint32(s.Nr)] = s.Name
		}
	}
	return tg, nil
}

// resolve reads the opcodes and return actions.
func (tg *Target) resolve(c func(string) uint32, opt func(string) (uint32, bool)) {
	r := &tg.ret
	r.killProcess = c("SECCOMP_RET_KILL_PROCESS")
	r.killThread = c("SECCOMP_RET_KILL_THREAD")
	r.trap = c("SECCOMP_RET_TRAP")
	r.errno = c("SECCOMP_RET_ERRNO")
	r.userNotif = c("SECCOMP_RET_USER_NOTIF")
	r.trace = c("SECCOMP_RET_TRACE")
	r.log = c("SECCOMP_RET_LOG")
	r.allow = c("SECCOMP_RET_ALLOW")
	tg.actionMask = c("SECCOMP_RET_ACTION_FULL")
	tg.dataMk = c("SECCOMP_RET_DATA")
	tg.maxInsns = int(c("BPF_MAXINSNS"))
	tg.memWords = c("BPF_MEMWORDS")

	ld, ldx, st, stx := c("BPF_LD"), c("BPF_LDX"), c("BPF_ST"), c("BPF_STX")
	alu, jmp, ret, misc := c("BPF_ALU"), c("BPF_JMP"), c("BPF_RET"), c("BPF_MISC")
	w, abs, imm, mem, ln := c("BPF_W"), c("BPF_ABS"), c("BPF_IMM"), c("BPF_MEM"), c("BPF_LEN")
	k, x, a := c("BPF_K"), c("BPF_X"), c("BPF_A")
	tax, txa := c("BPF_TAX"), c("BPF_TXA")
	ja, jeq, jgt, jge, jset := c("BPF_JA"), c("BPF_JEQ"), c("BPF_JGT"), c("BPF_JGE"), c("BPF_JSET")
	and := c("BPF_AND")
	o := &tg.op
	o.ldAbs = uint16(ld | w | abs)
	o.jeq, o.jgt, o.jge, o.jset = uint16(jmp|jeq|k), uint16(jmp|jgt|k), uint16(jmp|jge|k), uint16(jmp|jset|k)
	o.ja = uint16(jmp | ja)
	o.ret = uint16(ret | k)
	o.and = uint16(alu | and | k)

	// The instructions seccomp accepts (the kernel's
	// seccomp_check_filter), by full opcode, for Run.
	m := map[uint16]opKind{
		uint16(ld | w | abs): {kind: kLdAbs},
		uint16(ld | w | ln):  {kind: kLdLen},
		uint16(ldx | w | ln): {kind: kLdxLen},
		uint16(ld | imm):     {kind: kLdImm},
		uint16(ldx | imm):    {kind: kLdxImm},
		uint16(ld | mem):     {kind: kLdMem},
		uint16(ldx | mem):    {kind: kLdxMem},
		uint16(st):           {kind: kSt},
		uint16(stx):          {kind: kStx},
		uint16(misc | tax):   {kind: kTax},
		uint16(misc | txa):   {kind: kTxa},
		uint16(ret | k):      {kind: kRetK},
		uint16(ret | a):      {kind: kRetA},
		uint16(jmp | ja):     {kind: kJa},
	}
	for _, j := range []struct {
		op uint32
		j  uint8
	}{{jeq, jEq}, {jgt, jGt}, {jge, jGe}, {jset, jSet}} {
		m[uint16(jmp|j.op|k)] = opKind{kind: kJmp, op: j.j}
		m[uint16(jmp|j.op|x)] = opKind{kind: kJmp, op: j.j, x: true}
	}
	for _, al := range []struct {
		name string
		op   uint8
	}{{"BPF_ADD", aAdd}, {"BPF_SUB", aSub}, {"BPF_MUL", aMul}, {"BPF_DIV", aDiv}, {"BPF_OR", aOr},
		{"BPF_AND", aAnd}, {"BPF_LSH", aLsh}, {"BPF_RSH", aRsh}, {"BPF_MOD", aMod}, {"BPF_XOR", aXor}} {
		v, ok := opt(al.name)
		if !ok {
			continue
		}
		m[uint16(alu|v|k)] = opKind{kind: kAlu, op: al.op}
		m[uint16(alu|v|x)] = opKind{kind: kAlu, op: al.op, x: true}
	}
	if neg, ok := opt("BPF_NEG"); ok {
		m[uint16(alu|neg)] = opKind{kind: kAlu, op: aNeg}
	}
	tg.ops = m
}

// layout reads the places of struct seccomp_data's words.
func (tg *Target) layout() error {
	t := tg.table
	s, ok := t.Struct("seccomp_data")
	if !ok {
		return &missingError{t, "struct seccomp_data"}
	}
	f := func(name string) (abi.Field, error) {
		x, ok := s.Field(name)
		if !ok {
			return x, &missingError{t, "seccomp_data." + name}
		}
		return x, nil
	}
	nr, err := f("nr")
	if err != nil {
		return err
	}
	arch, err := f("arch")
	if err != nil {
		return err
	}
	ip, err := f("instruction_pointer")
	if err != nil {
		return err
	}
	args, err := f("args")
	if err != nil {
		return err
	}
	if nr.Size != 4 || arch.Size != 4 || ip.Size != 8 || args.Size != 6*8 {
		return &missingError{t, "a struct seccomp_data of the known shape"}
	}
	// A 64-bit field as two 32-bit words: the low one first on
	// little-endian machines.
	lo, hi := uint32(0), uint32(4)
	if t.BigEndian {
		lo, hi = 4, 0
	}
	tg.offNr, tg.offArch = uint32(nr.Offset), uint32(arch.Offset)
	tg.offIPLo, tg.offIPHi = uint32(ip.Offset)+lo, uint32(ip.Offset)+hi
	for i := range 6 {
		tg.argLo[i] = uint32(args.Offset+8*i) + lo
		tg.argHi[i] = uint32(args.Offset+8*i) + hi
	}
	tg.dataSize = uint32(s.Size)
	if tg.dataSize > maxDataSize || tg.memWords > maxMemWords {
		return &missingError{t, "a struct seccomp_data and BPF_MEMWORDS within the interpreter's limits"}
	}
	return nil
}

// Table returns the ABI table tg was resolved from.
func (tg *Target) Table() *abi.Table { return tg.table }

// Arch returns the AUDIT_ARCH_* value programs for tg check, and its name.
func (tg *Target) Arch() (uint32, string) { return tg.arch, tg.archName }

// Syscall returns the number of the named call in tg's ABI.
func (tg *Target) Syscall(name string) (uint32, bool) {
	nr, ok := tg.table.Syscall(name)
	return uint32(nr), ok
}

// SyscallName returns the name of call nr in tg's ABI, or "syscall_<nr>".
func (tg *Target) SyscallName(nr uint32) string {
	if n, ok := tg.byNr[nr]; ok {
		return n
	}
	return fmt.Sprintf("syscall_%d", nr)
}

// Syscalls returns the names of every call tg's ABI has, sorted.
func (tg *Target) Syscalls() []string {
	out := make([]string, 0, len(tg.table.Syscalls))
	for _, s := range tg.table.Syscalls {
		out = append(out, s.Name)
	}
	sort.Strings(out)
	return out
}
