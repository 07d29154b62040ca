package gen

import (
	"fmt"
	"strings"

	"github.com/anykernel/anykernel/abi"
)

// linuxArch is what differs between the Linux targets built from Debian's
// cross headers (linux-libc-dev-<Deb>-cross, libc6-dev-<Deb>-cross).
type linuxArch struct {
	GOARCH  string
	Triple  string // clang --target and the /usr/<Triple>/include directory
	Deb     string // Debian architecture in the package names
	PtrSize int
	BE      bool
	Arg64   abi.Arg64
	Flags   []string // extra clang flags
	Stat64  bool     // the kernel has struct stat64 and the fstat64 family: "stat" is that layout
	Extra   []string // extra constant families
	Note    string   // architecture notes for the package comment
	// NoTermios2: the kernel has no struct termios2 (powerpc, whose
	// termios carries the speeds); x/sys's Termios is then termios.
	NoTermios2 bool
	// KernelRegs: struct user_regs_struct is the kernel's (asm/ptrace.h)
	// and glibc's sys/user.h has none (riscv64, s390x).
	KernelRegs bool
}

var linuxArches = []linuxArch{
	{GOARCH: "386", Triple: "i686-linux-gnu", Deb: "i386", PtrSize: 4, Arg64: abi.Arg64Pair, Stat64: true,
		Extra: []string{"SYS_"},
		Note: `// 64-bit syscall arguments take two consecutive argument slots, low word
// first (Table.Arg64). Socket calls exist both as direct syscalls (socket,
// bind, ...; kernel 4.3+) and through socketcall(2), whose call numbers
// are the SYS_* constants (linux/net.h).`},
	{GOARCH: "arm", Triple: "arm-linux-gnueabihf", Deb: "armhf", PtrSize: 4, Arg64: abi.Arg64AlignedPair, Stat64: true,
		Extra: []string{"__NR_SYSCALL_BASE", "__NR_OABI_SYSCALL_BASE", "__ARM_NR_"},
		Note: `// This is the EABI (__NR_SYSCALL_BASE 0; the OABI base is kept as a
// constant). 64-bit syscall arguments go in an even/odd register pair,
// skipping a register to align (Table.Arg64); arm_fadvise64_64 and
// sync_file_range2 reorder their arguments for that reason.`},
	{GOARCH: "arm64", Triple: "aarch64-linux-gnu", Deb: "arm64", PtrSize: 8},
	{GOARCH: "riscv64", Triple: "riscv64-linux-gnu", Deb: "riscv64", PtrSize: 8, Flags: []string{"-mno-relax"}, KernelRegs: true},
	{GOARCH: "ppc64le", Triple: "powerpc64le-linux-gnu", Deb: "ppc64el", PtrSize: 8, NoTermios2: true},
	{GOARCH: "ppc64", Triple: "powerpc64-linux-gnu", Deb: "ppc64", PtrSize: 8, BE: true, Extra: []string{"SYS_"}, NoTermios2: true},
	{GOARCH: "mips", Triple: "mips-linux-gnu", Deb: "mips", PtrSize: 4, BE: true, Arg64: abi.Arg64AlignedPair, Stat64: true,
		Extra: []string{"__NR_Linux", "SYS_"},
		Note: `// This is the o32 ABI: syscall numbers start at __NR_Linux (4000) and
// the table holds them whole. Errnos differ from the other
// architectures. 64-bit syscall arguments go in an aligned register pair,
// high word first (big-endian; Table.Arg64); arguments 5 and up are
// passed on the stack by the o32 convention.`},
	{GOARCH: "mipsle", Triple: "mipsel-linux-gnu", Deb: "mipsel", PtrSize: 4, Arg64: abi.Arg64AlignedPair, Stat64: true,
		Extra: []string{"__NR_Linux", "SYS_"},
		Note: `// This is the o32 ABI: syscall numbers start at __NR_Linux (4000) and
// the table holds them whole. Errnos differ from the other
// architectures. 64-bit syscall arguments go in an aligned register pair,
// low word first (little-endian; Table.Arg64); arguments 5 and up are
// passed on the stack by the o32 convention.`},
	{GOARCH: "mips64", Triple: "mips64-linux-gnuabi64", Deb: "mips64", PtrSize: 8, BE: true,
		Extra: []string{"__NR_Linux"},
		Note: `// This is the n64 ABI: syscall numbers start at __NR_Linux (5000).
// Errnos differ from the other architectures, and the kernel's struct
// stat keeps 32-bit timestamps.`},
	{GOARCH: "mips64le", Triple: "mips64el-linux-gnuabi64", Deb: "mips64el", PtrSize: 8,
		Extra: []string{"__NR_Linux"},
		Note: `// This is the n64 ABI: syscall numbers start at __NR_Linux (5000).
// Errnos differ from the other architectures, and the kernel's struct
// stat keeps 32-bit timestamps.`},
	{GOARCH: "s390x", Triple: "s390x-linux-gnu", Deb: "s390x", PtrSize: 8, BE: true, Extra: []string{"SYS_"}, KernelRegs: true},
}

var linuxCross = func() []*target {
	var ts []*target
	for _, a := range linuxArches {
		ts = append(ts, linuxCrossTarget(a))
	}
	return ts
}()

// linuxCrossTarget is linuxAMD64's configuration for another architecture,
// compiled by clang --target against the cross headers. Nothing compiled
// runs: values come from object files.
func linuxCrossTarget(a linuxArch) *target {
	inc := "/usr/" + a.Triple + "/include"
	cc := append([]string{"clang", "--target=" + a.Triple, "-nostdlibinc", "-isystem", inc, "-ferror-limit=0", "-gdwarf-4"}, a.Flags...)
	t := &target{
		GOOS: "linux", GOARCH: a.GOARCH, Dir: "abi/linux/" + a.GOARCH, PtrSize: a.PtrSize, BigEndian: a.BE, Arg64: a.Arg64,
		CC:       cc,
		Needs:    []string{inc + "/asm/unistd.h", inc + "/gnu/stubs.h"},
		Packages: []string{"clang", "linux-libc-dev-" + a.Deb + "-cross", "libc6-dev-" + a.Deb + "-cross"},

		Syscalls:       unit{Name: "syscalls", Headers: []string{"asm/unistd.h"}},
		SyscallPrefix:  "__NR_",
		SyscallExclude: []string{"Linux", "SYSCALL_BASE", "OABI_SYSCALL_BASE", "SYSCALL_MASK"},

		Errnos:       linuxAMD64.Errnos,
		ErrnoAliases: linuxAMD64.ErrnoAliases,

		Provenance:        linuxAMD64.Provenance,
		ProvenanceMacros:  linuxAMD64.ProvenanceMacros,
		Prefixes:          append(append([]string(nil), linuxPrefixes...), a.Extra...),
		XSysFieldPrefixes: linuxXSysFieldPrefixes,
	}
	if a.GOARCH == "mips" || a.GOARCH == "mipsle" || a.GOARCH == "mips64" || a.GOARCH == "mips64le" {
		// EDEADLOCK is its own number on mips (56, EDEADLK is 45).
		t.ErrnoAliases = []string{"EWOULDBLOCK", "ENOTSUP"}
	}
	if a.GOARCH == "ppc64" || a.GOARCH == "ppc64le" {
		// EDEADLOCK is its own number on powerpc (58, EDEADLK is 35).
		t.ErrnoAliases = []string{"EWOULDBLOCK", "ENOTSUP"}
	}
	for _, u := range linuxAMD64.Units {
		switch u.Name {
		case "kernel":
			u.Headers = append(append([]string(nil), u.Headers...),
				"asm/stat.h", "asm/unistd.h", "linux/net.h", "linux/time_types.h")
			if a.Stat64 {
				u.Headers = append(u.Headers, "asm/statfs.h") // struct statfs64
			}
		case "libc":
			u.Exclude = append(append([]string(nil), u.Exclude...), "SYS_") // glibc's SYS_<name> syscall aliases
		}
		t.Units = append(t.Units, u)
	}

	// The table's stat is the kernel's: on 64-bit targets struct stat
	// (newfstatat, fstat), on 32-bit ones struct stat64 (fstatat64,
	// fstat64; the old struct stat cannot hold 64-bit inodes and sizes).
	// The kernel spells the times st_atime and st_atime_nsec; Extra adds
	// glibc's spellings so that api finds st_atim.tv_sec on every target.
	statExtra := []fieldSpec{
		{Name: "st_atim.tv_sec", C: "st_atime"}, {Name: "st_atim.tv_nsec", C: "st_atime_nsec"},
		{Name: "st_mtim.tv_sec", C: "st_mtime"}, {Name: "st_mtim.tv_nsec", C: "st_mtime_nsec"},
		{Name: "st_ctim.tv_sec", C: "st_ctime"}, {Name: "st_ctim.tv_nsec", C: "st_ctime_nsec"},
	}
	for _, s := range linuxAMD64.Structs {
		if a.NoTermios2 && s.Name == "termios2" {
			continue
		}
		if a.NoTermios2 && s.Name == "termios" {
			s.XSys = "Termios"
		}
		if a.KernelRegs && s.Name == "user_regs_struct" {
			s.Unit = "kernel"
		}
		if s.Name == "stat" {
			if a.Stat64 {
				s = structSpec{Name: "stat", CType: "struct stat64", Unit: "kernel", XSys: "Stat_t", Extra: statExtra}
				t.Structs = append(t.Structs, structSpec{Name: "stat64", CType: "struct stat64", Unit: "kernel", Extra: statExtra})
			} else {
				s = structSpec{Name: "stat", CType: "struct stat", Unit: "kernel", XSys: "Stat_t", Extra: statExtra}
			}
		}
		t.Structs = append(t.Structs, s)
	}
	// The *_time64 syscalls of 32-bit targets take the kernel's 64-bit
	// timespec; it is the same as timespec on 64-bit targets.
	t.Structs = append(t.Structs, structSpec{Name: "kernel_timespec", CType: "struct __kernel_timespec", Unit: "kernel"})
	if a.Stat64 {
		// fcntl64's record and OFD locks on 32-bit targets: a 64-bit
		// l_start and l_len, packed differently per architecture.
		t.Structs = append(t.Structs, structSpec{Name: "flock64", CType: "struct flock64", Unit: "kernel"})
		// statfs64/fstatfs64's struct: 64-bit block and file counts.
		t.Structs = append(t.Structs, structSpec{Name: "statfs64", CType: "struct statfs64", Unit: "kernel"})
	}

	var b strings.Builder
	fmt.Fprintf(&b, "// Package %s is the Linux ABI on %s as data: syscall numbers, errnos,\n", pkgName(a.GOARCH), a.Triple)
	b.WriteString("// constants and struct layouts in Table (ztable.go), generated by\n")
	fmt.Fprintf(&b, "// build/abigen from Debian's linux-libc-dev-%s-cross and\n", a.Deb)
	fmt.Fprintf(&b, "// libc6-dev-%s-cross headers with clang --target=%s; nothing\n", a.Deb, a.Triple)
	b.WriteString("// compiled for the target runs, values are read from object files.\n")
	b.WriteString("// Where glibc and the kernel disagree the table holds the kernel's value,\n")
	b.WriteString("// since these numbers go to raw system calls; stat is the kernel's.\n")
	if a.Note != "" {
		b.WriteString("//\n" + a.Note + "\n")
	}
	b.WriteString("//\n// Regenerate with: go run ./build/abigen -all\n")
	if pkgName(a.GOARCH) != a.GOARCH {
		fmt.Fprintf(&b, "//\n// A Go package name cannot start with a digit, hence %s in directory %s.\n", pkgName(a.GOARCH), a.GOARCH)
	}
	fmt.Fprintf(&b, "package %s\n", pkgName(a.GOARCH))
	t.Doc = b.String()
	return t
}
