package api

import "github.com/anykernel/anykernel/abi"

// ptr64 is true on 64-bit targets: a 64-bit syscall argument (off_t,
// loff_t, u64) is one slot there, and the splitting below compiles away.
const ptr64 = ^uintptr(0)>>63 == 1

// noArg64 is syscallW's position for "no second 64-bit value".
const noArg64 = -1

// syscallW makes call c whose C argument list holds the 64-bit value w1 at
// position p1 (0-based) and w2 at p2 (or noArg64), with a1..a5 filling the
// other positions in order. On 32-bit targets each value takes two slots
// the way the table's Arg64 says: an even/odd pair when aligned (an unused
// slot before it when it would start on an odd one), high word first on
// big-endian targets. A split that needs more than the six slots a Backend
// carries (mips o32's padded fadvise64) answers ENOSYS.
//
// nosplit, as syscall: a1..a5 may be addresses into the caller's stack.
//
//go:nosplit
func (k *Kernel) syscallW(c call, p1, p2 int, w1, w2 uint64, a1, a2, a3, a4, a5 uintptr) (uintptr, Errno) {
	a := [5]uintptr{a1, a2, a3, a4, a5}
	var s [6]uintptr
	if ptr64 {
		j := 0
		for i := range s {
			switch i {
			case p1:
				s[i] = uintptr(w1)
			case p2:
				s[i] = uintptr(w2)
			default:
				if j < len(a) {
					s[i] = a[j]
					j++
				}
			}
		}
		return k.syscall(c, s[0], s[1], s[2], s[3], s[4], s[5])
	}
	// A NetBSD PAD slot (syscallPads) is an argument of its own here,
	// laid out before the split so that an aligned pair after it lands
	// where the kernel's argument struct has it.
	nr, pad := k.nr[c], -1
	if nr >= padMark && nr != noSyscall {
		nr, pad = nr&(padMark-1), int(nr>>padShift)-1
	}
	if !splitArgs(&s, k.table.Arg64, k.table.BigEndian, pad, p1, p2, w1, w2, &a) {
		return 0, ENOSYS
	}
	if pad < 0 {
		return k.syscall(c, s[0], s[1], s[2], s[3], s[4], s[5])
	}
	r, _, e := k.b.Syscall(nr, s[0], s[1], s[2], s[3], s[4], s[5])
	if e != 0 {
		return r, k.errno(e)
	}
	return r, 0
}

// splitArgs lays out a 32-bit target's argument slots for syscallW into s:
// C arguments in order, with the values at p1 and p2 split per mode and,
// when pad >= 0, a zero word (NetBSD's "int PAD") as argument number pad
// of the padded list, p1 and p2 counting without it. It
// reports false when a nonzero argument would land beyond the sixth slot.
//
//go:nosplit
func splitArgs(s *[6]uintptr, mode abi.Arg64, be bool, pad, p1, p2 int, w1, w2 uint64, a *[5]uintptr) bool {
	var slots [14]uintptr // 5 words, a pad and two aligned pairs fit
	n, j := 0, 0
	for i := 0; i < 8; i++ {
		if i == pad {
			n++ // the PAD word, zero
			continue
		}
		ai := i // the argument's position in api's list, without the pad
		if pad >= 0 && i > pad {
			ai--
		}
		var w uint64
		switch ai {
		case p1:
			w = w1
		case p2:
			w = w2
		default:
			if j < len(a) {
				slots[n] = a[j]
				j++
			}
			n++
			continue
		}
		if mode == abi.Arg64AlignedPair && n%2 == 1 {
			n++ // the unused slot that aligns the pair
		}
		lo, hi := uintptr(uint32(w)), uintptr(w>>32)
		if be {
			lo, hi = hi, lo
		}
		slots[n], slots[n+1] = lo, hi
		n += 2
	}
	for i := len(s); i < len(slots); i++ {
		if slots[i] != 0 {
			return false
		}
	}
	copy(s[:], slots[:])
	return true
}
