package api

import (
	"testing"

	"github.com/anykernel/anykernel/abi"
)

// TestSplitArgs checks the slot layouts of the 32-bit targets this host
// cannot run (arm, mips) against x/sys/unix's hand-written wrappers for
// them; 386's is also exercised for real by the tests at offsets above
// 4 GiB.
func TestSplitArgs(t *testing.T) {
	const w, v = 0x1_4000_307b, 0x2_0000_0005 // hi 1, lo 0x4000307b; hi 2, lo 5
	cases := []struct {
		name   string
		mode   abi.Arg64
		be     bool
		pad    int
		p1, p2 int
		a      [5]uintptr
		want   [6]uintptr
	}{
		{"386 pread64", abi.Arg64Pair, false, -1, 3, noArg64, [5]uintptr{7, 8, 9}, [6]uintptr{7, 8, 9, 0x4000307b, 1, 0}},
		{"arm pread64", abi.Arg64AlignedPair, false, -1, 3, noArg64, [5]uintptr{7, 8, 9}, [6]uintptr{7, 8, 9, 0, 0x4000307b, 1}},
		{"mips pread64", abi.Arg64AlignedPair, true, -1, 3, noArg64, [5]uintptr{7, 8, 9}, [6]uintptr{7, 8, 9, 0, 1, 0x4000307b}},
		{"arm ftruncate64", abi.Arg64AlignedPair, false, -1, 1, noArg64, [5]uintptr{7}, [6]uintptr{7, 0, 0x4000307b, 1}},
		{"386 ftruncate64", abi.Arg64Pair, false, -1, 1, noArg64, [5]uintptr{7}, [6]uintptr{7, 0x4000307b, 1}},
		{"arm fallocate", abi.Arg64AlignedPair, false, -1, 2, 3, [5]uintptr{7, 1}, [6]uintptr{7, 1, 0x4000307b, 1, 5, 2}},
		{"386 fadvise64_64", abi.Arg64Pair, false, -1, 1, 2, [5]uintptr{7, 4}, [6]uintptr{7, 0x4000307b, 1, 5, 2, 4}},
		{"arm arm_fadvise64_64", abi.Arg64AlignedPair, false, -1, 2, 3, [5]uintptr{7, 4}, [6]uintptr{7, 4, 0x4000307b, 1, 5, 2}},
		// NetBSD's PAD words come before the split: on arm the pair after
		// one is aligned already.
		{"netbsd/arm pread", abi.Arg64AlignedPair, false, 3, 3, noArg64, [5]uintptr{7, 8, 9}, [6]uintptr{7, 8, 9, 0, 0x4000307b, 1}},
		{"netbsd/arm lseek", abi.Arg64AlignedPair, false, 1, 1, noArg64, [5]uintptr{7, 2}, [6]uintptr{7, 0, 0x4000307b, 1, 2}},
		{"netbsd/386 ftruncate", abi.Arg64Pair, false, 1, 1, noArg64, [5]uintptr{7}, [6]uintptr{7, 0, 0x4000307b, 1}},
	}
	for _, c := range cases {
		var s [6]uintptr
		a := c.a
		if ok := splitArgs(&s, c.mode, c.be, c.pad, c.p1, c.p2, w, v, &a); !ok || s != c.want {
			t.Errorf("%s: %v, slots %#x, want %#x", c.name, ok, s, c.want)
		}
	}
	// mips o32's fadvise64(fd, off, len, advice) needs a seventh slot for
	// the advice after the aligned pairs: refused, not truncated.
	var s [6]uintptr
	a := [5]uintptr{7, 4}
	if splitArgs(&s, abi.Arg64AlignedPair, true, -1, 1, 2, w, v, &a) {
		t.Errorf("mips fadvise64: slots %#x accepted, want a refusal (seven slots)", s)
	}
}
