package hypercall

// Identity is what Xen's CPUID leaves (arch-x86/cpuid.h) say about the
// hypervisor and this domain.
type Identity struct {
	// Base is Xen's first CPUID leaf: 0x40000000, or a later multiple of
	// 0x100 when Viridian leaves come first.
	Base uint32
	// Major and Minor are Xen's version (leaf Base+1: "4.17").
	Major, Minor int
	// HypercallPages and HypercallMSR (leaf Base+2): how many hypercall
	// pages there are and the MSR whose write fills one at a guest frame.
	HypercallPages uint32
	HypercallMSR   uint32
	// TSCKHz is the guest's time stamp counter frequency (leaf Base+3,
	// sub-leaf 0), 0 when Xen does not say.
	TSCKHz uint32
	// DomID is this domain's id (the HVM leaf Base+4, when HasDomID).
	DomID    DomID
	HasDomID bool
}

// cpuidFunc executes CPUID for a leaf and sub-leaf.
type cpuidFunc func(leaf, sub uint32) (a, b, c, d uint32)

// identify looks for Xen's signature ("XenVMMXenVMM") in the hypervisor
// leaves and reads the leaves after it. It reports false when there is no
// Xen, or too few leaves for the hypercall page.
func identify(cpuid cpuidFunc) (Identity, bool) {
	for base := uint32(cpuidFirstLeaf); base < cpuidFirstLeaf+0x10000; base += 0x100 {
		max, b, c, d := cpuid(base, 0)
		if b != cpuidSignatureB || c != cpuidSignatureC || d != cpuidSignatureD || max < base+2 {
			continue
		}
		id := Identity{Base: base}
		v, _, _, _ := cpuid(base+1, 0)
		id.Major, id.Minor = int(v>>16), int(v&0xffff)
		id.HypercallPages, id.HypercallMSR, _, _ = cpuid(base+2, 0)
		if max >= base+3 {
			_, _, id.TSCKHz, _ = cpuid(base+3, 0)
		}
		if max >= base+4 {
			flags, _, domid, _ := cpuid(base+4, 0)
			if flags&cpuidDomIDPresent != 0 {
				id.DomID, id.HasDomID = DomID(domid), true
			}
		}
		return id, true
	}
	return Identity{}, false
}
