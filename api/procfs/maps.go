package procfs

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/anykernel/anykernel/api"
)

// Map is one line of /proc/<pid>/maps: a mapped range of the address space.
type Map struct {
	Start, End   uint64 // [Start, End)
	Perms        string // "r-xp": read, write, execute, p(rivate) or s(hared)
	Offset       uint64 // into the file
	Major, Minor uint32 // device of the file
	Inode        uint64
	Path         string // the file, "[heap]", "[stack]", "[vdso]", ...; "" for anonymous memory
}

// Contains reports whether addr lies in the mapping.
func (m *Map) Contains(addr uint64) bool { return addr >= m.Start && addr < m.End }

// Maps reads /proc/<pid>/maps.
func (p Proc) Maps() ([]Map, error) {
	b, err := p.read("maps")
	if err != nil {
		return nil, err
	}
	return ParseMaps(b)
}

// ParseMaps parses the contents of a /proc/<pid>/maps file.
func ParseMaps(b []byte) ([]Map, error) {
	var out []Map
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" {
			continue
		}
		// Five fields, then the path, which may hold spaces.
		f := strings.Fields(line)
		if len(f) < 5 {
			return out, fmt.Errorf("procfs: maps line %q", line)
		}
		var m Map
		lo, hi, ok := strings.Cut(f[0], "-")
		var err error
		if !ok {
			return out, fmt.Errorf("procfs: maps range %q", f[0])
		}
		if m.Start, err = strconv.ParseUint(lo, 16, 64); err != nil {
			return out, fmt.Errorf("procfs: maps range %q: %w", f[0], err)
		}
		if m.End, err = strconv.ParseUint(hi, 16, 64); err != nil {
			return out, fmt.Errorf("procfs: maps range %q: %w", f[0], err)
		}
		m.Perms = f[1]
		if m.Offset, err = strconv.ParseUint(f[2], 16, 64); err != nil {
			return out, fmt.Errorf("procfs: maps offset %q: %w", f[2], err)
		}
		if m.Major, m.Minor, err = parseDev(f[3], 16); err != nil {
			return out, err
		}
		if m.Inode, err = strconv.ParseUint(f[4], 10, 64); err != nil {
			return out, fmt.Errorf("procfs: maps inode %q: %w", f[4], err)
		}
		if len(f) > 5 {
			// The path starts after the inode's padding.
			rest := line
			for i := 0; i < 5; i++ {
				rest = strings.TrimLeft(rest, " \t")
				j := strings.IndexAny(rest, " \t")
				if j < 0 {
					rest = ""
					break
				}
				rest = rest[j:]
			}
			m.Path = strings.TrimLeft(rest, " \t")
		}
		out = append(out, m)
	}
	return out, nil
}

// parseDev parses "major:minor" in the given base.
func parseDev(s string, base int) (uint32, uint32, error) {
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, fmt.Errorf("procfs: device %q", s)
	}
	ma, err := strconv.ParseUint(a, base, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("procfs: device %q: %w", s, err)
	}
	mi, err := strconv.ParseUint(b, base, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("procfs: device %q: %w", s, err)
	}
	return uint32(ma), uint32(mi), nil
}

// Mount is one line of /proc/<pid>/mountinfo (see proc(5)).
type Mount struct {
	ID, ParentID int
	Major, Minor uint32 // st_dev of files in the mount
	Root         string // the directory of the file system mounted here ("/" unless a bind mount of a subtree)
	MountPoint   string // relative to the process's root
	Options      string // per-mount: "rw,nosuid,relatime"
	Optional     []string
	FSType       string // "ext4", "tmpfs", "cgroup2", ...
	Source       string // "/dev/sda1", "tmpfs", ...
	SuperOptions string // per-super-block options
}

// HasOption reports whether opt is among the per-mount options.
func (m *Mount) HasOption(opt string) bool {
	for _, o := range strings.Split(m.Options, ",") {
		if o == opt {
			return true
		}
	}
	return false
}

// Mountinfo reads /proc/<pid>/mountinfo: the mounts of the process's mount
// namespace, as it sees them.
func (p Proc) Mountinfo() ([]Mount, error) {
	b, err := p.read("mountinfo")
	if err != nil {
		return nil, err
	}
	return ParseMountinfo(b)
}

// Mountinfo reads the calling process's mount table.
func Mountinfo(k *api.Kernel) ([]Mount, error) { return Self(k).Mountinfo() }

// ParseMountinfo parses the contents of a mountinfo file; the octal escapes
// of spaces, tabs, newlines and backslashes in paths are undone.
func ParseMountinfo(b []byte) ([]Mount, error) {
	var out []Mount
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, " ")
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if len(f) < 10 || sep < 0 || len(f) < sep+4 {
			return out, fmt.Errorf("procfs: mountinfo line %q", line)
		}
		var m Mount
		var err error
		if m.ID, err = strconv.Atoi(f[0]); err != nil {
			return out, fmt.Errorf("procfs: mountinfo id %q: %w", f[0], err)
		}
		if m.ParentID, err = strconv.Atoi(f[1]); err != nil {
			return out, fmt.Errorf("procfs: mountinfo parent %q: %w", f[1], err)
		}
		if m.Major, m.Minor, err = parseDev(f[2], 10); err != nil {
			return out, err
		}
		m.Root = unescape(f[3])
		m.MountPoint = unescape(f[4])
		m.Options = f[5]
		if sep > 6 {
			m.Optional = f[6:sep]
		}
		m.FSType = unescape(f[sep+1])
		m.Source = unescape(f[sep+2])
		m.SuperOptions = f[sep+3]
		out = append(out, m)
	}
	return out, nil
}
