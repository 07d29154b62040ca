package compare

import (
	"path"

	"github.com/anykernel/anykernel/abi"
)

// Entry is one reviewed, deliberate difference between a table and
// golang.org/x/sys/unix. Target and Item are path.Match patterns
// ("linux/*", "struct * align"); Item is spelled as Compare reports it.
type Entry struct {
	Target, Item, Reason string
}

// List is the one allow-list for every target. The tables hold what the
// kernel takes and what C computes; x/sys sometimes holds glibc's view, a
// Go-shaped type, or newer headers. Every line needs a reason, and the
// checks fail on lines that excuse nothing.
var List = append([]Entry{
	// Every Linux table made from C headers.
	{"linux/*", "const MS_NOUSER", "the kernel header's (1<<31) is a negative int, stored sign-extended like every negative constant; x/sys keeps the 32-bit pattern"},
	{"linux/*", "const O_LARGEFILE", "glibc defines it as 0 on 64-bit targets (x/sys copies glibc); the table holds the kernel's value, which raw open(2) accepts"},
	{"linux/*", "struct epoll_event align", "the kernel packs epoll_event on x86 (align 1) and elsewhere aligns its 64-bit data (align 8); x/sys uses an int32-aligned struct of the same size"},
	{"linux/*", "struct ip_mreq align", "x/sys spells in_addr as [4]byte (align 1); C's struct in_addr is a uint32_t"},
	{"linux/*", "struct sockaddr_in align", "x/sys spells sin_addr as [4]byte (align 2 overall); C's struct in_addr is a uint32_t"},
	{"linux/*", "struct siginfo align", "x/sys Siginfo is int32s and a byte array (align 4); C's union holds pointers (align 8 on 64-bit targets)"},
	{"linux/*", "struct kernel_sigset size", "the kernel's sigset_t is _NSIG bits (64, 128 on mips); x/sys Sigset_t is glibc's 1024-bit sigset_t"},
	{"linux/*", "field kernel_sigset.sig size", "the kernel's sigset_t is _NSIG bits (64, 128 on mips); x/sys Sigset_t is glibc's 1024-bit sigset_t"},
	{"linux/*", "struct linux_dirent64 size", "the kernel's d_name is a flexible array; x/sys Dirent gives it 256 bytes"},
	{"linux/*", "field linux_dirent64.d_name size", "the kernel's d_name is a flexible array (size 0); x/sys Dirent gives it 256 bytes"},
	{"linux/*", "struct tcp_info size", "x/sys is generated from newer kernel headers, whose tcp_info has grown past linux-libc-dev 6.1's 232 bytes"},
	{"linux/386", "struct fanotify_event_metadata align", "the kernel declares mask __aligned_u64 (align 8 even on i386); Go aligns uint64 to 4 on 386, at the same offsets"},

	// 32-bit targets whose C compiler aligns 64-bit integers to 8.
	{"linux/arm", "struct * align", "C (arm EABI) aligns 64-bit integers to 8, Go to 4; x/sys pads its structs explicitly, so offsets agree and only alignments differ"},
	{"linux/mips", "struct * align", "C (mips o32) aligns 64-bit integers to 8, Go to 4; x/sys pads its structs explicitly, so offsets agree and only alignments differ"},
	{"linux/mipsle", "struct * align", "C (mips o32) aligns 64-bit integers to 8, Go to 4; x/sys pads its structs explicitly, so offsets agree and only alignments differ"},
	{"netbsd/arm", "struct * align", "C (NetBSD earm, EABI) aligns 64-bit integers to 8, Go to 4; x/sys pads its structs explicitly, so offsets agree and only alignments differ"},

	// mips.
	{"linux/mips*", "const MAP_RENAME", "glibc's bits/mman.h defines MAP_RENAME as MAP_ANONYMOUS (0x800), which x/sys copies; the kernel's asm/mman.h value, in the table, is 0x20"},
	{"linux/mips", "struct stat size", "the table's stat is the kernel's struct stat64 (104 bytes), what fstat64(2) writes; x/sys Stat_t is glibc's struct stat64, 160 bytes with trailing padding, at the same member offsets"},
	{"linux/mipsle", "struct stat size", "the table's stat is the kernel's struct stat64 (104 bytes), what fstat64(2) writes; x/sys Stat_t is glibc's struct stat64, 160 bytes with trailing padding, at the same member offsets"},
	{"linux/mips", "field stat.st_pad*", "padding members: the kernel names them st_pad0, st_pad1, st_pad2, x/sys Pad1, Pad2, Pad4, so equal names sit at different places"},
	{"linux/mipsle", "field stat.st_pad*", "padding members: the kernel names them st_pad0, st_pad1, st_pad2, x/sys Pad1, Pad2, Pad4, so equal names sit at different places"},
	{"linux/mips64*", "struct stat size", "the table's stat is the kernel's n64 struct stat (104 bytes, 32-bit times), what newfstatat(2) writes; x/sys Stat_t is a Go-shaped struct that x/sys fills by converting"},
	{"linux/mips64*", "field stat.*", "the table's stat is the kernel's n64 struct stat (104 bytes, 32-bit times), what newfstatat(2) writes; x/sys Stat_t is a Go-shaped struct that x/sys fills by converting"},

	// Every NetBSD table.
	{"netbsd/*", "const TIOCPT*", "x/sys's netbsd/amd64, 386 and arm64 TIOCPTMGET and TIOCPTSNAME are NetBSD 6's (struct ptmget with 16-byte names, now COMPAT_60_TIOCPTMGET); since ttycom.h 1.20 the names are PATH_MAX bytes, as x/sys's own Ptmget and its netbsd/arm values have them, and the table computes the requests from that struct (config_netbsd_tty.go)"},
	{"netbsd/*", "const WSTOPPED", "x/sys took WSTOPPED from sys/wait.h's status value _WSTOPPED (0177); the waitpid/wait6 option, which the table holds, is WSTOPPED = WUNTRACED (2)"},

	// netbsd/arm.
	{"netbsd/arm", "struct statvfs90 size", "x/sys's netbsd/arm types predate NetBSD's EABI (earm) port: its Statvfs_t lacks the 4 bytes of padding EABI puts before the 64-bit f_spare; the table follows EABI"},
	{"netbsd/arm", "field statvfs90.* offset", "x/sys's netbsd/arm types predate NetBSD's EABI (earm) port: its Statvfs_t lacks the 4 bytes of padding EABI puts before the 64-bit f_spare; the table follows EABI"},
}, append(legacy32, newerHeaders...)...)

// newerHeaders are the constants that count or mask the members of a
// growing set (an enumeration's last value, the mask of all flags): x/sys
// is generated from newer kernel headers than Debian 12's linux-libc-dev
// 6.1, in which the set has grown. The tables hold 6.1's values, which
// the headers they are checked against define.
var newerHeaders = func() []Entry {
	var es []Entry
	for _, n := range []string{
		"BPF_TCP_MAX_STATES", "PERF_RECORD_MAX", "PERF_SAMPLE_BRANCH_MAX", "PERF_SAMPLE_BRANCH_MAX_SHIFT",
		"RTAX_FEATURE_MASK", "RTA_MAX", "RWF_SUPPORTED",
	} {
		es = append(es, Entry{"linux/*", "const " + n, "x/sys is generated from newer kernel headers, where the set this constant bounds or masks has grown; the table holds linux-libc-dev 6.1's value"})
	}
	return es
}()

// legacy32 are the 32-bit Linux targets whose glibc structs in the table
// are the ones without _FILE_OFFSET_BITS=64: statfs, flock and rlimit as
// statfs(2), fcntl(F_GETLK) and getrlimit(2) take them. x/sys uses the
// 64-bit variants (statfs64, F_GETLK64 = its F_GETLK, prlimit64), whose
// numbers the table also has (F_GETLK64, ...).
var legacy32 = func() []Entry {
	var es []Entry
	for _, t := range []string{"linux/386", "linux/arm", "linux/mips", "linux/mipsle"} {
		for _, item := range []string{
			"struct statfs size", "field statfs.*", "struct flock size", "field flock.*",
			"struct rlimit size", "field rlimit.*", "const F_GETLK", "const F_SETLK", "const F_SETLKW", "const RLIM_INFINITY",
		} {
			es = append(es, Entry{t, item, "the table's statfs, flock and rlimit are the 32-bit non-LFS ABI (statfs(2), fcntl F_GETLK/F_SETLK/F_SETLKW, getrlimit(2) and its RLIM_INFINITY); x/sys uses the 64-bit one (statfs64, F_GETLK64, prlimit64), whose numbers the table has too"})
		}
	}
	return es
}()

// For returns the entries that apply to target ("linux/arm64") as an
// Allow for Compare.
func For(target string) Allow {
	a := Allow{}
	for _, e := range List {
		if ok, _ := path.Match(e.Target, target); ok {
			a[e.Item] = e.Reason
		}
	}
	return a
}

// Check compares t with f under the allow-list. unused names the entries
// written for exactly this target (no pattern) that excused nothing; an
// entry with a target pattern is judged over all targets by build/abicheck.
func Check(t *abi.Table, f *Facts) (diffs, unused []string) {
	target := t.OS + "/" + t.Arch
	diffs, un := Compare(t, f, For(target))
	exact := map[string]bool{}
	for _, e := range List {
		if e.Target == target {
			exact[e.Item] = true
		}
	}
	for _, item := range un {
		if exact[item] {
			unused = append(unused, item)
		}
	}
	return diffs, unused
}
