package memfs

import (
	"encoding/binary"
	"sort"
)

// A directory keeps its entries in the order they were made, each with a
// cookie that never changes: "." is 1, ".." is 2, the rest count up from 3.
// A reader's position is the cookie of the last entry it got, so entries
// added or removed while it iterates never make it skip or repeat another.

type dirent struct {
	name   string
	ino    *Inode // nil once removed
	cookie int64
}

type dirData struct {
	ents   []*dirent // by cookie; removed ones stay until compaction
	byName map[string]*dirent
	next   int64
	dead   int
}

const firstCookie = 3

func newDirData() *dirData {
	return &dirData{byName: map[string]*dirent{}, next: firstCookie}
}

func (d *dirData) lookup(name string) *Inode {
	if e := d.byName[name]; e != nil {
		return e.ino
	}
	return nil
}

func (d *dirData) add(name string, ino *Inode) {
	e := &dirent{name: name, ino: ino, cookie: d.next}
	d.next++
	d.ents = append(d.ents, e)
	d.byName[name] = e
}

func (d *dirData) remove(name string) {
	e := d.byName[name]
	if e == nil {
		return
	}
	delete(d.byName, name)
	e.ino = nil
	d.dead++
	if d.dead > 16 && d.dead > len(d.ents)/2 {
		live := d.ents[:0]
		for _, x := range d.ents {
			if x.ino != nil {
				live = append(live, x)
			}
		}
		clear(d.ents[len(live):])
		d.ents = live
		d.dead = 0
	}
}

// replace points an existing name at another inode, in place: the entry
// keeps its cookie, as a rename over an existing name does on Linux.
func (d *dirData) replace(name string, ino *Inode) {
	d.byName[name].ino = ino
}

func (d *dirData) empty() bool { return len(d.byName) == 0 }

// after returns the index of the first live entry whose cookie is above pos.
func (d *dirData) after(pos int64) int {
	i := sort.Search(len(d.ents), func(i int) bool { return d.ents[i].cookie > pos })
	for i < len(d.ents) && d.ents[i].ino == nil {
		i++
	}
	return i
}

// Dtype returns the d_type of a mode.
func Dtype(mode uint32) uint8 {
	switch mode & S_IFMT {
	case S_IFREG:
		return DT_REG
	case S_IFDIR:
		return DT_DIR
	case S_IFLNK:
		return DT_LNK
	case S_IFIFO:
		return DT_FIFO
	case S_IFCHR:
		return DT_CHR
	case S_IFBLK:
		return DT_BLK
	case S_IFSOCK:
		return DT_SOCK
	}
	return DT_UNKNOWN
}

// direntLen is the length of a linux_dirent64 record for a name of n bytes:
// d_ino (8), d_off (8), d_reclen (2), d_type (1), the name and its NUL,
// rounded up to 8.
func direntLen(n int) int { return (19 + n + 1 + 7) &^ 7 }

// putDirent writes one linux_dirent64 record at the start of b.
func putDirent(b []byte, ino uint64, off int64, typ uint8, name string) int {
	n := direntLen(len(name))
	binary.LittleEndian.PutUint64(b[0:], ino)
	binary.LittleEndian.PutUint64(b[8:], uint64(off))
	binary.LittleEndian.PutUint16(b[16:], uint16(n))
	b[18] = typ
	copy(b[19:], name)
	clear(b[19+len(name) : n])
	return n
}

// getdents fills buf with records of d's entries after f's position and
// moves the position past them. It answers EINVAL when not even one record
// fits.
func (f *File) getdents(buf []byte) (int, Errno) {
	dir := f.ino
	if dir.dir == nil {
		// A directory removed while open reads as empty.
		return 0, 0
	}
	d := dir.dir
	n := 0
	emit := func(ino uint64, cookie int64, typ uint8, name string) bool {
		if n+direntLen(len(name)) > len(buf) {
			return false
		}
		n += putDirent(buf[n:], ino, cookie, typ, name)
		f.off = cookie
		return true
	}
	full := false
	if f.off < 1 {
		full = !emit(dir.ino, 1, DT_DIR, ".")
	}
	if !full && f.off < 2 {
		p := dir.parent
		if p == nil {
			p = dir
		}
		full = !emit(p.ino, 2, DT_DIR, "..")
	}
	for i := d.after(f.off); !full && i < len(d.ents); i++ {
		e := d.ents[i]
		if e.ino == nil {
			continue
		}
		full = !emit(e.ino.ino, e.cookie, Dtype(e.ino.mode), e.name)
	}
	if full && n == 0 {
		return 0, EINVAL
	}
	dir.touch(tA)
	return n, 0
}

// Entry is one decoded directory entry, for tests and tools.
type Entry struct {
	Ino  uint64
	Off  int64
	Type uint8
	Name string
}

// ParseDirents decodes linux_dirent64 records.
func ParseDirents(b []byte) []Entry {
	var out []Entry
	for len(b) >= 19 {
		rl := int(binary.LittleEndian.Uint16(b[16:]))
		if rl < 20 || rl > len(b) {
			break
		}
		name := b[19:rl]
		for i, c := range name {
			if c == 0 {
				name = name[:i]
				break
			}
		}
		out = append(out, Entry{binary.LittleEndian.Uint64(b), int64(binary.LittleEndian.Uint64(b[8:])), b[18], string(name)})
		b = b[rl:]
	}
	return out
}
