package rump

import (
	"fmt"
	"os"
	"strings"
)

// Options choose what New boots. The zero value boots DefaultComponents
// from $RUMP_PREFIX.
type Options struct {
	// Components are rump kernel components by their library names
	// without "librump": "vfs", "fs.tmpfs", "fs.ffs", "fs.cd9660",
	// "fs.kernfs", "fs.ptyfs", "dev.disk", "kern.tty", "net", "net.net",
	// "net.local", "net.netinet", "net.netinet6", "net.shmif",
	// "net.virtif", ... What a component needs comes along ("fs.ffs"
	// brings "vfs"; "net.netinet" brings "net" and "net.net"). Empty means
	// DefaultComponents.
	Components []string

	// Prefix is where buildrump.sh installed the kernel: Prefix/lib holds
	// librump.so and the component libraries. Empty means $RUMP_PREFIX,
	// and without it the dynamic loader's search path (LD_LIBRARY_PATH,
	// ld.so.conf).
	Prefix string

	// NCPU is the number of virtual CPUs (RUMP_NCPU); 0 means the host's.
	NCPU int

	// Verbose prints the kernel's boot messages (RUMP_VERBOSE).
	Verbose bool

	// MemLimit bounds the kernel's memory, in bytes (RUMP_MEMLIMIT); 0
	// means no bound.
	MemLimit int64

	// Signals says what becomes of a signal the kernel sends to one of
	// its processes. The default, SigRecord, keeps it pending in the rump
	// process as NetBSD would, so kill(getpid(), SIGTERM) inside the rump
	// kernel can never reach the Go program.
	Signals SigModel
}

// SigModel is the rump kernel's signal model (rump_boot_setsigmodel).
type SigModel int

const (
	// SigRecord keeps signals pending in the receiving rump process.
	SigRecord SigModel = iota
	// SigIgnore drops them.
	SigIgnore
	// SigPanic makes any signal but SIGSYS and SIGPIPE panic the kernel.
	SigPanic
	// SigRaise raises them in the host process (rump's own default):
	// only for programs that handle signals themselves.
	SigRaise
)

// rump's enum rump_sigmodel.
func (m SigModel) rump() int {
	switch m {
	case SigIgnore:
		return 1
	case SigPanic:
		return 0
	case SigRaise:
		return 3
	}
	return 4 // RUMP_SIGMODEL_RECORD
}

// DefaultComponents is what New boots when Options.Components is empty:
// the file systems and the local socket and TCP/IP stacks.
var DefaultComponents = []string{
	"vfs", "fs.tmpfs", "fs.kernfs", "fs.ptyfs", "kern.tty",
	"net", "net.net", "net.local", "net.netinet", "net.netinet6",
}

// RforkFlags choose what a forked rump process gets of its parent's
// descriptors (rump_lwproc_rfork).
type RforkFlags int

const (
	// RFNONE shares the parent's descriptor table (RUMP_RFFD_SHARE).
	RFNONE RforkFlags = 0
	// RFFDG gives the child a copy of the parent's descriptors.
	RFFDG RforkFlags = 0x01
	// RFCFDG gives the child an empty descriptor table.
	RFCFDG RforkFlags = 0x02
)

func (f RforkFlags) String() string {
	switch f {
	case RFNONE:
		return "RFNONE"
	case RFFDG:
		return "RFFDG"
	case RFCFDG:
		return "RFCFDG"
	}
	return fmt.Sprintf("RforkFlags(%#x)", int(f))
}

// EtfsType is what a host file registered with etfs appears as inside the
// rump kernel (enum rump_etfs_type).
type EtfsType int

const (
	// EtfsReg is a regular file.
	EtfsReg EtfsType = iota
	// EtfsBlk is a block device, what file systems mount.
	EtfsBlk
	// EtfsChr is a character device.
	EtfsChr
	// EtfsDir is a host directory, without its subdirectories.
	EtfsDir
	// EtfsDirSubdirs is a host directory with its subdirectories.
	EtfsDirSubdirs
)

// SizeToEnd, as Register's size, maps the host file from offset to its end
// (RUMP_ETFS_SIZE_ENDOFF).
const SizeToEnd = ^uint64(0)

// Unavailable explains how to get a rump kernel; New's error when it finds
// none ends with it.
const Unavailable = "no rump kernel found: build one with buildrump.sh " +
	"(github.com/rumpkernel/buildrump.sh; ./buildrump.sh -d /opt/rump) and set " +
	"RUMP_PREFIX to the directory it installed (holding lib/librump.so), then " +
	"run with -tags rump"

// componentDeps lists what a component's library needs loaded before it
// (its undefined rumpns_ symbols), where the rule of its class (fs.* needs
// vfs, net.* needs net and net.net, dev.* needs dev) is not all of it.
var componentDeps = map[string][]string{
	"net":        nil,
	"net.net":    {"net"},
	"net.local":  {"net", "vfs"},
	"net.tap":    {"dev", "net", "net.net"},
	"net.bpfjit": {"dev.bpf", "kern.sljit"},
	"dev.bpf":    {"net", "net.net"},
	"dev.disk":   {"dev", "vfs"},
	"fs.ffs":     {"vfs", "dev.disk"},
	"fs.ptyfs":   {"vfs", "kern.tty"},
	"kern.tty":   {"vfs"},
	"vfs.fifofs": {"vfs", "net", "net.local"}, // fifos are local socket pairs
}

// prefix returns where to look for the libraries.
func (o *Options) prefix() string {
	if o.Prefix != "" {
		return o.Prefix
	}
	return os.Getenv("RUMP_PREFIX")
}

// Libraries expands components into the shared libraries New loads, each
// after what it needs, librump.so first (nil means DefaultComponents). A
// rump_server takes the same list as -l flags.
func Libraries(components []string) ([]string, error) {
	if len(components) == 0 {
		components = DefaultComponents
	}
	var out []string
	seen := map[string]bool{}
	var add func(c string) error
	add = func(c string) error {
		c = strings.TrimSpace(c)
		if seen[c] {
			return nil
		}
		seen[c] = true
		class, sub, _ := strings.Cut(c, ".")
		switch class {
		case "vfs", "net", "dev", "kern", "fs":
		default:
			return fmt.Errorf("rump: unknown component %q (want vfs, fs.*, dev.*, net.*, kern.*)", c)
		}
		if c == "fs" || c == "kern" || strings.ContainsAny(sub, "/ ") {
			return fmt.Errorf("rump: bad component name %q", c)
		}
		deps, known := componentDeps[c]
		switch {
		case known:
		case class == "fs", class == "vfs" && sub != "":
			deps = []string{"vfs"}
		case class == "dev":
			deps = []string{"dev", "vfs"}
			if sub == "" {
				deps = []string{"vfs"}
			}
		case class == "net" && sub != "":
			deps = []string{"net", "net.net"}
		}
		for _, d := range deps {
			if err := add(d); err != nil {
				return err
			}
		}
		lib := "librump" + class
		if sub != "" {
			lib += "_" + sub
		}
		out = append(out, lib+".so")
		return nil
	}
	for _, c := range components {
		if err := add(c); err != nil {
			return nil, err
		}
	}
	return append([]string{"librump.so"}, out...), nil
}
