package conformance

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/anykernel/anykernel/api"
)

// BPF: maps (hash and array), a socket filter program built with the
// instruction builders, attached to UDP sockets, and the verifier's log.
// BPF needs CAP_BPF; these cases run as root.

func init() {
	Register(
		Case{Family: "bpf", Call: "BPF_MAP_CREATE", Root: true, Run: testBPFMapCreate},
		Case{Family: "bpf", Call: "BPF_MAP_UPDATE_ELEM", Root: true, Run: testBPFMapUpdate},
		Case{Family: "bpf", Call: "BPF_MAP_LOOKUP_ELEM", Root: true, Run: testBPFMapLookup},
		Case{Family: "bpf", Call: "BPF_MAP_DELETE_ELEM", Root: true, Run: testBPFMapDelete},
		Case{Family: "bpf", Call: "BPF_MAP_GET_NEXT_KEY", Root: true, Run: testBPFMapNextKey},
		Case{Family: "bpf", Call: "BPF_PROG_LOAD", Root: true, Run: testBPFProgLoad},
		Case{Family: "bpf", Call: "SO_ATTACH_BPF", Root: true, Run: testBPFAttachSocket},
	)
}

// smBPFMap creates a map, skipping the case where the kernel refuses BPF
// to this process altogether.
func smBPFMap(t T, e *Env, spec api.BPFMapSpec) *api.BPFMap {
	t.Helper()
	m, err := e.K.BPFMapCreate(&spec)
	if errors.Is(err, api.EPERM) {
		v, _ := os.ReadFile("/proc/sys/kernel/unprivileged_bpf_disabled")
		t.Skipf("bpf refused (EPERM): kernel.unprivileged_bpf_disabled = %s, euid %d", strings.TrimSpace(string(v)), e.K.Geteuid())
	}
	OK(t, err, "BPFMapCreate %+v", spec)
	t.Cleanup(func() { m.Close() })
	return m
}

// smFdinfo returns the "key:\tvalue" lines of /proc/self/fdinfo/<fd>.
func smFdinfo(t T, fd *api.Fd) map[string]string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(fd.Num()))
	OK(t, err, "fdinfo")
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}

func smU32(m *api.BPFMap, v uint32) []byte {
	b := make([]byte, 4)
	m.ByteOrder().PutUint32(b, v)
	return b
}

func smU64(m *api.BPFMap, v uint64) []byte {
	b := make([]byte, 8)
	m.ByteOrder().PutUint64(b, v)
	return b
}

func testBPFMapCreate(t T, e *Env) {
	k := e.K
	m := smBPFMap(t, e, api.BPFMapSpec{Type: api.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 16, Name: "ak_hash"})
	Eq(t, m.Type(), api.BPF_MAP_TYPE_HASH)
	Eq(t, m.KeySize(), 4)
	Eq(t, m.ValueSize(), 8)
	Eq(t, m.ValueBufSize(), 8)
	Eq(t, m.MaxEntries(), 16)
	True(t, m.Fd().Num() >= 0, "a descriptor")
	a := smBPFMap(t, e, api.BPFMapSpec{Type: api.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 16, MaxEntries: 4, Flags: api.BPF_F_RDONLY_PROG})
	if smIsHost(e) {
		info := smFdinfo(t, m.Fd())
		Eq(t, info["map_type"], strconv.Itoa(int(api.BPF_MAP_TYPE_HASH)), "fdinfo map_type")
		Eq(t, info["key_size"], "4", "fdinfo key_size")
		Eq(t, info["value_size"], "8", "fdinfo value_size")
		Eq(t, info["max_entries"], "16", "fdinfo max_entries")
		ai := smFdinfo(t, a.Fd())
		Eq(t, ai["map_type"], strconv.Itoa(int(api.BPF_MAP_TYPE_ARRAY)), "array fdinfo map_type")
		Eq(t, ai["map_flags"], fmt.Sprintf("%#x", uint32(api.BPF_F_RDONLY_PROG)), "array fdinfo map_flags")
	}
	Eq(t, api.BPF_MAP_TYPE_HASH.String(), "BPF_MAP_TYPE_HASH")
	mt, err := api.ParseBPFMapType("array")
	OK(t, err)
	Eq(t, mt, api.BPF_MAP_TYPE_ARRAY, "parsed map type")
	_, err = api.ParseBPFMapFlags("no_prealloc,bogus")
	var pe *api.ParseError
	True(t, errors.As(err, &pe), "unknown flag word: %v", err)

	// Bad specs.
	_, err = k.BPFMapCreate(nil)
	Want(t, err, api.EINVAL, "nil spec")
	_, err = k.BPFMapCreate(&api.BPFMapSpec{Type: api.BPF_MAP_TYPE_HASH, KeySize: 0, ValueSize: 8, MaxEntries: 1})
	Want(t, err, api.EINVAL, "zero key size")
	_, err = k.BPFMapCreate(&api.BPFMapSpec{Type: api.BPF_MAP_TYPE_ARRAY, KeySize: 8, ValueSize: 8, MaxEntries: 1})
	Want(t, err, api.EINVAL, "an array's keys are 4 bytes")
	_, err = k.BPFMapCreate(&api.BPFMapSpec{Type: api.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 1, Name: "much_too_long_a_name"})
	Want(t, err, api.EINVAL, "long name")
	_, err = k.BPFMapCreate(&api.BPFMapSpec{Type: api.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 1, Name: "bad name!"})
	Want(t, err, api.EINVAL, "bad characters in the name")
	_, err = k.BPFMapCreate(&api.BPFMapSpec{Type: api.BPFMapType(9999), KeySize: 4, ValueSize: 8, MaxEntries: 1})
	Want(t, err, api.EINVAL, "unknown map type")
	OK(t, m.Close())
	OK(t, m.Close(), "second close")
	Want(t, m.Update(smU32(m, 1), smU64(m, 1), api.BPF_ANY), api.EBADF, "update of a closed map")
	var zero api.BPFMap
	Want(t, zero.Lookup(nil, nil), api.EBADF, "lookup in a zero BPFMap")
	var nilMap *api.BPFMap
	Want(t, nilMap.Delete(nil), api.EBADF, "delete in a nil map")
}

func testBPFMapUpdate(t T, e *Env) {
	m := smBPFMap(t, e, api.BPFMapSpec{Type: api.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 8, MaxEntries: 2})
	OK(t, m.Update(smU32(m, 1), smU64(m, 100), api.BPF_ANY), "update, any")
	v := make([]byte, 8)
	OK(t, m.Lookup(smU32(m, 1), v))
	Eq(t, m.ByteOrder().Uint64(v), uint64(100), "value after update")
	Want(t, m.Update(smU32(m, 1), smU64(m, 1), api.BPF_NOEXIST), api.EEXIST, "NOEXIST on an existing key")
	Want(t, m.Update(smU32(m, 2), smU64(m, 1), api.BPF_EXIST), api.ENOENT, "EXIST on a missing key")
	OK(t, m.Update(smU32(m, 1), smU64(m, 101), api.BPF_EXIST), "EXIST on an existing key")
	OK(t, m.Update(smU32(m, 2), smU64(m, 200), api.BPF_NOEXIST), "NOEXIST on a new key")
	Want(t, m.Update(smU32(m, 3), smU64(m, 300), api.BPF_ANY), api.E2BIG, "a full hash map")
	OK(t, api.BPFMapUpdate(m, uint32(2), uint64(222), api.BPF_EXIST), "typed update")
	got, err := api.BPFMapLookup[uint32, uint64](m, 2)
	OK(t, err)
	Eq(t, got, uint64(222), "typed value")

	// Bad inputs: sizes, flags.
	Want(t, m.Update([]byte{1, 2}, smU64(m, 1), api.BPF_ANY), api.EINVAL, "short key")
	Want(t, m.Update(smU32(m, 1), []byte{1}, api.BPF_ANY), api.EINVAL, "short value")
	Want(t, api.BPFMapUpdate(m, uint64(1), uint64(1), api.BPF_ANY), api.EINVAL, "typed key of the wrong size")
	Want(t, api.BPFMapUpdate(m, uint32(1), uint32(1), api.BPF_ANY), api.EINVAL, "typed value of the wrong size")
	Want(t, m.Update(smU32(m, 1), smU64(m, 1), api.BPF_NOEXIST|api.BPF_EXIST), api.EINVAL, "NOEXIST|EXIST")
	Want(t, m.Update(smU32(m, 1), smU64(m, 1), api.BPFElemFlags(1<<40)), api.EINVAL, "unknown flag bits")
	fl, err := api.ParseBPFElemFlags("noexist")
	OK(t, err)
	Eq(t, fl, api.BPF_NOEXIST)

	// Arrays: every index exists; past the end is E2BIG.
	a := smBPFMap(t, e, api.BPFMapSpec{Type: api.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 4})
	OK(t, a.Update(smU32(a, 3), smU64(a, 33), api.BPF_ANY), "array update")
	Want(t, a.Update(smU32(a, 4), smU64(a, 1), api.BPF_ANY), api.E2BIG, "array index past the end")
	Want(t, a.Update(smU32(a, 0), smU64(a, 1), api.BPF_NOEXIST), api.EEXIST, "array elements always exist")
}

func testBPFMapLookup(t T, e *Env) {
	m := smBPFMap(t, e, api.BPFMapSpec{Type: api.BPF_MAP_TYPE_HASH, KeySize: 8, ValueSize: 16, MaxEntries: 8})
	type val struct {
		A uint32
		B uint32
		C uint64
	}
	OK(t, api.BPFMapUpdate(m, uint64(7), val{1, 2, 3}, api.BPF_ANY), "update a struct value")
	got, err := api.BPFMapLookup[uint64, val](m, 7)
	OK(t, err, "lookup a struct value")
	Eq(t, got, val{1, 2, 3})
	raw := make([]byte, 16)
	OK(t, m.Lookup(smU64(m, 7), raw), "raw lookup")
	Eq(t, m.ByteOrder().Uint32(raw[4:]), uint32(2), "layout in the kernel's byte order")
	Want(t, m.Lookup(smU64(m, 8), raw), api.ENOENT, "missing key")
	_, err = api.BPFMapLookup[uint64, val](m, 8)
	Want(t, err, api.ENOENT, "typed lookup of a missing key")
	Want(t, m.Lookup(smU64(m, 7), raw[:8]), api.EINVAL, "value buffer too small")
	Want(t, m.Lookup(nil, raw), api.EINVAL, "nil key")
	_, err = api.BPFMapLookup[uint64, uint64](m, 7)
	Want(t, err, api.EINVAL, "typed value of the wrong size")

	// Arrays start zeroed.
	a := smBPFMap(t, e, api.BPFMapSpec{Type: api.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 4, MaxEntries: 3})
	for i := uint32(0); i < 3; i++ {
		v, err := api.BPFMapLookup[uint32, uint32](a, i)
		OK(t, err, "array lookup %d", i)
		Eq(t, v, uint32(0), "array element %d is zero", i)
	}
	_, err = api.BPFMapLookup[uint32, uint32](a, 3)
	Want(t, err, api.ENOENT, "array index past the end")

	// Per-CPU arrays: one 8-aligned value per possible CPU.
	pc := smBPFMap(t, e, api.BPFMapSpec{Type: api.BPF_MAP_TYPE_PERCPU_ARRAY, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	True(t, pc.ValueBufSize() >= 8 && pc.ValueBufSize()%8 == 0, "per-CPU buffer %d", pc.ValueBufSize())
	if smIsHost(e) {
		b, err := os.ReadFile("/sys/devices/system/cpu/possible")
		OK(t, err)
		n := 0
		for _, r := range strings.Split(strings.TrimSpace(string(b)), ",") {
			lo, hi, isRange := strings.Cut(r, "-")
			a, _ := strconv.Atoi(lo)
			z := a
			if isRange {
				z, _ = strconv.Atoi(hi)
			}
			n += z - a + 1
		}
		Eq(t, pc.ValueBufSize(), 8*n, "8 bytes for each of %d possible CPUs", n)
	}
	buf := make([]byte, pc.ValueBufSize())
	for i := 0; i < len(buf); i += 8 {
		pc.ByteOrder().PutUint32(buf[i:], uint32(i/8+1))
	}
	OK(t, pc.Update(smU32(pc, 0), buf, api.BPF_ANY), "per-CPU update")
	out := make([]byte, pc.ValueBufSize())
	OK(t, pc.Lookup(smU32(pc, 0), out), "per-CPU lookup")
	for i := 0; i < len(out); i += 8 {
		Eq(t, pc.ByteOrder().Uint32(out[i:]), uint32(i/8+1), "CPU %d's value", i/8)
	}
	Want(t, pc.Lookup(smU32(pc, 0), out[:4]), api.EINVAL, "a single value's buffer is too small for a per-CPU map")
}

func testBPFMapDelete(t T, e *Env) {
	m := smBPFMap(t, e, api.BPFMapSpec{Type: api.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 4, MaxEntries: 4})
	OK(t, api.BPFMapUpdate(m, uint32(1), uint32(10), api.BPF_ANY))
	OK(t, api.BPFMapUpdate(m, uint32(2), uint32(20), api.BPF_ANY))
	OK(t, m.Delete(smU32(m, 1)), "delete")
	_, err := api.BPFMapLookup[uint32, uint32](m, 1)
	Want(t, err, api.ENOENT, "deleted key is gone")
	v, err := api.BPFMapLookup[uint32, uint32](m, 2)
	OK(t, err, "the other key stays")
	Eq(t, v, uint32(20))
	Want(t, m.Delete(smU32(m, 1)), api.ENOENT, "delete of a missing key")
	OK(t, api.BPFMapDelete(m, uint32(2)), "typed delete")
	Want(t, api.BPFMapDelete(m, uint16(2)), api.EINVAL, "typed key of the wrong size")
	Want(t, m.Delete([]byte{1}), api.EINVAL, "short key")
	a := smBPFMap(t, e, api.BPFMapSpec{Type: api.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 4, MaxEntries: 2})
	Want(t, a.Delete(smU32(a, 0)), api.EINVAL, "array elements cannot be deleted")
	OK(t, m.Close())
	Want(t, m.Delete(smU32(m, 2)), api.EBADF, "delete on a closed map")
}

func testBPFMapNextKey(t T, e *Env) {
	m := smBPFMap(t, e, api.BPFMapSpec{Type: api.BPF_MAP_TYPE_HASH, KeySize: 4, ValueSize: 4, MaxEntries: 16})
	next := make([]byte, 4)
	Want(t, m.NextKey(nil, next), api.ENOENT, "first key of an empty map")
	want := []uint32{3, 14, 15, 92, 65}
	for _, k := range want {
		OK(t, api.BPFMapUpdate(m, k, k*2, api.BPF_ANY))
	}
	var got []uint32
	for key, err := range m.Keys() {
		OK(t, err, "Keys")
		got = append(got, m.ByteOrder().Uint32(key))
	}
	slices.Sort(got)
	w := slices.Clone(want)
	slices.Sort(w)
	Eq(t, fmt.Sprint(got), fmt.Sprint(w), "every key once")
	// By hand: first, then each next, ENOENT after the last.
	n := 0
	var cur []byte
	for {
		err := m.NextKey(cur, next)
		if errors.Is(err, api.ENOENT) {
			break
		}
		OK(t, err, "NextKey")
		cur = slices.Clone(next)
		n++
		True(t, n <= len(want), "NextKey does not end")
	}
	Eq(t, n, len(want), "keys walked")
	// Breaking out of Keys stops it.
	c := 0
	for range m.Keys() {
		c++
		break
	}
	Eq(t, c, 1)
	Want(t, m.NextKey(nil, next[:2]), api.EINVAL, "short next buffer")

	// An array's keys are its indexes, in order.
	a := smBPFMap(t, e, api.BPFMapSpec{Type: api.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 4, MaxEntries: 3})
	var idx []uint32
	for key, err := range a.Keys() {
		OK(t, err)
		idx = append(idx, a.ByteOrder().Uint32(key))
	}
	Eq(t, fmt.Sprint(idx), "[0 1 2]", "array keys")
}

// smBPFDropAll is a socket filter that keeps no byte of any packet.
func smBPFDropAll() []api.BPFInsn {
	return []api.BPFInsn{api.BPFMovImm(api.BPF_REG_0, 0), api.BPFExit()}
}

// smBPFCount is a socket filter that adds one to element 0 of the array
// map m for each packet and keeps the packet whole.
func smBPFCount(m *api.BPFMap) []api.BPFInsn {
	return []api.BPFInsn{
		api.BPFStMem(api.BPF_W, api.BPF_REG_10, -4, 0), // key = 0, on the stack
		api.BPFMovReg(api.BPF_REG_2, api.BPF_REG_10),
		api.BPFAluImm(api.BPF_ADD, api.BPF_REG_2, -4), // r2 = &key
		api.BPFLdMap(api.BPF_REG_1, m),                // r1 = map
		api.BPFCall(api.BPF_FUNC_map_lookup_elem),     // r0 = &value or NULL
		api.BPFJmpImm(api.BPF_JEQ, api.BPF_REG_0, 0, 2),
		api.BPFMovImm(api.BPF_REG_1, 1),
		api.BPFAtomicAdd(api.BPF_DW, api.BPF_REG_0, api.BPF_REG_1, 0), // value += 1
		api.BPFMovImm(api.BPF_REG_0, -1),                              // keep all of the packet
		api.BPFExit(),
	}
}

func smBPFProg(t T, e *Env, spec api.BPFProgSpec) *api.BPFProg {
	t.Helper()
	p, err := e.K.BPFProgLoad(&spec)
	if errors.Is(err, api.EPERM) {
		t.Skipf("BPF_PROG_LOAD refused (EPERM), euid %d", e.K.Geteuid())
	}
	OK(t, err, "BPFProgLoad")
	t.Cleanup(func() { p.Close() })
	return p
}

func testBPFProgLoad(t T, e *Env) {
	k := e.K
	// Skip early, with the reason, where BPF is not allowed at all.
	smBPFMap(t, e, api.BPFMapSpec{Type: api.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	p := smBPFProg(t, e, api.BPFProgSpec{Type: api.BPF_PROG_TYPE_SOCKET_FILTER, Insns: smBPFDropAll(), License: "GPL", Name: "ak_drop"})
	Eq(t, p.Type(), api.BPF_PROG_TYPE_SOCKET_FILTER)
	Eq(t, p.Log, "", "no log unless asked")
	if smIsHost(e) {
		info := smFdinfo(t, p.Fd())
		Eq(t, info["prog_type"], strconv.Itoa(int(api.BPF_PROG_TYPE_SOCKET_FILTER)), "fdinfo prog_type")
	}
	// With a log: the verifier's account of a good program.
	m := smBPFMap(t, e, api.BPFMapSpec{Type: api.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	c := smBPFProg(t, e, api.BPFProgSpec{Type: api.BPF_PROG_TYPE_SOCKET_FILTER, Insns: smBPFCount(m), License: "GPL", LogLevel: 1})
	True(t, strings.Contains(c.Log, "processed"), "verifier log of a good program: %q", c.Log)
	Eq(t, api.BPFLdMap(api.BPF_REG_1, m).Slots(), 2, "a map load takes two slots")

	// A bad program: r0 never set. The error carries the verifier's log.
	_, err := k.BPFProgLoad(&api.BPFProgSpec{Type: api.BPF_PROG_TYPE_SOCKET_FILTER, Insns: []api.BPFInsn{api.BPFExit()}, License: "GPL"})
	var ve *api.BPFVerifierError
	True(t, errors.As(err, &ve), "a *BPFVerifierError: %v", err)
	Want(t, err, api.EACCES, "verifier refusal")
	True(t, strings.Contains(ve.Log, "R0 !read_ok"), "the log says why: %q", ve.Log)
	True(t, strings.Contains(err.Error(), "R0 !read_ok"), "the error message quotes the log: %v", err)
	// A jump out of the program.
	_, err = k.BPFProgLoad(&api.BPFProgSpec{Type: api.BPF_PROG_TYPE_SOCKET_FILTER, Insns: []api.BPFInsn{api.BPFJa(5), api.BPFMovImm(api.BPF_REG_0, 0), api.BPFExit()}})
	True(t, errors.As(err, &ve) && ve.Log != "", "a jump out of range is refused with a log: %v", err)
	// A GPL-only helper without a GPL license.
	_, err = k.BPFProgLoad(&api.BPFProgSpec{Type: api.BPF_PROG_TYPE_SOCKET_FILTER, Insns: []api.BPFInsn{
		api.BPFCall(api.BPF_FUNC_trace_printk), api.BPFMovImm(api.BPF_REG_0, 0), api.BPFExit(),
	}, License: "Proprietary"})
	True(t, err != nil, "trace_printk without a GPL license is refused")

	// Bad inputs.
	_, err = k.BPFProgLoad(nil)
	Want(t, err, api.EINVAL, "nil spec")
	_, err = k.BPFProgLoad(&api.BPFProgSpec{Type: api.BPF_PROG_TYPE_SOCKET_FILTER})
	Want(t, err, api.EINVAL, "no instructions")
	_, err = k.BPFProgLoad(&api.BPFProgSpec{Type: api.BPF_PROG_TYPE_SOCKET_FILTER, Insns: []api.BPFInsn{{Op: api.BPFMovImm(0, 0).Op, Imm: 1 << 40}, api.BPFExit()}})
	Want(t, err, api.EINVAL, "immediate wider than 32 bits")
	_, err = k.BPFProgLoad(&api.BPFProgSpec{Type: api.BPF_PROG_TYPE_SOCKET_FILTER, Insns: smBPFDropAll(), License: "G\x00PL"})
	Want(t, err, api.EINVAL, "NUL in the license")
	_, err = k.BPFProgLoad(&api.BPFProgSpec{Type: api.BPF_PROG_TYPE_SOCKET_FILTER, Insns: smBPFDropAll(), LogSize: -1})
	Want(t, err, api.EINVAL, "negative log size")
	closed, err := k.BPFMapCreate(&api.BPFMapSpec{Type: api.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	OK(t, err)
	OK(t, closed.Close())
	_, err = k.BPFProgLoad(&api.BPFProgSpec{Type: api.BPF_PROG_TYPE_SOCKET_FILTER, Insns: smBPFCount(closed), License: "GPL"})
	Want(t, err, api.EBADF, "a program naming a closed map")
	OK(t, p.Close())
	OK(t, p.Close(), "second close")
}

// smUDP opens a non-blocking UDP socket on 127.0.0.1 and returns its
// address.
func smUDP(t T, e *Env) (*api.Fd, api.SockaddrInet4) {
	t.Helper()
	f, err := e.K.Socket(api.AF_INET, api.SOCK_DGRAM, api.SOCK_CLOEXEC|api.SOCK_NONBLOCK, 0)
	OK(t, err, "UDP socket")
	t.Cleanup(func() { f.Close() })
	OK(t, f.Bind(&api.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}), "bind 127.0.0.1")
	sa, err := f.Getsockname()
	OK(t, err)
	a, ok := sa.(*api.SockaddrInet4)
	if !ok {
		v, ok2 := sa.(api.SockaddrInet4)
		True(t, ok2, "an IPv4 address: %T", sa)
		return f, v
	}
	return f, *a
}

// smRecvAll reads the datagrams that arrive at f within 200 ms.
func smRecvAll(t T, e *Env, f *api.Fd, want int) []string {
	t.Helper()
	var got []string
	buf := make([]byte, 64)
	for len(got) < want {
		n, err := e.K.Poll([]api.PollFd{{Fd: f, Events: api.POLLIN}}, 200)
		OK(t, err, "poll")
		if n == 0 {
			break
		}
		m, err := f.Recv(buf, 0)
		if errors.Is(err, api.EAGAIN) {
			continue
		}
		OK(t, err, "recv")
		got = append(got, string(buf[:m]))
	}
	return got
}

func testBPFAttachSocket(t T, e *Env) {
	k := e.K
	smBPFMap(t, e, api.BPFMapSpec{Type: api.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	tx, _ := smUDP(t, e)

	// A filter that drops everything: nothing arrives.
	rx, rxAddr := smUDP(t, e)
	drop := smBPFProg(t, e, api.BPFProgSpec{Type: api.BPF_PROG_TYPE_SOCKET_FILTER, Insns: smBPFDropAll(), License: "GPL"})
	OK(t, drop.AttachSocket(rx), "SO_ATTACH_BPF")
	for i := 0; i < 3; i++ {
		_, err := tx.Sendto([]byte("dropped "+strconv.Itoa(i)), 0, rxAddr)
		OK(t, err, "sendto")
	}
	got := smRecvAll(t, e, rx, 1)
	Eq(t, len(got), 0, "datagrams through a drop-all filter: %q", got)
	_, err := rx.Recv(make([]byte, 8), 0)
	Want(t, err, api.EAGAIN, "nothing queued")
	// Detached, datagrams flow again.
	OK(t, k.BPFDetachSocket(rx), "SO_DETACH_BPF")
	_, err = tx.Sendto([]byte("after detach"), 0, rxAddr)
	OK(t, err)
	got = smRecvAll(t, e, rx, 1)
	Eq(t, strings.Join(got, ","), "after detach", "datagram after detaching")
	Want(t, k.BPFDetachSocket(rx), api.ENOENT, "detach without a filter")

	// A counting filter: every datagram arrives, and the map counts them.
	m := smBPFMap(t, e, api.BPFMapSpec{Type: api.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	cnt := smBPFProg(t, e, api.BPFProgSpec{Type: api.BPF_PROG_TYPE_SOCKET_FILTER, Insns: smBPFCount(m), License: "GPL", Name: "ak_count"})
	rx2, rx2Addr := smUDP(t, e)
	OK(t, cnt.AttachSocket(rx2), "attach the counter")
	// The program outlives its descriptor while attached.
	OK(t, cnt.Close())
	const n = 5
	for i := 0; i < n; i++ {
		_, err := tx.Sendto([]byte("counted "+strconv.Itoa(i)), 0, rx2Addr)
		OK(t, err, "sendto")
	}
	got = smRecvAll(t, e, rx2, n)
	Eq(t, len(got), n, "datagrams through the counting filter: %q", got)
	Eq(t, got[0], "counted 0", "whole datagram kept")
	c, err := api.BPFMapLookup[uint32, uint64](m, 0)
	OK(t, err, "read the count")
	Eq(t, c, uint64(n), "packets counted by the program")

	// Bad inputs.
	Want(t, drop.AttachSocket(nil), api.EBADF, "attach to nil")
	f := CreateFile(t, e, "notasocket", nil)
	nf, err := k.Open(f, api.O_RDONLY|api.O_CLOEXEC, 0)
	OK(t, err)
	defer nf.Close()
	Want(t, drop.AttachSocket(nf), api.ENOTSOCK, "attach to a file")
	OK(t, drop.Close())
	Want(t, drop.AttachSocket(rx), api.EBADF, "attach a closed program")
	mp := smBPFMap(t, e, api.BPFMapSpec{Type: api.BPF_MAP_TYPE_ARRAY, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	// A map's descriptor is no program.
	err = rx.SetsockoptInt(api.RawSockOpt{Level: api.SOL_SOCKET, Name: smConst(t, e, "SO_ATTACH_BPF")}, mp.Fd().Num())
	Want(t, err, api.EINVAL, "SO_ATTACH_BPF with a map descriptor")
}

// smConst reads a constant of the kernel's ABI.
func smConst(t T, e *Env, name string) int {
	t.Helper()
	v, ok := e.K.Const(name)
	if !ok {
		t.Skipf("%sthe ABI has no %s", NoSysPrefix, name)
	}
	return int(v)
}
