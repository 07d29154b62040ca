package rump

import (
	"encoding/binary"
	"fmt"
	"runtime"
)

// Loading a rump kernel with one dlopen per library gets symbol
// interposition backwards. A program linked with rump's libraries lists
// components before the libraries they build on (-lrumpfs_tmpfs
// -lrumpvfs -lrump), and rump relies on that order: a component defines
// again symbols its base stubs out (librumpvfs_fifofs replaces librumpvfs's
// fifo_vnodeop_*, librumpkern_tty librump's tty_lock, librumpnet_shmif
// librumpnet's rump_shmif_create), and the first definition in the search
// order wins. Libraries opened one by one, bases first (as they must be,
// each needing the previous), put the stubs first.
//
// So New writes an "umbrella": an empty shared object whose DT_NEEDED
// entries name the libraries in link order, and opens it once. The dynamic
// loader then loads and binds them as it would for a linked program. The
// object has no code and no symbols; umbrellaELF builds it.

// umbrellaELF returns a minimal ELF shared object for the host's
// architecture whose only content is DT_NEEDED entries for needed (paths
// or sonames), in order.
func umbrellaELF(needed []string) ([]byte, error) {
	var machine uint16
	switch runtime.GOARCH {
	case "amd64":
		machine = 62 // EM_X86_64
	case "arm64":
		machine = 183 // EM_AARCH64
	default:
		return nil, fmt.Errorf("rump: no umbrella object for %s", runtime.GOARCH)
	}
	le := binary.LittleEndian
	const (
		ehSize  = 64
		phSize  = 56
		phNum   = 3
		dynEnt  = 16
		symSize = 24
	)
	// String table: NUL, then the names.
	str := []byte{0}
	var nameOff []uint64
	for _, n := range needed {
		nameOff = append(nameOff, uint64(len(str)))
		str = append(str, n...)
		str = append(str, 0)
	}
	dynOff := uint64(ehSize + phSize*phNum)
	dynNum := uint64(len(needed) + 6) // NEEDED..., HASH, STRTAB, SYMTAB, STRSZ, SYMENT, NULL
	symOff := dynOff + dynNum*dynEnt
	hashOff := symOff + symSize // one null symbol
	strOff := hashOff + 16      // nbucket=1, nchain=1, bucket[0]=0, chain[0]=0
	size := strOff + uint64(len(str))
	b := make([]byte, size)

	// ELF header.
	copy(b, []byte{0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* little-endian */, 1 /* EV_CURRENT */})
	le.PutUint16(b[16:], 3) // ET_DYN
	le.PutUint16(b[18:], machine)
	le.PutUint32(b[20:], 1)      // e_version
	le.PutUint64(b[32:], ehSize) // e_phoff
	le.PutUint16(b[52:], ehSize) // e_ehsize
	le.PutUint16(b[54:], phSize) // e_phentsize
	le.PutUint16(b[56:], phNum)  // e_phnum
	le.PutUint16(b[58:], 64)     // e_shentsize (no sections)
	ph := func(i int, typ, flags uint32, off, filesz, align uint64) {
		p := b[ehSize+i*phSize:]
		le.PutUint32(p[0:], typ)
		le.PutUint32(p[4:], flags)
		le.PutUint64(p[8:], off)     // p_offset
		le.PutUint64(p[16:], off)    // p_vaddr
		le.PutUint64(p[24:], off)    // p_paddr
		le.PutUint64(p[32:], filesz) // p_filesz
		le.PutUint64(p[40:], filesz) // p_memsz
		le.PutUint64(p[48:], align)
	}
	const pfR, pfW = 4, 2
	ph(0, 1 /* PT_LOAD */, pfR|pfW, 0, size, 0x1000)
	ph(1, 2 /* PT_DYNAMIC */, pfR|pfW, dynOff, dynNum*dynEnt, 8)
	ph(2, 0x6474e551 /* PT_GNU_STACK */, pfR|pfW, 0, 0, 16) // no executable stack

	d := b[dynOff:]
	put := func(tag, val uint64) {
		le.PutUint64(d[0:], tag)
		le.PutUint64(d[8:], val)
		d = d[dynEnt:]
	}
	for _, o := range nameOff {
		put(1 /* DT_NEEDED */, o)
	}
	put(4 /* DT_HASH */, hashOff)
	put(5 /* DT_STRTAB */, strOff)
	put(6 /* DT_SYMTAB */, symOff)
	put(10 /* DT_STRSZ */, uint64(len(str)))
	put(11 /* DT_SYMENT */, symSize)
	put(0 /* DT_NULL */, 0)

	le.PutUint32(b[hashOff:], 1)   // nbucket
	le.PutUint32(b[hashOff+4:], 1) // nchain
	copy(b[strOff:], str)
	return b, nil
}
