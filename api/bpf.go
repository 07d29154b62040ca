package api

import (
	"encoding/binary"
	"errors"
	"iter"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// BPF: maps, programs and socket filters through bpf(2). Only Linux has
// the call; elsewhere every method answers ENOSYS.
//
// bpf(2) takes one union bpf_attr whose members hold addresses (of keys,
// values, instructions, the log buffer) as 64-bit integers. Those may point
// into the calling goroutine's stack, which the Go runtime moves only in
// function prologues: each call below stores them into the attribute
// buffer last, with nothing between the stores and the syscall that could
// grow the stack (bpfPutPtr and Kernel.syscall are nosplit).

var sysBPF = newCall("bpf")

// bpfState is the per-Kernel state of BPF and perf events, filled in at New.
type bpfState struct {
	// missing says why bpf answers ENOSYS ("" when it works).
	missing     string
	attrSize    uintptr
	be          bool
	a           bpfAttrFields
	insn        struct{ code, regs, off, imm fieldAt }
	cmd         struct{ mapCreate, lookup, update, delete, nextKey, progLoad uintptr }
	pseudoMapFd uint8
	soAttach    int
	soDetach    int
	percpu      map[BPFMapType]bool
	cpusOnce    sync.Once
	cpus        int
	cpusErr     error
	perf        perfState
}

// bpfAttrFields are the places of the bpf_attr members api uses.
type bpfAttrFields struct {
	mapType, keySize, valueSize, maxEntries, mapFlags, mapName   fieldAt
	mapFd, key, value, nextKey, flags                            fieldAt
	progType, insnCnt, insns, license, logLevel, logSize, logBuf fieldAt
	kernVersion, progFlags, progName                             fieldAt
}

// bpfAttrMax bounds union bpf_attr (144 bytes in Linux 6.1's headers).
const bpfAttrMax = 256

// bpfAttrBuf holds a bpf_attr; 8-byte words keep its 64-bit members
// aligned.
type bpfAttrBuf [bpfAttrMax / 8]uint64

func (b *bpfAttrBuf) bytes() []byte { return (*[bpfAttrMax]byte)(unsafe.Pointer(b))[:] }

// bpfPutPtr stores address p into the 64-bit member at off. It is nosplit
// so that callers can store stack addresses right before the syscall.
//
//go:nosplit
func bpfPutPtr(b *bpfAttrBuf, off uint16, p unsafe.Pointer) {
	*(*uint64)(unsafe.Pointer(uintptr(unsafe.Pointer(b)) + uintptr(off))) = uint64(uintptr(p))
}

// hostBigEndian is the byte order of this process.
var hostBigEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 0
}()

func (s *bpfState) init(k *Kernel) error {
	if err := s.perf.init(k); err != nil {
		return err
	}
	s.missing = s.setup(k)
	return nil
}

// setup resolves what bpf needs and returns why it cannot work, or "".
// A table without bpf is no error: the calls answer ENOSYS.
func (s *bpfState) setup(k *Kernel) string {
	if !k.hasCall(sysBPF) {
		return "the ABI has no bpf call"
	}
	s.be = k.table.BigEndian
	if s.be != hostBigEndian {
		// The kernel reads addresses of this process's memory: it must
		// be this machine's.
		return "the kernel's byte order is not this process's"
	}
	l, err := k.layoutOf("bpf_attr")
	if err != nil {
		return err.Error()
	}
	if l.size > bpfAttrMax {
		return "struct bpf_attr is larger than 256 bytes"
	}
	s.attrSize = uintptr(l.size)
	a := &s.a
	for _, x := range []struct {
		p    *fieldAt
		name string
		size int // 0: any
	}{
		{&a.mapType, "map_type", 4}, {&a.keySize, "key_size", 4}, {&a.valueSize, "value_size", 4},
		{&a.maxEntries, "max_entries", 4}, {&a.mapFlags, "map_flags", 4}, {&a.mapName, "map_name", 0},
		{&a.mapFd, "map_fd", 4}, {&a.key, "key", 8}, {&a.value, "value", 8}, {&a.nextKey, "next_key", 8},
		{&a.flags, "flags", 8},
		{&a.progType, "prog_type", 4}, {&a.insnCnt, "insn_cnt", 4}, {&a.insns, "insns", 8},
		{&a.license, "license", 8}, {&a.logLevel, "log_level", 4}, {&a.logSize, "log_size", 4},
		{&a.logBuf, "log_buf", 8}, {&a.kernVersion, "kern_version", 4}, {&a.progFlags, "prog_flags", 4},
		{&a.progName, "prog_name", 0},
	} {
		f, err := l.must(x.name)
		if err != nil {
			return err.Error()
		}
		if x.size != 0 && int(f.size) != x.size || x.size == 8 && f.off%8 != 0 {
			return "bpf_attr." + x.name + " is not a " + strconv.Itoa(x.size) + "-byte member"
		}
		*x.p = f
	}
	il, err := k.layoutOf("bpf_insn")
	if err != nil {
		return err.Error()
	}
	if il.size != 8 {
		return "struct bpf_insn is not 8 bytes"
	}
	for _, x := range []struct {
		p    *fieldAt
		name string
	}{{&s.insn.code, "code"}, {&s.insn.regs, "regs"}, {&s.insn.off, "off"}, {&s.insn.imm, "imm"}} {
		if *x.p, err = il.must(x.name); err != nil {
			return err.Error()
		}
	}
	c := &s.cmd
	for _, x := range []struct {
		p    *uintptr
		name string
	}{
		{&c.mapCreate, "BPF_MAP_CREATE"}, {&c.lookup, "BPF_MAP_LOOKUP_ELEM"}, {&c.update, "BPF_MAP_UPDATE_ELEM"},
		{&c.delete, "BPF_MAP_DELETE_ELEM"}, {&c.nextKey, "BPF_MAP_GET_NEXT_KEY"}, {&c.progLoad, "BPF_PROG_LOAD"},
	} {
		v, ok := k.table.Const(x.name)
		if !ok {
			return "the ABI table lacks " + x.name
		}
		*x.p = uintptr(v)
	}
	for _, x := range []struct {
		p    *int
		name string
	}{{&s.soAttach, "SO_ATTACH_BPF"}, {&s.soDetach, "SO_DETACH_BPF"}} {
		v, ok := k.table.Const(x.name)
		if !ok {
			return "the ABI table lacks " + x.name
		}
		*x.p = int(v)
	}
	v, ok := k.table.Const("BPF_PSEUDO_MAP_FD")
	if !ok {
		return "the ABI table lacks BPF_PSEUDO_MAP_FD"
	}
	s.pseudoMapFd = uint8(v)
	// Instructions are built with api's opcode values; eBPF numbers them
	// the same on every Linux, which the table must confirm.
	for _, f := range []*family{bpfRegFamily, bpfClassFamily, bpfSizeFamily, bpfModeFamily, bpfSourceFamily, bpfAluOpFamily, bpfJmpOpFamily} {
		if !k.enums[f.id].identity {
			return "the ABI's eBPF " + f.goType + " values differ from Linux amd64's"
		}
	}
	s.percpu = map[BPFMapType]bool{
		BPF_MAP_TYPE_PERCPU_HASH: true, BPF_MAP_TYPE_PERCPU_ARRAY: true,
		BPF_MAP_TYPE_LRU_PERCPU_HASH: true, BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE: true,
	}
	return ""
}

// bpfNoSys is the error of a kernel without usable bpf.
func (k *Kernel) bpfNoSys(op string) error {
	return &bpfError{op: op, err: callErr("bpf", ENOSYS), why: k.bpf.missing}
}

// bpfError is a failed bpf command: it names the command and unwraps to
// the errno.
type bpfError struct {
	op  string // "BPF_MAP_CREATE"
	err error
	why string
}

// Error names the command, the errno and, for ENOSYS, why.
func (e *bpfError) Error() string {
	s := "bpf " + e.op + ": " + e.err.Error()
	if e.why != "" {
		s += " (" + e.why + ")"
	}
	return s
}

// Unwrap gives the call's error, so errors.Is works on the errno.
func (e *bpfError) Unwrap() error { return e.err }

func bpfErr(op string, e Errno) error { return &bpfError{op: op, err: callErr("bpf", e)} }

// BPFMapSpec describes a map to create.
type BPFMapSpec struct {
	Type       BPFMapType
	KeySize    uint32 // bytes; 4 for arrays
	ValueSize  uint32 // bytes
	MaxEntries uint32
	Flags      BPFMapFlags
	Name       string // up to 15 bytes of letters, digits, '_' and '.'; shown by bpftool
}

// BPFMap is a BPF map: a table in the kernel that programs and user space
// share. Keys and values are byte slices of the map's sizes, in the
// kernel's byte order (ByteOrder); BPFMapLookup and friends encode Go
// values for you.
type BPFMap struct {
	fd         *Fd
	typ        BPFMapType
	keySize    int
	valueSize  int
	valueBuf   int // bytes a lookup writes: ValueSize, or one 8-aligned value per possible CPU
	maxEntries int
	order      binary.ByteOrder
}

// BPFMapCreate creates a map (BPF_MAP_CREATE). It needs CAP_BPF (or root),
// or unprivileged BPF enabled (kernel.unprivileged_bpf_disabled = 0).
func (k *Kernel) BPFMapCreate(spec *BPFMapSpec) (*BPFMap, error) {
	const op = "BPF_MAP_CREATE"
	if spec == nil {
		return nil, badArg("bpf", "nil *BPFMapSpec")
	}
	s := &k.bpf
	if s.missing != "" {
		return nil, k.bpfNoSys(op)
	}
	if len(spec.Name) > int(s.a.mapName.size)-1 {
		return nil, badArg("bpf", "map name "+strconv.Quote(spec.Name)+" longer than "+strconv.Itoa(int(s.a.mapName.size)-1)+" bytes")
	}
	typ, err := k.enumToABI(bpfMapTypeFamily, uint64(spec.Type))
	if err != nil {
		return nil, &bpfError{op: op, err: err}
	}
	fl, err := k.flagsToABI(bpfMapFlagsFamily, uint64(spec.Flags))
	if err != nil {
		return nil, &bpfError{op: op, err: err}
	}
	valueBuf := int(spec.ValueSize)
	if s.percpu[spec.Type] {
		n, err := k.possibleCPUs()
		if err != nil {
			return nil, &bpfError{op: op, err: err, why: "counting the possible CPUs for a per-CPU map"}
		}
		valueBuf = (int(spec.ValueSize) + 7) &^ 7 * n
	}
	var attr bpfAttrBuf
	b, be := attr.bytes(), s.be
	s.a.mapType.put(b, be, typ)
	s.a.keySize.put(b, be, uint64(spec.KeySize))
	s.a.valueSize.put(b, be, uint64(spec.ValueSize))
	s.a.maxEntries.put(b, be, uint64(spec.MaxEntries))
	s.a.mapFlags.put(b, be, fl)
	copy(s.a.mapName.bytes(b), spec.Name)
	r, e := k.syscall(sysBPF, s.cmd.mapCreate, uintptr(unsafe.Pointer(&attr)), s.attrSize, 0, 0, 0)
	if e != 0 {
		return nil, bpfErr(op, e)
	}
	order := binary.ByteOrder(binary.LittleEndian)
	if be {
		order = binary.BigEndian
	}
	return &BPFMap{
		fd: k.newFd(r), typ: spec.Type, keySize: int(spec.KeySize), valueSize: int(spec.ValueSize),
		valueBuf: valueBuf, maxEntries: int(spec.MaxEntries), order: order,
	}, nil
}

// possibleCPUs counts the CPUs the kernel may ever bring up
// (/sys/devices/system/cpu/possible), which sizes per-CPU map values.
func (k *Kernel) possibleCPUs() (int, error) {
	s := &k.bpf
	s.cpusOnce.Do(func() {
		s.cpus, s.cpusErr = k.readPossibleCPUs()
	})
	return s.cpus, s.cpusErr
}

func (k *Kernel) readPossibleCPUs() (int, error) {
	f, err := k.Open("/sys/devices/system/cpu/possible", O_RDONLY|O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 512)
	n, err := f.Read(buf)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, r := range strings.Split(strings.TrimSpace(string(buf[:n])), ",") {
		lo, hi, isRange := strings.Cut(r, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return 0, err
		}
		z := a
		if isRange {
			if z, err = strconv.Atoi(hi); err != nil {
				return 0, err
			}
		}
		if z < a {
			return 0, badArg("bpf", "bad CPU range "+r)
		}
		total += z - a + 1
	}
	if total == 0 {
		return 0, badArg("bpf", "no possible CPUs")
	}
	return total, nil
}

// Fd returns the map's descriptor.
func (m *BPFMap) Fd() *Fd {
	if m == nil {
		return nil
	}
	return m.fd
}

// Close releases the map (the kernel frees it when no program holds it
// either).
func (m *BPFMap) Close() error {
	if m == nil {
		return callErr("close", EBADF)
	}
	return m.fd.Close()
}

// Type returns the map's type.
func (m *BPFMap) Type() BPFMapType { return m.typ }

// KeySize returns the size of a key in bytes.
func (m *BPFMap) KeySize() int { return m.keySize }

// ValueSize returns the size of a value in bytes as the map was created.
func (m *BPFMap) ValueSize() int { return m.valueSize }

// ValueBufSize is how many bytes Lookup writes and Update reads: ValueSize,
// or for per-CPU maps one value per possible CPU, each padded to 8 bytes.
func (m *BPFMap) ValueBufSize() int { return m.valueBuf }

// MaxEntries returns the map's capacity.
func (m *BPFMap) MaxEntries() int { return m.maxEntries }

// ByteOrder is the kernel's byte order, in which integer keys and values
// are laid out.
func (m *BPFMap) ByteOrder() binary.ByteOrder { return m.order }

func (m *BPFMap) checkKey(op string, key []byte) error {
	if len(key) != m.keySize {
		return badArg("bpf", op+": key of "+strconv.Itoa(len(key))+" bytes, the map's keys have "+strconv.Itoa(m.keySize))
	}
	return nil
}

func (m *BPFMap) checkValue(op string, v []byte) error {
	if len(v) < m.valueBuf {
		return badArg("bpf", op+": value buffer of "+strconv.Itoa(len(v))+" bytes, the map needs "+strconv.Itoa(m.valueBuf))
	}
	return nil
}

// elemOp makes one element command: key, and val at member valAt.
func (m *BPFMap) elemOp(op string, cmd uintptr, key, val unsafe.Pointer, valAt fieldAt, flags uint64) error {
	if m == nil || m.fd == nil {
		return bpfErr(op, EBADF)
	}
	k := m.fd.k
	s := &k.bpf
	n, e := m.fd.acquire()
	if e != 0 {
		return bpfErr(op, e)
	}
	var attr bpfAttrBuf
	b := attr.bytes()
	s.a.mapFd.put(b, s.be, uint64(n))
	s.a.flags.put(b, s.be, flags)
	// No call that may grow the stack from here to the syscall: key and
	// val may point into it.
	bpfPutPtr(&attr, s.a.key.off, key)
	if val != nil {
		bpfPutPtr(&attr, valAt.off, val)
	}
	_, e = k.syscall(sysBPF, cmd, uintptr(unsafe.Pointer(&attr)), s.attrSize, 0, 0, 0)
	m.fd.release()
	if e != 0 {
		return bpfErr(op, e)
	}
	return nil
}

// Lookup copies the value of key into value (BPF_MAP_LOOKUP_ELEM); a
// missing key is ENOENT.
func (m *BPFMap) Lookup(key, value []byte) error {
	const op = "BPF_MAP_LOOKUP_ELEM"
	if m == nil || m.fd == nil {
		return bpfErr(op, EBADF)
	}
	if err := m.checkKey(op, key); err != nil {
		return err
	}
	if err := m.checkValue(op, value); err != nil {
		return err
	}
	return m.elemOp(op, m.fd.k.bpf.cmd.lookup, bufPtr(key), bufPtr(value), m.fd.k.bpf.a.value, 0)
}

// Update sets the value of key (BPF_MAP_UPDATE_ELEM). flags: BPF_ANY
// creates or replaces, BPF_NOEXIST only creates (EEXIST otherwise),
// BPF_EXIST only replaces (ENOENT otherwise). A full hash map gives E2BIG;
// an array index past the end, E2BIG too.
func (m *BPFMap) Update(key, value []byte, flags BPFElemFlags) error {
	const op = "BPF_MAP_UPDATE_ELEM"
	if m == nil || m.fd == nil {
		return bpfErr(op, EBADF)
	}
	if err := m.checkKey(op, key); err != nil {
		return err
	}
	if err := m.checkValue(op, value); err != nil {
		return err
	}
	fl, err := m.fd.k.flagsToABI(bpfElemFlagsFamily, uint64(flags))
	if err != nil {
		return &bpfError{op: op, err: err}
	}
	return m.elemOp(op, m.fd.k.bpf.cmd.update, bufPtr(key), bufPtr(value), m.fd.k.bpf.a.value, fl)
}

// Delete removes key (BPF_MAP_DELETE_ELEM); a missing key is ENOENT, and
// arrays, whose elements always exist, say EINVAL.
func (m *BPFMap) Delete(key []byte) error {
	const op = "BPF_MAP_DELETE_ELEM"
	if m == nil || m.fd == nil {
		return bpfErr(op, EBADF)
	}
	if err := m.checkKey(op, key); err != nil {
		return err
	}
	return m.elemOp(op, m.fd.k.bpf.cmd.delete, bufPtr(key), nil, fieldAt{}, 0)
}

// NextKey writes the key after key into next (BPF_MAP_GET_NEXT_KEY); a nil
// key asks for the first one. After the last key it returns ENOENT.
func (m *BPFMap) NextKey(key, next []byte) error {
	const op = "BPF_MAP_GET_NEXT_KEY"
	if m == nil || m.fd == nil {
		return bpfErr(op, EBADF)
	}
	if key != nil {
		if err := m.checkKey(op, key); err != nil {
			return err
		}
	}
	if len(next) < m.keySize {
		return badArg("bpf", op+": next key buffer of "+strconv.Itoa(len(next))+" bytes, the map's keys have "+strconv.Itoa(m.keySize))
	}
	return m.elemOp(op, m.fd.k.bpf.cmd.nextKey, bufPtr(key), bufPtr(next), m.fd.k.bpf.a.nextKey, 0)
}

// Keys iterates over the map's keys in the kernel's order, each a fresh
// slice. Deleting the current key of a hash map while iterating makes the
// kernel start over from the first key, as for any BPF_MAP_GET_NEXT_KEY
// loop.
func (m *BPFMap) Keys() iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		if m == nil || m.fd == nil {
			yield(nil, bpfErr("BPF_MAP_GET_NEXT_KEY", EBADF))
			return
		}
		var cur []byte
		for {
			next := make([]byte, m.keySize)
			err := m.NextKey(cur, next)
			if errors.Is(err, ENOENT) {
				return
			}
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(next, nil) {
				return
			}
			cur = next
		}
	}
}

// bpfEncode lays out a Go value as the map's key or value: encoding/binary
// in the kernel's byte order, so K and V must be fixed-size (integers,
// arrays, structs of them; C padding must be spelled out as blank fields).
func bpfEncode(m *BPFMap, v any, size int, what string) ([]byte, error) {
	n := binary.Size(v)
	if n != size {
		return nil, badArg("bpf", what+" type of "+strconv.Itoa(n)+" bytes, the map's "+what+"s have "+strconv.Itoa(size))
	}
	b := make([]byte, n)
	if _, err := binary.Encode(b, m.order, v); err != nil {
		return nil, badArg("bpf", what+": "+err.Error())
	}
	return b, nil
}

// BPFMapLookup returns the value of key, both as Go values laid out by
// encoding/binary in the kernel's byte order:
//
//	count, err := api.BPFMapLookup[uint32, uint64](m, 0)
func BPFMapLookup[K, V any](m *BPFMap, key K) (V, error) {
	var v V
	if m == nil || m.fd == nil {
		return v, bpfErr("BPF_MAP_LOOKUP_ELEM", EBADF)
	}
	kb, err := bpfEncode(m, key, m.keySize, "key")
	if err != nil {
		return v, err
	}
	if n := binary.Size(&v); n != m.valueBuf {
		return v, badArg("bpf", "value type of "+strconv.Itoa(n)+" bytes, the map's lookups give "+strconv.Itoa(m.valueBuf))
	}
	vb := make([]byte, m.valueBuf)
	if err := m.Lookup(kb, vb); err != nil {
		return v, err
	}
	if _, err := binary.Decode(vb, m.order, &v); err != nil {
		return v, badArg("bpf", "value: "+err.Error())
	}
	return v, nil
}

// BPFMapUpdate sets the value of key from Go values (see BPFMapLookup).
func BPFMapUpdate[K, V any](m *BPFMap, key K, value V, flags BPFElemFlags) error {
	if m == nil || m.fd == nil {
		return bpfErr("BPF_MAP_UPDATE_ELEM", EBADF)
	}
	kb, err := bpfEncode(m, key, m.keySize, "key")
	if err != nil {
		return err
	}
	vb, err := bpfEncode(m, value, m.valueBuf, "value")
	if err != nil {
		return err
	}
	return m.Update(kb, vb, flags)
}

// BPFMapDelete removes key, given as a Go value (see BPFMapLookup).
func BPFMapDelete[K any](m *BPFMap, key K) error {
	if m == nil || m.fd == nil {
		return bpfErr("BPF_MAP_DELETE_ELEM", EBADF)
	}
	kb, err := bpfEncode(m, key, m.keySize, "key")
	if err != nil {
		return err
	}
	return m.Delete(kb)
}

// BPFInsn is one eBPF instruction. Op is the opcode byte: a BPFClass ORed
// with a BPFSize and a BPFMode (loads and stores) or with a BPFAluOp or
// BPFJmpOp and a BPFSource. The builders (BPFMovImm, BPFCall, BPFExit, ...)
// fill it in.
//
// The 64-bit immediate load (BPF_LD|BPF_IMM|BPF_DW: BPFLdImm64, BPFLdMap)
// takes two instruction slots in the kernel's encoding, and so counts as two
// when jump offsets are counted; Imm holds all 64 bits. Every other
// instruction's Imm must fit in 32 bits.
type BPFInsn struct {
	Op  uint8
	Dst BPFReg
	Src BPFReg
	Off int16
	Imm int64

	mapRef *BPFMap // BPFLdMap: the map whose descriptor becomes Imm at load
}

// Slots is how many 8-byte slots the instruction takes: 2 for a 64-bit
// immediate load, else 1.
func (i BPFInsn) Slots() int {
	if i.Op == uint8(BPF_LD)|uint8(BPF_IMM)|uint8(BPF_DW) {
		return 2
	}
	return 1
}

// String prints the instruction's fields, for logs and test failures.
func (i BPFInsn) String() string {
	return "{op " + strconv.FormatUint(uint64(i.Op), 16) + " dst r" + strconv.Itoa(int(i.Dst)) +
		" src r" + strconv.Itoa(int(i.Src)) + " off " + strconv.Itoa(int(i.Off)) + " imm " + strconv.FormatInt(i.Imm, 10) + "}"
}

// BPFMovImm is dst = imm (64-bit move of a sign-extended 32-bit value).
func BPFMovImm(dst BPFReg, imm int32) BPFInsn {
	return BPFInsn{Op: uint8(BPF_ALU64) | uint8(BPF_MOV) | uint8(BPF_K), Dst: dst, Imm: int64(imm)}
}

// BPFMovReg is dst = src (64 bits).
func BPFMovReg(dst, src BPFReg) BPFInsn {
	return BPFInsn{Op: uint8(BPF_ALU64) | uint8(BPF_MOV) | uint8(BPF_X), Dst: dst, Src: src}
}

// BPFAluImm is dst = dst op imm on 64 bits (BPF_ADD, BPF_AND, ...).
func BPFAluImm(op BPFAluOp, dst BPFReg, imm int32) BPFInsn {
	return BPFInsn{Op: uint8(BPF_ALU64) | uint8(op) | uint8(BPF_K), Dst: dst, Imm: int64(imm)}
}

// BPFAluReg is dst = dst op src on 64 bits.
func BPFAluReg(op BPFAluOp, dst, src BPFReg) BPFInsn {
	return BPFInsn{Op: uint8(BPF_ALU64) | uint8(op) | uint8(BPF_X), Dst: dst, Src: src}
}

// BPFAlu32Imm is dst = dst op imm on the low 32 bits (the upper half
// becomes zero).
func BPFAlu32Imm(op BPFAluOp, dst BPFReg, imm int32) BPFInsn {
	return BPFInsn{Op: uint8(BPF_ALU) | uint8(op) | uint8(BPF_K), Dst: dst, Imm: int64(imm)}
}

// BPFLdImm64 is dst = v: the two-slot 64-bit immediate load.
func BPFLdImm64(dst BPFReg, v uint64) BPFInsn {
	return BPFInsn{Op: uint8(BPF_LD) | uint8(BPF_IMM) | uint8(BPF_DW), Dst: dst, Imm: int64(v)}
}

// BPFLdMap is dst = the address of map m (a two-slot 64-bit load with
// BPF_PSEUDO_MAP_FD: the loader puts m's descriptor in, the verifier turns it
// into the map). m must stay open until BPFProgLoad returns.
func BPFLdMap(dst BPFReg, m *BPFMap) BPFInsn {
	i := BPFLdImm64(dst, 0)
	i.mapRef = m
	return i
}

// BPFLdxMem is dst = *(size *)(src + off).
func BPFLdxMem(size BPFSize, dst, src BPFReg, off int16) BPFInsn {
	return BPFInsn{Op: uint8(BPF_LDX) | uint8(size) | uint8(BPF_MEM), Dst: dst, Src: src, Off: off}
}

// BPFStxMem is *(size *)(dst + off) = src.
func BPFStxMem(size BPFSize, dst, src BPFReg, off int16) BPFInsn {
	return BPFInsn{Op: uint8(BPF_STX) | uint8(size) | uint8(BPF_MEM), Dst: dst, Src: src, Off: off}
}

// BPFStMem is *(size *)(dst + off) = imm.
func BPFStMem(size BPFSize, dst BPFReg, off int16, imm int32) BPFInsn {
	return BPFInsn{Op: uint8(BPF_ST) | uint8(size) | uint8(BPF_MEM), Dst: dst, Off: off, Imm: int64(imm)}
}

// BPFAtomicAdd is *(size *)(dst + off) += src, atomically (BPF_W or
// BPF_DW; the classic BPF_XADD).
func BPFAtomicAdd(size BPFSize, dst, src BPFReg, off int16) BPFInsn {
	return BPFInsn{Op: uint8(BPF_STX) | uint8(size) | uint8(BPF_ATOMIC), Dst: dst, Src: src, Off: off, Imm: int64(BPF_ADD)}
}

// BPFJmpImm jumps off slots ahead (backwards when negative) if dst op imm
// holds (64-bit compare).
func BPFJmpImm(op BPFJmpOp, dst BPFReg, imm int32, off int16) BPFInsn {
	return BPFInsn{Op: uint8(BPF_JMP) | uint8(op) | uint8(BPF_K), Dst: dst, Off: off, Imm: int64(imm)}
}

// BPFJmpReg jumps off slots ahead if dst op src holds.
func BPFJmpReg(op BPFJmpOp, dst, src BPFReg, off int16) BPFInsn {
	return BPFInsn{Op: uint8(BPF_JMP) | uint8(op) | uint8(BPF_X), Dst: dst, Src: src, Off: off}
}

// BPFJa jumps off slots ahead unconditionally.
func BPFJa(off int16) BPFInsn {
	return BPFInsn{Op: uint8(BPF_JMP) | uint8(BPF_JA), Off: off}
}

// BPFCall calls helper fn with arguments in r1..r5; the result is in r0,
// and r1..r5 are clobbered.
func BPFCall(fn BPFFunc) BPFInsn {
	return BPFInsn{Op: uint8(BPF_JMP) | uint8(BPF_CALL), Imm: int64(fn)}
}

// BPFExit returns r0 from the program.
func BPFExit() BPFInsn {
	return BPFInsn{Op: uint8(BPF_JMP) | uint8(BPF_EXIT)}
}

// BPFProgSpec describes a program to load.
type BPFProgSpec struct {
	Type    BPFProgType
	Insns   []BPFInsn
	License string // "GPL" (or compatible) to call GPL-only helpers
	Name    string // up to 15 bytes; shown by bpftool
	Flags   BPFProgFlags
	// KernVersion is checked by old kernels for kprobe programs only.
	KernVersion uint32
	// LogLevel 0 asks for the verifier's log only when loading fails
	// (loading again with level 1 to get it); 1 or 2 always asks, and
	// BPFProg.Log holds it.
	LogLevel uint32
	// LogSize is the log buffer's size; 0 means 64 KiB, grown up to
	// 16 MiB while the kernel says it was too small.
	LogSize int
}

// BPFProg is a loaded program.
type BPFProg struct {
	fd  *Fd
	typ BPFProgType
	// Log is the verifier's log when BPFProgSpec.LogLevel asked for one.
	Log string
}

// BPFVerifierError is a program the kernel refused: Err is the error
// (errors.Is(err, api.EACCES) for most verifier refusals, EINVAL for
// malformed programs, EPERM without privilege) and Log the verifier's
// explanation.
type BPFVerifierError struct {
	Err error
	Log string
}

// bpfLogTail is how much of the verifier's log Error quotes.
const bpfLogTail = 2048

// Error gives the call's error and the end of the verifier's log.
func (e *BPFVerifierError) Error() string {
	s := e.Err.Error()
	if e.Log == "" {
		return s
	}
	log := strings.TrimRight(e.Log, "\n\x00")
	if len(log) > bpfLogTail {
		log = "..." + log[len(log)-bpfLogTail:]
	}
	return s + "\nverifier log:\n" + log
}

// Unwrap gives the call's error, so errors.Is works on the errno.
func (e *BPFVerifierError) Unwrap() error { return e.Err }

// BPFProgLoad loads and verifies a program (BPF_PROG_LOAD). A program the
// verifier refuses gives a *BPFVerifierError carrying the verifier's log.
func (k *Kernel) BPFProgLoad(spec *BPFProgSpec) (*BPFProg, error) {
	const op = "BPF_PROG_LOAD"
	if spec == nil {
		return nil, badArg("bpf", "nil *BPFProgSpec")
	}
	s := &k.bpf
	if s.missing != "" {
		return nil, k.bpfNoSys(op)
	}
	if len(spec.Insns) == 0 {
		return nil, badArg("bpf", op+": no instructions")
	}
	if strings.IndexByte(spec.License, 0) >= 0 {
		return nil, badArg("bpf", op+": NUL byte in the license")
	}
	if len(spec.Name) > int(s.a.progName.size)-1 {
		return nil, badArg("bpf", "program name "+strconv.Quote(spec.Name)+" longer than "+strconv.Itoa(int(s.a.progName.size)-1)+" bytes")
	}
	if spec.LogSize < 0 || spec.LogSize > 1<<30 {
		return nil, badArg("bpf", op+": log size "+strconv.Itoa(spec.LogSize))
	}
	typ, err := k.enumToABI(bpfProgTypeFamily, uint64(spec.Type))
	if err != nil {
		return nil, &bpfError{op: op, err: err}
	}
	fl, err := k.flagsToABI(bpfProgFlagsFamily, uint64(spec.Flags))
	if err != nil {
		return nil, &bpfError{op: op, err: err}
	}
	// The maps the program names stay open while it loads.
	var held []*Fd
	defer func() {
		for _, f := range held {
			f.release()
		}
	}()
	insns, err := k.bpfEncodeInsns(spec.Insns, &held)
	if err != nil {
		return nil, err
	}
	license := append([]byte(spec.License), 0)

	logLevel := spec.LogLevel
	logSize := spec.LogSize
	if logSize == 0 {
		logSize = 64 << 10
	}
	var log []byte
	for {
		if logLevel > 0 && len(log) < logSize {
			log = make([]byte, logSize)
		}
		var attr bpfAttrBuf
		b, be := attr.bytes(), s.be
		s.a.progType.put(b, be, typ)
		s.a.insnCnt.put(b, be, uint64(len(insns)/8))
		s.a.progFlags.put(b, be, fl)
		s.a.kernVersion.put(b, be, uint64(spec.KernVersion))
		copy(s.a.progName.bytes(b), spec.Name)
		if logLevel > 0 {
			s.a.logLevel.put(b, be, uint64(logLevel))
			s.a.logSize.put(b, be, uint64(len(log)))
		}
		// Heap memory from here on (it does not move), kept alive below.
		bpfPutPtr(&attr, s.a.insns.off, unsafe.Pointer(&insns[0]))
		bpfPutPtr(&attr, s.a.license.off, unsafe.Pointer(&license[0]))
		if logLevel > 0 {
			bpfPutPtr(&attr, s.a.logBuf.off, unsafe.Pointer(&log[0]))
		}
		r, e := k.syscall(sysBPF, s.cmd.progLoad, uintptr(unsafe.Pointer(&attr)), s.attrSize, 0, 0, 0)
		runtime.KeepAlive(insns)
		runtime.KeepAlive(license)
		runtime.KeepAlive(log)
		if e == 0 {
			p := &BPFProg{fd: k.newFd(r), typ: spec.Type}
			if spec.LogLevel > 0 {
				p.Log = goString(log)
			}
			return p, nil
		}
		switch {
		case e == ENOSPC && logLevel > 0 && len(log) < 16<<20:
			// The log did not fit: a bigger buffer, same program.
			logSize = len(log) * 4
			continue
		case logLevel == 0 && e != EPERM && e != ENOSYS && e != EBADF && e != EFAULT:
			// Refused: load again to hear why.
			logLevel = 1
			continue
		}
		return nil, &BPFVerifierError{Err: bpfErr(op, e), Log: goString(log)}
	}
}

// bpfEncodeInsns lays out instructions in the kernel's encoding, acquiring
// the descriptors of the maps they name (appended to held, which the caller
// releases after the load).
func (k *Kernel) bpfEncodeInsns(in []BPFInsn, held *[]*Fd) ([]byte, error) {
	s := &k.bpf
	slots := 0
	for _, i := range in {
		slots += i.Slots()
	}
	if slots > 1<<24 {
		return nil, badArg("bpf", "BPF_PROG_LOAD: "+strconv.Itoa(slots)+" instructions")
	}
	out := make([]byte, 8*slots)
	be := s.be
	p := 0
	for n, i := range in {
		if i.Dst > 15 || i.Src > 15 {
			return nil, badArg("bpf", "instruction "+strconv.Itoa(n)+" "+i.String()+": register out of range")
		}
		imm := i.Imm
		src := uint8(i.Src)
		wide := i.Slots() == 2
		if i.mapRef != nil {
			if i.mapRef.fd == nil || i.mapRef.fd.k != k {
				return nil, badArg("bpf", "instruction "+strconv.Itoa(n)+": a map of another kernel")
			}
			num, e := i.mapRef.fd.acquire()
			if e != 0 {
				return nil, &bpfError{op: "BPF_PROG_LOAD", err: callErr("bpf", e), why: "instruction " + strconv.Itoa(n) + " names a closed map"}
			}
			*held = append(*held, i.mapRef.fd)
			imm = int64(num)
			src = s.pseudoMapFd
		}
		if i.Op == uint8(BPF_JMP)|uint8(BPF_CALL) && i.Src == 0 {
			v, err := k.enumToABI(bpfFuncFamily, uint64(i.Imm))
			if err == nil {
				imm = int64(int32(v))
			}
		}
		if !wide && (imm < -1<<31 || imm > 1<<31-1) {
			return nil, badArg("bpf", "instruction "+strconv.Itoa(n)+" "+i.String()+": immediate does not fit 32 bits")
		}
		slot := out[p : p+8]
		s.insn.code.put(slot, be, uint64(i.Op))
		regs := uint8(i.Dst)&0xf | src<<4
		if be {
			regs = uint8(i.Dst)<<4 | src&0xf
		}
		s.insn.regs.put(slot, be, uint64(regs))
		s.insn.off.put(slot, be, uint64(uint16(i.Off)))
		s.insn.imm.put(slot, be, uint64(uint32(int32(imm))))
		p += 8
		if wide {
			// The second slot: all zero but the upper half of the value.
			s.insn.imm.put(out[p:p+8], be, uint64(uint32(uint64(imm)>>32)))
			p += 8
		}
	}
	return out, nil
}

// Fd returns the program's descriptor.
func (p *BPFProg) Fd() *Fd {
	if p == nil {
		return nil
	}
	return p.fd
}

// Type returns the program's type.
func (p *BPFProg) Type() BPFProgType { return p.typ }

// Close releases the program; sockets it is attached to keep it.
func (p *BPFProg) Close() error {
	if p == nil {
		return callErr("close", EBADF)
	}
	return p.fd.Close()
}

// AttachSocket attaches a socket filter program to sock (setsockopt
// SO_ATTACH_BPF): from then on the program sees each packet the socket
// receives and returns how many of its bytes to keep, 0 dropping it.
func (p *BPFProg) AttachSocket(sock *Fd) error {
	if p == nil || p.fd == nil {
		return callErr("setsockopt", EBADF)
	}
	k := p.fd.k
	if k.bpf.missing != "" {
		return k.bpfNoSys("SO_ATTACH_BPF")
	}
	if sock == nil || sock.k != k {
		return callErr("setsockopt", EBADF)
	}
	n, e := p.fd.acquire()
	if e != 0 {
		return callErr("setsockopt", e)
	}
	err := sock.SetsockoptInt(RawSockOpt{Level: SOL_SOCKET, Name: k.bpf.soAttach}, int(n))
	p.fd.release()
	return err
}

// BPFDetachSocket removes the filter attached to sock (setsockopt
// SO_DETACH_BPF); a socket without one gives ENOENT.
func (k *Kernel) BPFDetachSocket(sock *Fd) error {
	if k.bpf.missing != "" {
		return k.bpfNoSys("SO_DETACH_BPF")
	}
	if sock == nil || sock.k != k {
		return callErr("setsockopt", EBADF)
	}
	return sock.SetsockoptInt(RawSockOpt{Level: SOL_SOCKET, Name: k.bpf.soDetach}, 0)
}
