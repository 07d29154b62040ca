// Package pvh wraps a static linux/amd64 ELF program (typically a stock
// Go binary built with CGO_ENABLED=0) and the boot shim into one ELF image
// with a Xen PVH entry note, bootable as a Xen PVH domU (xl create,
// type="pvh") and under qemu -kernel.
//
// The image holds the shim's segments (linked at 1 MiB), the program's
// PT_LOAD segments at their own addresses, and a small descriptor patched
// into the shim (entry point, segments, end of image). The loader (Xen or
// QEMU) places every segment; the shim only builds the Linux initial
// stack and jumps to the entry point.
package pvh

import (
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/anykernel/anykernel/build/shim"
)

const (
	payloadMagic = 0x64616f6c79617041 // "Apayload", see shim.h
	maxSegs      = 8
	// maxAddr bounds the program's segments: they must sit in RAM that
	// every supported guest size has, well inside the identity map.
	maxAddr = 48 << 20
	// xenElfnotePhys32Entry is XEN_ELFNOTE_PHYS32_ENTRY from xen/elfnote.h.
	xenElfnotePhys32Entry = 18
)

// Segment is one loadable range of the image.
type Segment struct {
	Vaddr, Memsz uint64
	Flags        elf.ProgFlag
	Data         []byte // file contents, len(Data) <= Memsz
}

// Shim is a compiled shim: its segments and the symbols the builder needs.
type Shim struct {
	Segs    []Segment
	Entry32 uint64 // pvh_entry
	Payload uint64 // address of struct payload
	End     uint64 // __shim_end
}

// LoadShim reads a compiled shim ELF (see shim.Build).
func LoadShim(path string) (*Shim, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("shim %s: %w", path, err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return nil, fmt.Errorf("shim %s: symbols: %w", path, err)
	}
	s := &Shim{}
	for _, sym := range syms {
		switch sym.Name {
		case "pvh_entry":
			s.Entry32 = sym.Value
		case "shim_payload":
			s.Payload = sym.Value
		case "__shim_end":
			s.End = sym.Value
		}
	}
	if s.Entry32 == 0 || s.Payload == 0 || s.End == 0 {
		return nil, fmt.Errorf("shim %s: missing pvh_entry, shim_payload or __shim_end", path)
	}
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		data := make([]byte, p.Filesz)
		if p.Filesz > 0 {
			if _, err := p.ReadAt(data, 0); err != nil {
				return nil, fmt.Errorf("shim %s: %w", path, err)
			}
		}
		s.Segs = append(s.Segs, Segment{Vaddr: p.Paddr, Memsz: p.Memsz, Flags: p.Flags, Data: data})
	}
	return s, nil
}

// Program is a checked static linux/amd64 program.
type Program struct {
	Entry uint64
	Segs  []Segment
	// FileSize is the size of the program's ELF file.
	FileSize int
}

// ParseProgram checks that b is a static linux/amd64 executable whose
// segments fit above the shim (which ends at shimEnd) and returns its
// loadable segments.
func ParseProgram(b []byte, shimEnd uint64) (*Program, error) {
	if !bytes.HasPrefix(b, []byte(elf.ELFMAG)) {
		return nil, errors.New("not an ELF file (no ELF magic): give a static linux/amd64 executable")
	}
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("not an ELF file: %w", err)
	}
	defer f.Close()
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 || f.Data != elf.ELFDATA2LSB {
		return nil, fmt.Errorf("not a linux/amd64 ELF (class %v, machine %v): build with GOOS=linux GOARCH=amd64", f.Class, f.Machine)
	}
	if f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
		return nil, fmt.Errorf("not a Linux ELF (OS ABI %v): build with GOOS=linux", f.OSABI)
	}
	if f.Type != elf.ET_EXEC {
		return nil, fmt.Errorf("ELF type %v: need a static, non-PIE executable (CGO_ENABLED=0, no -buildmode=pie)", f.Type)
	}
	if bi, err := buildinfo.Read(bytes.NewReader(b)); err == nil {
		for _, s := range bi.Settings {
			if (s.Key == "GOOS" && s.Value != "linux") || (s.Key == "GOARCH" && s.Value != "amd64") {
				return nil, fmt.Errorf("binary built with %s=%s: need GOOS=linux GOARCH=amd64", s.Key, s.Value)
			}
		}
	}
	p := &Program{Entry: f.Entry, FileSize: len(b)}
	for _, ph := range f.Progs {
		switch ph.Type {
		case elf.PT_INTERP, elf.PT_DYNAMIC:
			return nil, errors.New("dynamically linked: build a static binary (CGO_ENABLED=0)")
		case elf.PT_LOAD:
		default:
			continue
		}
		if ph.Memsz == 0 {
			continue
		}
		if ph.Vaddr < shimEnd {
			return nil, fmt.Errorf("segment at %#x-%#x collides with the shim (which ends at %#x)", ph.Vaddr, ph.Vaddr+ph.Memsz, shimEnd)
		}
		if ph.Vaddr+ph.Memsz > maxAddr || ph.Vaddr+ph.Memsz < ph.Vaddr {
			return nil, fmt.Errorf("segment at %#x-%#x is beyond %d MiB, where the image must fit", ph.Vaddr, ph.Vaddr+ph.Memsz, maxAddr>>20)
		}
		for _, q := range p.Segs {
			if ph.Vaddr < q.Vaddr+q.Memsz && q.Vaddr < ph.Vaddr+ph.Memsz {
				return nil, fmt.Errorf("segments at %#x and %#x overlap", ph.Vaddr, q.Vaddr)
			}
		}
		data := make([]byte, ph.Filesz)
		if _, err := ph.ReadAt(data, 0); err != nil && ph.Filesz > 0 {
			return nil, fmt.Errorf("segment at %#x: %w", ph.Vaddr, err)
		}
		p.Segs = append(p.Segs, Segment{Vaddr: ph.Vaddr, Memsz: ph.Memsz, Flags: ph.Flags, Data: data})
	}
	if len(p.Segs) == 0 {
		return nil, errors.New("no loadable segments")
	}
	if len(p.Segs) > maxSegs {
		return nil, fmt.Errorf("%d loadable segments; the shim takes at most %d", len(p.Segs), maxSegs)
	}
	inSeg := false
	for _, s := range p.Segs {
		if p.Entry >= s.Vaddr && p.Entry < s.Vaddr+s.Memsz {
			inSeg = true
		}
	}
	if !inSeg {
		return nil, fmt.Errorf("entry point %#x is outside every segment", p.Entry)
	}
	return p, nil
}

// Build returns the image for the program in prog using the shim s.
func Build(s *Shim, prog []byte) ([]byte, error) {
	p, err := ParseProgram(prog, s.End)
	if err != nil {
		return nil, err
	}
	// Patch the payload descriptor into the shim's data.
	var pl bytes.Buffer
	end := s.End
	for _, sg := range p.Segs {
		end = max(end, sg.Vaddr+sg.Memsz)
	}
	w := func(v uint64) { binary.Write(&pl, binary.LittleEndian, v) }
	w(payloadMagic)
	w(p.Entry)
	w(end)
	w(uint64(len(p.Segs)))
	for i := 0; i < maxSegs; i++ {
		if i < len(p.Segs) {
			w(p.Segs[i].Vaddr)
			w(p.Segs[i].Memsz)
		} else {
			w(0)
			w(0)
		}
	}
	segs := make([]Segment, 0, len(s.Segs)+len(p.Segs))
	patched := false
	for _, sg := range s.Segs {
		sg.Data = bytes.Clone(sg.Data)
		if s.Payload >= sg.Vaddr && s.Payload+uint64(pl.Len()) <= sg.Vaddr+uint64(len(sg.Data)) {
			copy(sg.Data[s.Payload-sg.Vaddr:], pl.Bytes())
			patched = true
		}
		segs = append(segs, sg)
	}
	if !patched {
		return nil, errors.New("shim: payload descriptor is not in a file-backed segment")
	}
	segs = append(segs, p.Segs...)
	return writeELF(segs, s.Entry32), nil
}

// writeELF lays out: ELF header, program headers (PT_NOTE first), the PVH
// note, then each segment at a file offset congruent to its address.
func writeELF(segs []Segment, entry32 uint64) []byte {
	const ehsize, phsize = 64, 56
	nph := 1 + len(segs)
	noteOff := uint64(ehsize + phsize*nph)
	var note bytes.Buffer
	le := binary.LittleEndian
	binary.Write(&note, le, uint32(4)) // namesz
	binary.Write(&note, le, uint32(4)) // descsz
	binary.Write(&note, le, uint32(xenElfnotePhys32Entry))
	note.WriteString("Xen\x00")
	binary.Write(&note, le, uint32(entry32))

	off := noteOff + uint64(note.Len())
	offs := make([]uint64, len(segs))
	for i, sg := range segs {
		o := (off &^ 0xfff) | (sg.Vaddr & 0xfff)
		if o < off {
			o += 0x1000
		}
		offs[i] = o
		off = o + uint64(len(sg.Data))
	}
	out := make([]byte, off)
	// ELF header.
	copy(out, []byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0})
	le.PutUint16(out[16:], uint16(elf.ET_EXEC))
	le.PutUint16(out[18:], uint16(elf.EM_X86_64))
	le.PutUint32(out[20:], 1)
	le.PutUint64(out[24:], entry32)
	le.PutUint64(out[32:], ehsize) // phoff
	le.PutUint16(out[52:], ehsize)
	le.PutUint16(out[54:], phsize)
	le.PutUint16(out[56:], uint16(nph))
	le.PutUint16(out[58:], 64) // shentsize, with no sections
	ph := func(i int, typ elf.ProgType, flags elf.ProgFlag, offset, addr, filesz, memsz, align uint64) {
		b := out[ehsize+phsize*i:]
		le.PutUint32(b[0:], uint32(typ))
		le.PutUint32(b[4:], uint32(flags))
		le.PutUint64(b[8:], offset)
		le.PutUint64(b[16:], addr)
		le.PutUint64(b[24:], addr)
		le.PutUint64(b[32:], filesz)
		le.PutUint64(b[40:], memsz)
		le.PutUint64(b[48:], align)
	}
	// Xen rejects a PT_NOTE aligned to 8: keep 4.
	ph(0, elf.PT_NOTE, elf.PF_R, noteOff, 0, uint64(note.Len()), uint64(note.Len()), 4)
	copy(out[noteOff:], note.Bytes())
	for i, sg := range segs {
		ph(1+i, elf.PT_LOAD, sg.Flags, offs[i], sg.Vaddr, uint64(len(sg.Data)), sg.Memsz, 0x1000)
		copy(out[offs[i]:], sg.Data)
	}
	return out
}

// BuildFile wraps the program at path with the (cached) shim.
func BuildFile(path string) ([]byte, error) {
	prog, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sp, err := shim.Build()
	if err != nil {
		return nil, err
	}
	s, err := LoadShim(sp)
	if err != nil {
		return nil, err
	}
	img, err := Build(s, prog)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

// GoBuild compiles the Go package pkg (resolved in dir, "" for the current
// directory) as a static linux/amd64 binary into out, with extra go build
// flags.
func GoBuild(dir, pkg, out string, flags ...string) error {
	args := append([]string{"build", "-o", out}, flags...)
	args = append(args, pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, stderr.String())
	}
	return nil
}

// BuildPackage compiles the Go package pkg and wraps it; the image is
// written to out.
func BuildPackage(dir, pkg, out string, flags ...string) error {
	tmp, err := os.MkdirTemp("", "anykernel-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "prog")
	if err := GoBuild(dir, pkg, bin, flags...); err != nil {
		return err
	}
	img, err := BuildFile(bin)
	if err != nil {
		return err
	}
	return os.WriteFile(out, img, 0o644)
}
