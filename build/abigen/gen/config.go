package gen

import "github.com/anykernel/anykernel/abi"

// This file and config_xsys.go are the generator's whole configuration:
// which targets exist, which headers each one reads, which constants and
// structs it keeps. Adding a target means adding one entry to targets;
// the machinery in the other files does not change.

// target describes one ABI to generate.
type target struct {
	GOOS, GOARCH string
	Dir          string // output package, relative to the module root
	PtrSize      int
	BigEndian    bool
	Arg64        abi.Arg64 // how 64-bit syscall arguments travel (32-bit targets)

	// Doc is the package comment written to <Dir>/doc.go.
	Doc string

	CC   []string // compiler command and target flags, e.g. {"gcc", "-m64"}
	Exec []string // prefix to run a compiled program (e.g. qemu-user); empty runs it directly
	// Run is true when programs CC builds run on this machine: strerror
	// texts then come from the target's own C library. Otherwise every
	// value is read from compiled object files and nothing runs.
	Run bool

	// CheckCC is the compiler of the C check (default CC): clang with
	// --target for every Linux target, so the check is one compiler and
	// for linux/amd64 an independent one from the generator's gcc.
	CheckCC []string
	// Needs lists files whose absence means the target's headers are not
	// installed, and Packages the Debian packages that provide them, for
	// the message of a skipped check or generation.
	Needs    []string
	Packages []string

	// XSys, when set, makes golang.org/x/sys/unix the source of the table
	// (targets without C headers on Debian); Units then only declare
	// what x/sys lacks, hand-described with their upstream source cited.
	XSys *xsysSpec
	// NoC is why the C check is unavailable, "" if it runs.
	NoC string

	// SyscallExclude drops SyscallPrefix macros that are not syscalls
	// (mips's __NR_Linux base, arm's __NR_SYSCALL_BASE); list them in
	// Prefixes to keep them as constants.
	SyscallExclude []string

	// Syscalls: every macro named SyscallPrefix+name in Syscalls' headers.
	Syscalls      unit
	SyscallPrefix string

	// Errnos: every E[A-Z0-9]+ macro in Errnos' headers, with the C
	// library's strerror text. ErrnoAliases are the names that share a
	// number with a canonical errno; they become Consts but not Errnos.
	Errnos       unit
	ErrnoAliases []string

	// Units are translation units, in priority order: a constant defined
	// in several is taken from the first. They are separate because glibc
	// and the kernel's uapi headers cannot be included together.
	Units []unit

	// Prefixes select constants by name (a full name is a prefix too;
	// one ending in "$" matches only the whole name: "B0$"), among the
	// units' integer macros and enumerators alike. Exclude drops names
	// again (prefix match as well).
	Prefixes []string
	Exclude  []string

	Structs []structSpec

	// Provenance names the header versions in the generated file's
	// comment: each macro of ProvenanceMacros, read in Provenance.
	Provenance       unit
	ProvenanceMacros []string

	// XSysFieldPrefixes are C member prefixes (st_, tv_) stripped when
	// guessing x/sys/unix Go field names: st_atim.tv_sec -> Atim.Sec.
	XSysFieldPrefixes []string
}

// unit is one C translation unit: headers, then Prelude.
type unit struct {
	Name    string
	Flags   []string // extra compiler flags, e.g. -D_GNU_SOURCE
	Headers []string
	Prelude string   // C declarations the headers lack (kernel structs glibc does not declare)
	Exclude []string // constants never taken from this unit (prefix match)
}

// structSpec names one C struct to lay out. Members are found in the
// compiler's debug info: named members in declaration order, nested
// structs flattened with dots (both the aggregate and its members),
// unions and arrays kept whole, bit-fields and members whose names start
// with "_" (reserved/padding) left out. Extra adds members the debug info
// cannot name: macros such as glibc's si_pid, or kernel spellings of glibc
// members.
type structSpec struct {
	Name  string // table name, C spelling without "struct "
	CType string // C type expression: "struct stat", "siginfo_t"
	Unit  string // translation unit declaring it
	Extra []fieldSpec

	XSys       string            // golang.org/x/sys/unix type, "" if none
	XSysFields map[string]string // table field -> Go field path, where the guess is wrong

	// Optional structs are laid out only where Unit declares CType
	// (types some architectures lack, such as glibc's user_regs_struct);
	// elsewhere the table has no such struct and the log says so.
	Optional bool
}

// fieldSpec is a member added by hand: Name in the table, C the member
// designator usable in offsetof (defaults to Name). With After set it
// is instead the bytes from the end of member After to the start of
// member Before: a run of bit-fields as a whole, which offsetof cannot
// name (perf_event_attr's flags word).
type fieldSpec struct {
	Name          string
	C             string
	After, Before string
}

func (f fieldSpec) designator() string {
	if f.C == "" {
		return f.Name
	}
	return f.C
}

// member returns f as a member to lay out.
func (f fieldSpec) member() member {
	return member{name: f.Name, c: f.designator(), after: f.After, before: f.Before}
}

// targets is every ABI generated, in the order they are reported.
var targets = append(append([]*target{linuxAMD64}, linuxCross...), xsysTargets...)

// linuxConstPrefixes are the constant families of the Linux syscall ABI.
var linuxConstPrefixes = []string{
	"O_", "AT_", "F_", "FD_", "LOCK_", "S_I", "S_IF", "SEEK_", "R_OK", "W_OK", "X_OK",
	"AF_", "PF_", "SOCK_", "SOL_", "SO_", "SCM_", "IPPROTO_", "IP_", "IPV6_", "TCP_",
	"MSG_", "SHUT_", "EPOLL", "POLL", "EFD_", "IN_", "TFD_", "SFD_",
	"SIG", "SA_", "SS_", "MINSIGSTKSZ", "NSIG", "_NSIG",
	"PROT_", "MAP_", "MREMAP_", "MS_", "MADV_", "MCL_", "MLOCK_", "MFD_",
	"RENAME_", "RESOLVE_", "STATX_", "XATTR_", "FALLOC_FL_", "SPLICE_F_",
	"CLOCK_", "TIMER_", "RLIMIT_", "RLIM_", "RUSAGE_", "PRIO_",
	"WNOHANG", "WUNTRACED", "WEXITED", "WSTOPPED", "WCONTINUED", "WNOWAIT",
	"__WALL", "__WCLONE", "__WNOTHREAD", "P_ALL", "P_PID", "P_PGID", "P_PIDFD",
	"CLD_", "SCHED_", "PR_", "GRND_", "UTIME_", "DT_", "CLONE_", "SIGEV_",
	"NAME_MAX", "PATH_MAX", "ST_", "AUDIT_ARCH_", "PIDFD_", "SPLICE_", "COPY_",
	"IOV_MAX", "UIO_MAXIOV", "CAP_", "_LINUX_CAPABILITY_",

	// Netlink and rtnetlink (many of them enumerators, not macros),
	// links, tun/tap.
	"NETLINK_", "NLM_F_", "NLMSG_", "NLMSGERR_", "NLA_", "RTM_", "RTMGRP_", "RTNLGRP_",
	"IFLA_", "IFA_", "RTA_", "RTN_", "RTPROT_", "RT_SCOPE_", "RT_TABLE_", "RTNH_", "RTAX_",
	"NDA_", "NDTPA_", "NUD_", "NTF_", "FRA_", "FR_ACT_", "FIB_RULE_", "IFF_", "ARPHRD_",
	"VETH_INFO_", "MACVLAN_", "BRIDGE_", "ETH_P_", "ETH_ALEN", "IFNAMSIZ", "TUNSET", "TUNGET",
	// Mounts and namespaces.
	"MNT_", "UMOUNT_", "MOUNT_ATTR_", "FSCONFIG_", "FSMOUNT_", "FSOPEN_", "FSPICK_",
	"MOVE_MOUNT_", "OPEN_TREE_", "NS_GET_",
	// seccomp, classic and extended BPF.
	"SECCOMP_", "BPF_",
	// Capabilities and securebits.
	"SECBIT_", "SECURE_", "VFS_CAP_",
	// POSIX message queues, AIO, fanotify, ptrace, perf, misc.
	"MQ_", "IOCB_", "FAN_", "PTRACE_", "PERF_", "RWF_", "ITIMER_", "SI_", "CMSG_ALIGN_UNIT",
	// Terminals: every TIOC ioctl and flag, and linuxTermNames.
	"TIOC",
}

// linuxPrefixes are the constant families and names of every Linux table.
var linuxPrefixes = append(append([]string(nil), linuxConstPrefixes...), linuxTermNames...)

// linuxTermNames are the kernel's terminal names (asm/termbits.h,
// asm/ioctls.h), matched whole: as prefixes, B0, V or ECHO would take
// in unrelated names.
var linuxTermNames = exact(
	"NCCS",
	// ioctls
	"TCGETS", "TCSETS", "TCSETSW", "TCSETSF", "TCGETS2", "TCSETS2", "TCSETSW2", "TCSETSF2",
	"TCFLSH", "TCXONC", "TCSBRK", "TCSBRKP", "FIONREAD", "FIONBIO", "FIOCLEX", "FIONCLEX",
	"FIOASYNC", "FIOQSIZE",
	// c_iflag
	"IGNBRK", "BRKINT", "IGNPAR", "PARMRK", "INPCK", "ISTRIP", "INLCR", "IGNCR", "ICRNL",
	"IUCLC", "IXON", "IXANY", "IXOFF", "IMAXBEL", "IUTF8",
	// c_oflag
	"OPOST", "OLCUC", "ONLCR", "OCRNL", "ONOCR", "ONLRET", "OFILL", "OFDEL",
	"NLDLY", "NL0", "NL1", "CRDLY", "CR0", "CR1", "CR2", "CR3", "TABDLY", "TAB0", "TAB1", "TAB2",
	"TAB3", "XTABS", "BSDLY", "BS0", "BS1", "VTDLY", "VT0", "VT1", "FFDLY", "FF0", "FF1",
	// c_cflag
	"CBAUD", "CSIZE", "CS5", "CS6", "CS7", "CS8", "CSTOPB", "CREAD", "PARENB", "PARODD",
	"HUPCL", "CLOCAL", "CBAUDEX", "CIBAUD", "CMSPAR", "CRTSCTS", "BOTHER", "IBSHIFT",
	// c_lflag
	"ISIG", "ICANON", "XCASE", "ECHO", "ECHOE", "ECHOK", "ECHONL", "NOFLSH", "TOSTOP",
	"ECHOCTL", "ECHOPRT", "ECHOKE", "FLUSHO", "PENDIN", "IEXTEN", "EXTPROC",
	// c_cc indexes
	"VINTR", "VQUIT", "VERASE", "VKILL", "VEOF", "VTIME", "VMIN", "VSWTC", "VSTART", "VSTOP",
	"VSUSP", "VEOL", "VREPRINT", "VDISCARD", "VWERASE", "VLNEXT", "VEOL2",
	// baud rates
	"B0", "B50", "B75", "B110", "B134", "B150", "B200", "B300", "B600", "B1200", "B1800",
	"B2400", "B4800", "B9600", "B19200", "B38400", "B57600", "B115200", "B230400", "B460800",
	"B500000", "B576000", "B921600", "B1000000", "B1152000", "B1500000", "B2000000",
	"B2500000", "B3000000", "B3500000", "B4000000", "EXTA", "EXTB",
	// tcsetattr, tcflush, tcflow
	"TCSANOW", "TCSADRAIN", "TCSAFLUSH", "TCIFLUSH", "TCOFLUSH", "TCIOFLUSH",
	"TCOOFF", "TCOON", "TCIOFF", "TCION",
)

// exact turns names into whole-name prefixes ("B0$").
func exact(names ...string) []string {
	var ps []string
	for _, n := range names {
		ps = append(ps, n+"$")
	}
	return ps
}

// linuxXSysFieldPrefixes are the member-name prefixes of Linux structs.
var linuxXSysFieldPrefixes = []string{
	"st_", "stx_", "f_", "tv_", "it_", "sin_", "sin6_", "sun_", "ss_", "sa_",
	"msg_", "iov_", "cmsg_", "l_", "rlim_", "ru_", "ssi_", "imr_", "ipv6mr_",
	"tms_", "si_", "sigev_", "tcpi_", "d_", "sched_", "handle_",
	"nlmsg_", "nla_", "rta_", "ifi_", "ifa_", "rtm_", "rtnh_", "ndm_", "rtgen_", "nl_", "sll_",
	"ws_", "c_",
}

// linuxAMD64 is Linux on x86_64 with Debian's glibc and linux-libc-dev.
var linuxAMD64 = &target{
	GOOS: "linux", GOARCH: "amd64", Dir: "abi/linux/amd64", PtrSize: 8,
	CC: []string{"gcc", "-m64"}, Run: true,
	CheckCC:  []string{"clang", "--target=x86_64-linux-gnu", "-ferror-limit=0"},
	Needs:    []string{"/usr/include/x86_64-linux-gnu/asm/unistd_64.h", "/usr/include/x86_64-linux-gnu/gnu/stubs-64.h"},
	Packages: []string{"gcc", "linux-libc-dev", "libc6-dev"},
	Doc: `// Package amd64 is the Linux ABI on x86_64 as data: syscall numbers,
// errnos, constants and struct layouts in Table (ztable.go), generated
// from Debian's linux-libc-dev and libc6-dev headers by build/abigen.
// Where glibc and the kernel disagree the table holds the kernel's value,
// since these numbers go to raw system calls.
//
// Regenerate with: go run ./build/abigen
package amd64
`,

	Syscalls:      unit{Name: "syscalls", Headers: []string{"asm/unistd_64.h"}},
	SyscallPrefix: "__NR_",

	Errnos:       unit{Name: "errno", Headers: []string{"errno.h", "string.h"}},
	ErrnoAliases: []string{"EWOULDBLOCK", "EDEADLOCK", "ENOTSUP"},

	Units: []unit{
		{
			// The kernel's own headers come first: these are raw
			// syscalls, so where glibc differs (O_LARGEFILE, SIGRTMIN,
			// SIGSTKSZ, sigset_t) the kernel is right.
			Name: "kernel",
			Headers: []string{
				"linux/types.h", "asm/signal.h", "asm/siginfo.h", "linux/signal.h",
				"linux/fcntl.h", "linux/stat.h", "linux/fs.h", "linux/mount.h",
				"linux/mman.h", "linux/memfd.h", "linux/socket.h", "asm/socket.h",
				"linux/in.h", "linux/in6.h", "linux/tcp.h", "linux/un.h",
				"linux/eventpoll.h", "linux/poll.h", "linux/inotify.h", "linux/signalfd.h",
				"linux/wait.h", "linux/sched.h", "linux/prctl.h", "linux/random.h",
				"linux/resource.h", "linux/time.h", "linux/openat2.h", "linux/audit.h",
				"linux/limits.h", "linux/xattr.h", "linux/falloc.h", "linux/uio.h",
				"linux/capability.h", "linux/pidfd.h", "linux/utsname.h",
				"linux/seccomp.h", "linux/filter.h", "linux/bpf.h", "linux/securebits.h",
				"linux/nsfs.h", "linux/mqueue.h", "linux/aio_abi.h", "linux/fanotify.h",
				"linux/perf_event.h", "linux/sysinfo.h", "linux/ptrace.h",
			},
			Prelude: kernelPrelude,
			// asm/signal.h's NSIG is a 32-signal relic kept "for libcs
			// that poke about in kernel headers"; glibc's 65 is the one
			// callers mean (highest signal + 1). The kernel's is _NSIG.
			Exclude: []string{"NSIG"},
		},
		{
			// Netlink, rtnetlink and network interfaces. linux/if.h
			// includes glibc's sys/socket.h for struct sockaddr, so these
			// are a unit of their own. linux/if_tun.h uses _IOW without
			// including linux/ioctl.h.
			Name: "net",
			Headers: []string{
				"linux/ioctl.h", "linux/if.h", "linux/netlink.h", "linux/rtnetlink.h", "linux/if_link.h",
				"linux/if_addr.h", "linux/neighbour.h", "linux/fib_rules.h", "linux/if_packet.h",
				"linux/if_ether.h", "linux/if_arp.h", "linux/if_tun.h", "linux/veth.h",
				"linux/if_bridge.h",
			},
		},
		{
			// The kernel's terminal interface: struct termios and termios2
			// as TCGETS and TCGETS2 take them (not glibc's termios), and
			// the tty ioctls (linux/serial.h declares the struct of
			// TIOCGISO7816).
			Name:    "tty",
			Headers: []string{"asm/termbits.h", "asm/termios.h", "asm/ioctls.h", "linux/serial.h"},
		},
		{
			Name:  "libc",
			Flags: []string{"-D_GNU_SOURCE"},
			Headers: []string{
				"fcntl.h", "sys/stat.h", "sys/statfs.h", "sys/statvfs.h", "sys/socket.h",
				"netinet/in.h", "netinet/tcp.h", "sys/un.h", "sys/epoll.h", "poll.h",
				"sys/eventfd.h", "sys/inotify.h", "sys/timerfd.h", "sys/signalfd.h",
				"signal.h", "sys/mman.h", "sys/xattr.h", "sys/file.h", "sys/resource.h",
				"sys/wait.h", "sched.h", "sys/prctl.h", "sys/random.h", "sys/utsname.h",
				"time.h", "sys/time.h", "sys/times.h", "dirent.h", "stdio.h", "limits.h",
				"sys/uio.h", "unistd.h", "linux/falloc.h", "linux/openat2.h",
				"linux/audit.h", "linux/limits.h", "sys/mount.h", "sys/user.h", "sys/select.h",
			},
			Prelude: libcPrelude,
			// glibc's SIG_ATOMIC_* are sig_atomic_t limits, not signals.
			Exclude: []string{"SIG_ATOMIC_"},
		},
	},

	Provenance:       unit{Name: "provenance", Headers: []string{"linux/version.h", "features.h"}},
	ProvenanceMacros: []string{"LINUX_VERSION_CODE", "__GLIBC__", "__GLIBC_MINOR__"},

	Prefixes:          linuxPrefixes,
	XSysFieldPrefixes: linuxXSysFieldPrefixes,

	Structs: []structSpec{
		{Name: "stat", CType: "struct stat", Unit: "libc", XSys: "Stat_t"},
		{Name: "statx", CType: "struct statx", Unit: "kernel", XSys: "Statx_t"},
		{Name: "statfs", CType: "struct statfs", Unit: "libc", XSys: "Statfs_t"},
		{Name: "timespec", CType: "struct timespec", Unit: "libc", XSys: "Timespec"},
		{Name: "timeval", CType: "struct timeval", Unit: "libc", XSys: "Timeval"},
		{Name: "timezone", CType: "struct timezone", Unit: "libc"},
		{Name: "itimerspec", CType: "struct itimerspec", Unit: "libc", XSys: "ItimerSpec"},
		{Name: "itimerval", CType: "struct itimerval", Unit: "libc", XSys: "Itimerval"},
		{Name: "utsname", CType: "struct utsname", Unit: "libc", XSys: "Utsname"},
		{Name: "sockaddr", CType: "struct sockaddr", Unit: "libc", XSys: "RawSockaddr"},
		{Name: "sockaddr_in", CType: "struct sockaddr_in", Unit: "libc", XSys: "RawSockaddrInet4"},
		{Name: "sockaddr_in6", CType: "struct sockaddr_in6", Unit: "libc", XSys: "RawSockaddrInet6"},
		{Name: "sockaddr_un", CType: "struct sockaddr_un", Unit: "libc", XSys: "RawSockaddrUnix"},
		{Name: "sockaddr_storage", CType: "struct sockaddr_storage", Unit: "libc"},
		{Name: "msghdr", CType: "struct msghdr", Unit: "libc", XSys: "Msghdr"},
		{Name: "mmsghdr", CType: "struct mmsghdr", Unit: "libc", XSys: "Mmsghdr"},
		{Name: "iovec", CType: "struct iovec", Unit: "libc", XSys: "Iovec"},
		{Name: "cmsghdr", CType: "struct cmsghdr", Unit: "libc", XSys: "Cmsghdr"},
		{Name: "ucred", CType: "struct ucred", Unit: "libc", XSys: "Ucred"},
		{Name: "linger", CType: "struct linger", Unit: "libc", XSys: "Linger"},
		{Name: "ip_mreq", CType: "struct ip_mreq", Unit: "libc", XSys: "IPMreq"},
		{Name: "ip_mreqn", CType: "struct ip_mreqn", Unit: "libc", XSys: "IPMreqn"},
		{Name: "ipv6_mreq", CType: "struct ipv6_mreq", Unit: "libc", XSys: "IPv6Mreq"},
		{Name: "tcp_info", CType: "struct tcp_info", Unit: "kernel", XSys: "TCPInfo"},
		{Name: "epoll_event", CType: "struct epoll_event", Unit: "libc", XSys: "EpollEvent"},
		{Name: "pollfd", CType: "struct pollfd", Unit: "libc", XSys: "PollFd"},
		{Name: "flock", CType: "struct flock", Unit: "libc", XSys: "Flock_t"},
		{Name: "rlimit", CType: "struct rlimit", Unit: "libc", XSys: "Rlimit"},
		{Name: "rusage", CType: "struct rusage", Unit: "libc", XSys: "Rusage"},
		{Name: "tms", CType: "struct tms", Unit: "libc", XSys: "Tms"},
		{Name: "inotify_event", CType: "struct inotify_event", Unit: "libc", XSys: "InotifyEvent"},
		{Name: "signalfd_siginfo", CType: "struct signalfd_siginfo", Unit: "kernel", XSys: "SignalfdSiginfo"},
		{Name: "open_how", CType: "struct open_how", Unit: "kernel", XSys: "OpenHow"},
		{Name: "clone_args", CType: "struct clone_args", Unit: "kernel"},
		{Name: "linux_dirent64", CType: "struct linux_dirent64", Unit: "kernel", XSys: "Dirent"},
		{Name: "file_handle", CType: "struct file_handle", Unit: "libc"},
		{Name: "sched_param", CType: "struct sched_param", Unit: "libc"},
		{Name: "cap_user_header", CType: "struct __user_cap_header_struct", Unit: "kernel", XSys: "CapUserHeader"},
		{Name: "cap_user_data", CType: "struct __user_cap_data_struct", Unit: "kernel", XSys: "CapUserData"},
		{
			Name: "sigevent", CType: "struct sigevent", Unit: "libc", XSys: "Sigevent",
			// glibc spells the kernel's sigev_notify_thread_id _sigev_un._tid;
			// the SIGEV_THREAD members are glibc macros.
			Extra: []fieldSpec{
				{Name: "sigev_notify_thread_id", C: "_sigev_un._tid"},
				{Name: "sigev_notify_function"}, {Name: "sigev_notify_attributes"},
			},
		},
		{
			// The members are glibc macros over the _sifields union.
			Name: "siginfo", CType: "siginfo_t", Unit: "libc", XSys: "Siginfo",
			Extra: []fieldSpec{
				{Name: "si_pid"}, {Name: "si_uid"}, {Name: "si_timerid"}, {Name: "si_overrun"},
				{Name: "si_status"}, {Name: "si_utime"}, {Name: "si_stime"},
				{Name: "si_value"}, {Name: "si_int"}, {Name: "si_ptr"},
				{Name: "si_addr"}, {Name: "si_addr_lsb"}, {Name: "si_lower"}, {Name: "si_upper"},
				{Name: "si_pkey"}, {Name: "si_band"}, {Name: "si_fd"},
				{Name: "si_call_addr"}, {Name: "si_syscall"}, {Name: "si_arch"},
			},
		},
		{Name: "sigaltstack", CType: "struct sigaltstack", Unit: "kernel"},

		// Netlink and rtnetlink.
		{Name: "nlmsghdr", CType: "struct nlmsghdr", Unit: "net", XSys: "NlMsghdr"},
		{Name: "nlmsgerr", CType: "struct nlmsgerr", Unit: "net", XSys: "NlMsgerr"},
		{Name: "nlattr", CType: "struct nlattr", Unit: "net", XSys: "NlAttr"},
		{Name: "rtattr", CType: "struct rtattr", Unit: "net", XSys: "RtAttr"},
		{Name: "rtgenmsg", CType: "struct rtgenmsg", Unit: "net", XSys: "RtGenmsg"},
		{Name: "ifinfomsg", CType: "struct ifinfomsg", Unit: "net", XSys: "IfInfomsg"},
		{Name: "ifaddrmsg", CType: "struct ifaddrmsg", Unit: "net", XSys: "IfAddrmsg"},
		{Name: "ifa_cacheinfo", CType: "struct ifa_cacheinfo", Unit: "net", XSys: "IfaCacheinfo"},
		{Name: "rtmsg", CType: "struct rtmsg", Unit: "net", XSys: "RtMsg"},
		{Name: "rtnexthop", CType: "struct rtnexthop", Unit: "net", XSys: "RtNexthop"},
		{Name: "rta_cacheinfo", CType: "struct rta_cacheinfo", Unit: "net"},
		{Name: "ndmsg", CType: "struct ndmsg", Unit: "net", XSys: "NdMsg"},
		{Name: "nda_cacheinfo", CType: "struct nda_cacheinfo", Unit: "net"},
		{Name: "fib_rule_hdr", CType: "struct fib_rule_hdr", Unit: "net"},
		{Name: "sockaddr_nl", CType: "struct sockaddr_nl", Unit: "net", XSys: "RawSockaddrNetlink"},
		{Name: "sockaddr_ll", CType: "struct sockaddr_ll", Unit: "net", XSys: "RawSockaddrLinklayer"},
		{
			// The kernel's ifreq: a name union and a request union, whose
			// members linux/if.h names by macros (ifr_flags is
			// ifr_ifru.ifru_flags). x/sys's ifreq is unexported.
			Name: "ifreq", CType: "struct ifreq", Unit: "net",
			Extra: []fieldSpec{
				{Name: "ifr_name"}, {Name: "ifr_hwaddr"}, {Name: "ifr_addr"}, {Name: "ifr_dstaddr"},
				{Name: "ifr_broadaddr"}, {Name: "ifr_netmask"}, {Name: "ifr_flags"},
				{Name: "ifr_metric"}, {Name: "ifr_mtu"}, {Name: "ifr_map"}, {Name: "ifr_slave"},
				{Name: "ifr_data"}, {Name: "ifr_ifindex"}, {Name: "ifr_qlen"}, {Name: "ifr_newname"},
			},
		},

		// Mounts.
		{Name: "mount_attr", CType: "struct mount_attr", Unit: "kernel", XSys: "MountAttr"},

		// seccomp and BPF.
		{Name: "sock_filter", CType: "struct sock_filter", Unit: "kernel", XSys: "SockFilter"},
		{Name: "sock_fprog", CType: "struct sock_fprog", Unit: "kernel", XSys: "SockFprog"},
		{Name: "seccomp_data", CType: "struct seccomp_data", Unit: "kernel"},
		{Name: "seccomp_notif", CType: "struct seccomp_notif", Unit: "kernel"},
		{Name: "seccomp_notif_resp", CType: "struct seccomp_notif_resp", Unit: "kernel"},
		{Name: "seccomp_notif_sizes", CType: "struct seccomp_notif_sizes", Unit: "kernel"},
		{Name: "seccomp_notif_addfd", CType: "struct seccomp_notif_addfd", Unit: "kernel"},
		{
			// dst_reg:4 and src_reg:4 are bit-fields: "regs" is their byte.
			Name: "bpf_insn", CType: "struct bpf_insn", Unit: "kernel",
			Extra: []fieldSpec{{Name: "regs", After: "code", Before: "off"}},
		},
		{
			// A union of one anonymous struct per command; every member
			// is listed under its own name (C requires them distinct).
			Name: "bpf_attr", CType: "union bpf_attr", Unit: "kernel",
		},

		// Capabilities.
		{Name: "vfs_cap_data", CType: "struct vfs_cap_data", Unit: "kernel"},
		{Name: "vfs_ns_cap_data", CType: "struct vfs_ns_cap_data", Unit: "kernel"},

		// Terminals: the kernel's termios (what TCGETS fills) and
		// termios2 (TCGETS2), which x/sys calls Termios.
		{Name: "termios", CType: "struct termios", Unit: "tty"},
		{Name: "termios2", CType: "struct termios2", Unit: "tty", XSys: "Termios"},
		{Name: "winsize", CType: "struct winsize", Unit: "tty", XSys: "Winsize"},

		// Message queues, AIO, fanotify, ptrace, perf, sysinfo.
		{Name: "mq_attr", CType: "struct mq_attr", Unit: "kernel"},
		{Name: "iocb", CType: "struct iocb", Unit: "kernel"},
		{Name: "io_event", CType: "struct io_event", Unit: "kernel"},
		{Name: "fanotify_event_metadata", CType: "struct fanotify_event_metadata", Unit: "kernel", XSys: "FanotifyEventMetadata"},
		{Name: "fanotify_response", CType: "struct fanotify_response", Unit: "kernel", XSys: "FanotifyResponse"},
		{Name: "fanotify_event_info_header", CType: "struct fanotify_event_info_header", Unit: "kernel"},
		{
			// The general registers of PTRACE_GETREGS and NT_PRSTATUS
			// where they are declared as user_regs_struct: by glibc's
			// sys/user.h on x86 and arm64, by the kernel's asm/ptrace.h
			// on riscv64 and s390x (linuxArch.KernelRegs). arm, powerpc
			// and mips name their register sets otherwise.
			Name: "user_regs_struct", CType: "struct user_regs_struct", Unit: "libc", XSys: "PtraceRegs",
			Optional: true,
		},
		{
			// The bit-fields from disabled to the reserved tail share one
			// 64-bit word, "flags"; x/sys names the anonymous unions by
			// their role (Sample, Wakeup, Ext1, Ext2).
			Name: "perf_event_attr", CType: "struct perf_event_attr", Unit: "kernel", XSys: "PerfEventAttr",
			Extra: []fieldSpec{{Name: "flags", After: "read_format", Before: "wakeup_events"}},
			XSysFields: map[string]string{
				"flags": "Bits", "sample_period": "Sample", "sample_freq": "Sample",
				"wakeup_events": "Wakeup", "wakeup_watermark": "Wakeup",
				"bp_addr": "Ext1", "kprobe_func": "Ext1", "uprobe_path": "Ext1", "config1": "Ext1",
				"bp_len": "Ext2", "kprobe_addr": "Ext2", "probe_offset": "Ext2", "config2": "Ext2",
			},
		},
		{
			Name: "sysinfo", CType: "struct sysinfo", Unit: "kernel", XSys: "Sysinfo_t",
			XSysFields: map[string]string{"mem_unit": "Unit"},
		},
		{Name: "fd_set", CType: "fd_set", Unit: "libc", XSys: "FdSet", XSysFields: map[string]string{"fds_bits": "Bits"}},
		{
			// prlimit64(2)'s struct on 32-bit targets (linux/resource.h
			// has no 64-bit rlimit; glibc's rlimit64 is the layout).
			Name: "rlimit64", CType: "struct rlimit64", Unit: "libc", XSys: "Rlimit",
		},
		{Name: "kernel_sigaction", CType: "struct sigaction", Unit: "kernel"},
		{
			Name: "kernel_sigset", CType: "struct kernel_sigset", Unit: "kernel", XSys: "Sigset_t",
			XSysFields: map[string]string{"sig": "Val"},
		},
	},
}

// libcPrelude names values the headers compute but do not name.
const libcPrelude = `
/* The unit control-message lengths are rounded to (CMSG_ALIGN, CMSG_SPACE):
   glibc's CMSG_ALIGN rounds to sizeof(size_t), the kernel's
   (include/linux/socket.h) to sizeof(long), the same on Linux. */
#define CMSG_ALIGN_UNIT CMSG_ALIGN(1)
`

// kernelPrelude declares what the kernel's uapi headers leave out.
const kernelPrelude = `
/* x86's asm/signal.h uses _NSIG (in SIGRTMAX) without defining it. */
#ifndef _NSIG
#define _NSIG 64
#endif

/* The kernel's sigset_t (include/linux/signal_types.h): _NSIG bits. The
   uapi sigset_t is a bare unsigned long; glibc's is 1024 bits. */
struct kernel_sigset {
	unsigned long sig[_NSIG / (8 * sizeof(unsigned long))];
};

/* getdents64(2) records (fs/readdir.c); no header declares them. */
struct linux_dirent64 {
	__u64 d_ino;
	__s64 d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};
`
