//go:build xen

package xen

import "golang.org/x/sys/cpu"

// rdrand and rdseed run the instructions; ok is the carry flag (false when
// the CPU had no random number ready).
func rdrand() (v uint64, ok bool)
func rdseed() (v uint64, ok bool)

var hasRdrand, hasRdseed = cpu.X86.HasRDRAND, cpu.X86.HasRDSEED

// hwRandom fills p from the CPU: RDSEED (full entropy) when seed is set and
// the CPU has it, else RDRAND. It reports false if the CPU has neither or
// keeps failing, so the caller falls back to the platform.
func hwRandom(p []byte, seed bool) bool {
	get, usingSeed := rdrand, false
	switch {
	case seed && hasRdseed:
		get, usingSeed = rdseed, true
	case hasRdrand:
	default:
		return false
	}
	for len(p) > 0 {
		var v uint64
		ok := false
		for try := 0; try < 32 && !ok; try++ {
			v, ok = get()
		}
		if !ok {
			if usingSeed && hasRdrand {
				get, usingSeed = rdrand, false
				continue
			}
			return false
		}
		for i := 0; i < 8 && len(p) > 0; i++ {
			p[0] = byte(v >> (8 * i))
			p = p[1:]
		}
	}
	return true
}
