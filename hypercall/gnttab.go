package hypercall

import (
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/anykernel/anykernel/api"
)

// GrantRef names an entry of the grant table; another domain maps the
// granted frame by (our domain id, ref).
type GrantRef uint32

// GrantTable hands out version 1 grant entries: Grant lets one domain
// map one of our frames, End takes the permission back. The first
// GrantReservedEntries entries belong to the toolstack (the console and
// xenstore rings) and are never handed out.
//
// Entries live in frames Xen shares with us; Xen sets GTF_reading and
// GTF_writing in them while the other domain has the frame mapped, so
// every access is atomic. An entry's flags and domid share one 4-byte
// word, which is how they are read and written.
type GrantTable struct {
	entries []GrantEntryV1

	mu   sync.Mutex
	free []GrantRef // stack of free references
}

// NewGrantTable manages the grant entries in entries (the mapped grant
// frames).
func NewGrantTable(entries []GrantEntryV1) *GrantTable {
	g := &GrantTable{entries: entries}
	for r := len(entries) - 1; r >= GrantReservedEntries; r-- {
		g.free = append(g.free, GrantRef(r))
	}
	return g
}

// word0 is the entry's flags (low half) and domid (high half).
func (g *GrantTable) word0(ref GrantRef) *uint32 {
	return (*uint32)(unsafe.Pointer(&g.entries[ref].Flags))
}

// Len returns the number of entries, reserved ones included.
func (g *GrantTable) Len() int { return len(g.entries) }

// Free returns how many references Grant can still hand out.
func (g *GrantTable) Free() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.free)
}

// Grant lets domain d map guest frame gfn (read-only when readonly) and
// returns the reference to pass to it. api.ENOSPC means every entry is in
// use; a frame number beyond 32 bits is api.EINVAL (version 1 entries
// hold 32).
func (g *GrantTable) Grant(d DomID, gfn uint64, readonly bool) (GrantRef, error) {
	if gfn > 0xffffffff {
		return 0, fmt.Errorf("grant: frame %#x beyond version 1's 32 bits: %w", gfn, api.EINVAL)
	}
	g.mu.Lock()
	if len(g.free) == 0 {
		g.mu.Unlock()
		return 0, fmt.Errorf("grant: all %d entries in use: %w", len(g.entries), api.ENOSPC)
	}
	ref := g.free[len(g.free)-1]
	g.free = g.free[:len(g.free)-1]
	g.mu.Unlock()
	flags := uint32(gtfPermitAccess)
	if readonly {
		flags |= gtfReadonly
	}
	// Frame first; flags last, and atomically with the domid: Xen looks
	// at nothing else before it sees GTF_permit_access.
	atomic.StoreUint32(&g.entries[ref].Frame, uint32(gfn))
	atomic.StoreUint32(g.word0(ref), flags|uint32(d)<<16)
	return ref, nil
}

// End takes back the permission granted by ref. It fails with api.EBUSY
// while the other domain has the frame mapped (GTF_reading or
// GTF_writing): it must unmap first, then End again. An unknown or
// reserved ref, or one not granted, is api.EINVAL.
func (g *GrantTable) End(ref GrantRef) error {
	if int(ref) >= len(g.entries) || ref < GrantReservedEntries {
		return fmt.Errorf("grant: end access of ref %d: %w", ref, api.EINVAL)
	}
	w := g.word0(ref)
	for {
		old := atomic.LoadUint32(w)
		if old&gtfTypeMask != gtfPermitAccess {
			return fmt.Errorf("grant: end access of ref %d: not granted: %w", ref, api.EINVAL)
		}
		if old&(gtfReading|gtfWriting) != 0 {
			return fmt.Errorf("grant: end access of ref %d: still mapped: %w", ref, api.EBUSY)
		}
		if atomic.CompareAndSwapUint32(w, old, old&0xffff0000) {
			break
		}
	}
	g.mu.Lock()
	g.free = append(g.free, ref)
	g.mu.Unlock()
	return nil
}

// Entry returns the current contents of entry ref.
func (g *GrantTable) Entry(ref GrantRef) (flags uint16, d DomID, frame uint32, err error) {
	if int(ref) >= len(g.entries) {
		return 0, 0, 0, fmt.Errorf("grant: ref %d of %d: %w", ref, len(g.entries), api.EINVAL)
	}
	w := atomic.LoadUint32(g.word0(ref))
	return uint16(w), DomID(w >> 16), atomic.LoadUint32(&g.entries[ref].Frame), nil
}
