package gen

import (
	"fmt"
	"sort"
	"strings"

	"github.com/anykernel/anykernel/abi"
)

// xsysSpec configures a table taken from golang.org/x/sys/unix's
// generated files (zsysnum_*, zerrors_*, ztypes_*), which x/sys generates
// from each system's own headers. Layouts are computed with go/types for
// the target's GOARCH, aligned as its C compiler aligns.
type xsysSpec struct {
	Why string // why x/sys is the source, for the package comment

	// Prefixes select constants (exported x/sys names) by prefix.
	Prefixes []string
	Exclude  []string

	Structs []xstruct
	// TypePrefix is the C member prefix of nested struct types
	// ("Timespec": "tv_"), used when a struct member is itself a struct.
	TypePrefix map[string]string

	// Syscalls are syscalls x/sys lacks, hand-described with their
	// upstream source cited.
	Syscalls []abi.Syscall
	// Consts are constants x/sys lacks, likewise.
	Consts []abi.Const
}

// xstruct is one x/sys struct type kept in the table under its C name.
type xstruct struct {
	Name   string // table name: "stat"
	GoType string // "Stat_t"
	Prefix string // C member prefix: "st_"
	// Rename maps Go field paths to C member names where the rule
	// (Prefix + Go name with a lower-case first letter) is wrong; ""
	// leaves the member out, and "a,b" names several C members at the
	// place of one Go field (the members of a union).
	Rename map[string]string
}

var bsdConstPrefixes = []string{
	"O_", "AT_", "F_", "FD_", "LOCK_", "S_I", "SEEK_", "R_OK", "W_OK", "X_OK",
	"AF_", "PF_", "SOCK_", "SOL_", "SO_", "SCM_", "IPPROTO_", "IP_", "IPV6_", "TCP_",
	"MSG_", "SHUT_", "POLL", "EVFILT_", "EV_", "NOTE_",
	"SIG", "SA_", "SS_", "PROT_", "MAP_", "MS_", "MADV_", "MCL_", "MNT_", "ST_",
	"CLOCK_", "TIMER_", "RLIMIT_", "RLIM_", "RUSAGE_", "PRIO_",
	"WNOHANG", "WUNTRACED", "WEXITED", "WSTOPPED", "WCONTINUED", "WNOWAIT", "WALL",
	"DT_", "UTIME_", "NAME_MAX", "PATH_MAX", "IOV_MAX", "CTL_", "KERN_",
	"TIOC", "ECHO", "ICANON", "ISIG", "VMIN", "VTIME", "B0", "B9600", "B38400", "B115200",
}

var bsdTypePrefix = map[string]string{
	"Timespec": "tv_", "Timeval": "tv_", "Fsid": "",
}

// bsdStructs are the structs of the BSDs and darwin, where x/sys has them.
func bsdStructs(goos string) []xstruct {
	stat := xstruct{Name: "stat", GoType: "Stat_t", Prefix: "st_", Rename: map[string]string{"Btim": "st_birthtim"}}
	if goos == "darwin" {
		// struct stat with _DARWIN_FEATURE_64_BIT_INODE (stat64, what
		// fstat64 fills and libSystem's stat is).
		stat.Rename = map[string]string{
			// st_atim too: the POSIX 2008 spelling the other targets use.
			"Atim": "st_atimespec,st_atim", "Mtim": "st_mtimespec,st_mtim", "Ctim": "st_ctimespec,st_ctim", "Btim": "st_birthtimespec",
		}
	}
	ss := []xstruct{
		stat,
		{Name: "timespec", GoType: "Timespec", Prefix: "tv_"},
		{Name: "timeval", GoType: "Timeval", Prefix: "tv_"},
		{Name: "itimerval", GoType: "Itimerval", Prefix: "it_"},
		{Name: "rusage", GoType: "Rusage", Prefix: "ru_"},
		{Name: "rlimit", GoType: "Rlimit", Prefix: "rlim_"},
		{Name: "flock", GoType: "Flock_t", Prefix: "l_"},
		{Name: "dirent", GoType: "Dirent", Prefix: "d_"},
		{Name: "sockaddr", GoType: "RawSockaddr", Prefix: "sa_"},
		{Name: "sockaddr_in", GoType: "RawSockaddrInet4", Prefix: "sin_"},
		{Name: "sockaddr_in6", GoType: "RawSockaddrInet6", Prefix: "sin6_"},
		{Name: "sockaddr_un", GoType: "RawSockaddrUnix", Prefix: "sun_"},
		{Name: "sockaddr_dl", GoType: "RawSockaddrDatalink", Prefix: "sdl_"},
		{Name: "linger", GoType: "Linger", Prefix: "l_"},
		{Name: "iovec", GoType: "Iovec", Prefix: "iov_"},
		{Name: "ip_mreq", GoType: "IPMreq", Prefix: "imr_"},
		{Name: "ip_mreqn", GoType: "IPMreqn", Prefix: "imr_"},
		{Name: "ipv6_mreq", GoType: "IPv6Mreq", Prefix: "ipv6mr_"},
		{Name: "msghdr", GoType: "Msghdr", Prefix: "msg_"},
		{Name: "cmsghdr", GoType: "Cmsghdr", Prefix: "cmsg_"},
		{Name: "kevent", GoType: "Kevent_t"},
		{Name: "pollfd", GoType: "PollFd"},
		{Name: "fd_set", GoType: "FdSet", Rename: map[string]string{"Bits": "fds_bits"}},
		{Name: "termios", GoType: "Termios", Prefix: "c_"},
		{Name: "winsize", GoType: "Winsize", Prefix: "ws_"},
		{Name: "xucred", GoType: "Xucred", Prefix: "cr_"},
	}
	switch goos {
	case "netbsd":
		// x/sys's Statvfs_t is the layout of statvfs1/fstatvfs1/getvfsstat
		// (356-358): NetBSD 10 calls it struct statvfs90 and gives the
		// __*statvfs190 calls (483-486) a larger struct statvfs, which
		// this table does not describe.
		ss = append(ss, xstruct{Name: "statvfs90", GoType: "Statvfs_t", Prefix: "f_"})
	case "openbsd":
		ss = append(ss, xstruct{Name: "statfs", GoType: "Statfs_t", Prefix: "f_", Rename: map[string]string{"Mount_info": "mount_info"}})
	default:
		ss = append(ss, xstruct{Name: "statfs", GoType: "Statfs_t", Prefix: "f_"})
	}
	return ss
}

// netbsdSyscalls are the syscalls of NetBSD 8-10 that x/sys's tables
// (from an older sys/kern/syscalls.master) lack, by their sys/syscall.h
// names. Source: NetBSD src/sys/kern/syscalls.master, entries 477-486.
var netbsdSyscalls = []abi.Syscall{
	{Name: "clock_nanosleep", Nr: 477},
	{Name: "___lwp_park60", Nr: 478},
	{Name: "posix_fallocate", Nr: 479},
	{Name: "fdiscard", Nr: 480},
	{Name: "wait6", Nr: 481},
	{Name: "clock_getcpuclockid2", Nr: 482},
	{Name: "__getvfsstat90", Nr: 483},
	{Name: "__statvfs190", Nr: 484},
	{Name: "__fstatvfs190", Nr: 485},
	{Name: "__fhstatvfs190", Nr: 486},
}

// netbsdMountArgs hand-describes the mount argument structs the rump
// backend passes to __mount50, which no Debian header declares. clang
// --target=<arch>--netbsd lays them out.
const netbsdMountArgs = `
/* NetBSD's sys/types.h widths. */
typedef unsigned long long ino_t;
typedef long long off_t;
typedef unsigned int uid_t;
typedef unsigned int gid_t;
typedef unsigned int mode_t;

/* src/sys/fs/tmpfs/tmpfs_args.h */
#define TMPFS_ARGS_VERSION 1
struct tmpfs_args {
	int ta_version;
	ino_t ta_nodes_max;
	off_t ta_size_max;
	uid_t ta_root_uid;
	gid_t ta_root_gid;
	mode_t ta_root_mode;
};

/* src/sys/ufs/ufs/ufsmount.h */
struct ufs_args {
	char *fspec;
};

/* src/sys/fs/ptyfs/ptyfs.h */
#define PTYFS_ARGSVERSION 2
#define PTYFSMNT_CHROOT 0x01
struct ptyfs_args {
	int version;
	gid_t gid;
	mode_t mode;
	int flags;
};

/* src/sys/sys/syslimits.h */
#define NGROUPS_MAX 16

/* src/sys/sys/ucred.h */
struct uucred {
	unsigned short cr_unused;
	uid_t cr_uid;
	gid_t cr_gid;
	short cr_ngroups;
	gid_t cr_groups[NGROUPS_MAX];
};

/* src/sys/sys/mount.h: the export arguments of NetBSD 1.x-5.x, which
   iso_args keeps in place for old tools. */
struct sockaddr;
struct export_args30 {
	int ex_flags;
	uid_t ex_root;
	struct uucred ex_anon;
	struct sockaddr *ex_addr;
	int ex_addrlen;
	struct sockaddr *ex_mask;
	int ex_masklen;
	char *ex_indexfile;
};

/* src/sys/fs/cd9660/cd9660_mount.h */
struct iso_args {
	const char *fspec;
	struct export_args30 _pad1;
	int flags;
};
#define ISOFSMNT_NORRIP 0x00000001
#define ISOFSMNT_GENS 0x00000002
#define ISOFSMNT_EXTATT 0x00000004
#define ISOFSMNT_NOJOLIET 0x00000008
#define ISOFSMNT_NOCASETRANS 0x00000010
#define ISOFSMNT_RRCASEINS 0x00000020

`

// netbsdDefs hand-describes the constants and the one struct api needs
// that x/sys's NetBSD files lack (x/sys generates them from a subset of
// the headers), restated from NetBSD's headers (src/sys/sys/*.h in
// NetBSD/src, the same in the src-netbsd a rump kernel is built from).
// They are the same on every NetBSD architecture. None of them is in a
// rump kernel's rumpdefs.h, which the C check compares the table with;
// the check compiles this unit against the table instead.
const netbsdDefs = `
/* src/sys/sys/unistd.h */
#define F_OK 0
#define X_OK 0x01
#define W_OK 0x02
#define R_OK 0x04
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2

/* src/sys/sys/syslimits.h (NAME_MAX is in x/sys) */
#define PATH_MAX 1024
#define IOV_MAX 1024

/* src/sys/sys/stat.h */
#define UTIME_NOW ((1 << 30) - 1)
#define UTIME_OMIT ((1 << 30) - 2)

/* src/sys/sys/time.h */
#define ITIMER_REAL 0
#define ITIMER_VIRTUAL 1
#define ITIMER_PROF 2
#define ITIMER_MONOTONIC 3
#define CLOCK_REALTIME 0
#define CLOCK_VIRTUAL 1
#define CLOCK_PROF 2
#define CLOCK_MONOTONIC 3
#define CLOCK_THREAD_CPUTIME_ID 0x80000000
#define CLOCK_PROCESS_CPUTIME_ID 0x40000000
#define TIMER_RELTIME 0x0
#define TIMER_ABSTIME 0x1

/* src/sys/sys/signal.h */
#define SIG_BLOCK 1
#define SIG_UNBLOCK 2
#define SIG_SETMASK 3

/* src/sys/sys/sigtypes.h: the kernel's sigset_t, four 32-bit words, bit
   (n-1)%32 of word (n-1)/32 for signal n, what __sigprocmask14,
   __sigpending14, __pollts50 and __pselect50 take. The tables name the
   kernel's signal set struct kernel_sigset with the member sig on every
   OS (NetBSD calls it __bits, a reserved name the generator leaves out). */
struct kernel_sigset {
	unsigned int sig[4];
};

/* src/sys/sys/socket.h: struct mmsghdr of sendmmsg/recvmmsg, around
   the struct msghdr x/sys has. */
typedef unsigned int socklen_t;
struct iovec;
struct msghdr {
	void *msg_name;
	socklen_t msg_namelen;
	struct iovec *msg_iov;
	int msg_iovlen;
	void *msg_control;
	socklen_t msg_controllen;
	int msg_flags;
};
struct mmsghdr {
	struct msghdr msg_hdr;
	unsigned int msg_len;
};

/* What x/sys lacks of src/sys/sys/socket.h, sys/fcntl.h, netinet/in.h
   and netinet/tcp.h; a rump kernel's rumpdefs.h restates each as RUMP_*,
   which the C check compares with the table. */
#define MSG_WAITFORONE 0x2000
#define MSG_NOTIFICATION 0x4000
#define SOCK_CONN_DGRAM 6
#define SOCK_DCCP SOCK_CONN_DGRAM
#define O_SEARCH 0x00800000
#define IPPROTO_DCCP 33
#define IPPROTO_SCTP 132
#define IP_PORTALGO 18
#define IP_PKTINFO 25
#define IP_RECVPKTINFO 26
#define TCP_NOPUSH 4
#define TCP_NOOPT 8
#define TCP_INFO 9

/* src/sys/sys/statvfs.h: the f_flag bits of statvfs1, each the
   MNT_* flag of src/sys/sys/fstypes.h (which x/sys has) of its name. */
#define ST_RDONLY 0x00000001
#define ST_SYNCHRONOUS 0x00000002
#define ST_NOEXEC 0x00000004
#define ST_NOSUID 0x00000008
#define ST_NODEV 0x00000010
#define ST_UNION 0x00000020
#define ST_ASYNC 0x00000040
#define ST_LOCAL 0x00001000
#define ST_QUOTA 0x00002000
#define ST_ROOTFS 0x00004000
#define ST_NOCOREDUMP 0x00008000
#define ST_RELATIME 0x00020000
#define ST_IGNORE 0x00100000
#define ST_EXTATTR 0x01000000
#define ST_LOG 0x02000000
#define ST_NOATIME 0x04000000
#define ST_SYMPERM 0x20000000
#define ST_NODEVMTIME 0x40000000
#define ST_SOFTDEP 0x80000000

/* src/sys/sys/sched.h */
#define SCHED_NONE -1
#define SCHED_OTHER 0
#define SCHED_FIFO 1
#define SCHED_RR 2

/* src/sys/sys/idtype.h: the id types of wait6(2) (and waitid). */
typedef enum {
	P_MYID = -1,
	P_ALL,
	P_PID,
	P_LWPID,
	P_PPID,
	P_PGID,
	P_SID,
	P_CID,
	P_UID,
	P_GID,
	P_TASKID,
	P_PROJID,
	P_POOLID,
	P_ZONEID,
	P_CTID,
	P_CPUID,
	P_PSETID,
	_P_MAXIDTYPE = 0x7fffffff
} idtype_t;

/* src/sys/sys/wait.h: x/sys's WSTOPPED is the status value _WSTOPPED
   (0177); the wait option is WUNTRACED's SUS name. */
#define WUNTRACED 0x00000002
#define WSTOPPED WUNTRACED
#define WCONTINUED 0x00000010
#define WEXITED 0x00000020
#define WTRAPPED 0x00000040
#define WNOZOMBIE 0x00020000

/* src/sys/sys/mman.h (x/sys has only MAP_ANON, its alias) */
#define MAP_ANONYMOUS 0x1000

/* src/sys/sys/termios.h: what x/sys lacks of it. */
#define NCCS 20
#define OXTABS 0x00000004U
#define CDTRCTS 0x00020000U
#define MDMBUF 0x00100000U
#define ALTWERASE 0x00000200U
#define NOKERNINFO 0x02000000U
#define TCSANOW 0
#define TCSADRAIN 1
#define TCSAFLUSH 2
#define TCSASOFT 0x10
#define TCOOFF 1
#define TCOON 2
#define TCIOFF 3
#define TCION 4
`

// netbsdDefPrefixes select netbsdDefs' constants (and the mount units').
var netbsdDefPrefixes = []string{
	"TMPFS_", "PTYFS", "ISOFSMNT_",
	"F_OK$", "X_OK$", "W_OK$", "R_OK$", "SEEK_", "PATH_MAX$", "IOV_MAX$", "UTIME_",
	"ITIMER_", "CLOCK_", "TIMER_", "SIG_BLOCK$", "SIG_UNBLOCK$", "SIG_SETMASK$", "SCHED_", "P_",
	"WUNTRACED$", "WSTOPPED$", "WCONTINUED$", "WEXITED$", "WTRAPPED$", "WNOZOMBIE$", "MAP_ANONYMOUS$",
	"MSG_WAITFORONE$", "MSG_NOTIFICATION$", "SOCK_CONN_DGRAM$", "SOCK_DCCP$", "O_SEARCH$", "IPPROTO_DCCP$", "IPPROTO_SCTP$",
	"IP_PORTALGO$", "IP_PKTINFO$", "IP_RECVPKTINFO$", "TCP_NOPUSH$", "TCP_NOOPT$", "TCP_INFO$", "ST_",
	"NCCS$", "OXTABS$", "CDTRCTS$", "MDMBUF$", "ALTWERASE$", "NOKERNINFO$", "TCSA", "TCOOFF$", "TCOON$", "TCIOFF$", "TCION$",
}

// netbsdTermiosPrefixes are the termios flag and c_cc index names x/sys
// has for NetBSD (BSD spellings: no c_line, speeds as numbers).
var netbsdTermiosPrefixes = []string{
	"BRKINT$", "ICRNL$", "IGNBRK$", "IGNCR$", "IGNPAR$", "INLCR$", "INPCK$", "ISTRIP$", "IXANY$", "IXOFF$", "IXON$",
	"IMAXBEL$", "PARMRK$", "OPOST$", "ONLCR$", "OCRNL$", "ONOCR$", "ONLRET$", "ONOEOT$", "CSIZE$", "CS5$", "CS6$",
	"CS7$", "CS8$", "CSTOPB$", "CREAD$", "PARENB$", "PARODD$", "HUPCL$", "CLOCAL$", "CRTSCTS$", "IEXTEN$", "EXTPROC$",
	"TOSTOP$", "FLUSHO$", "PENDIN$", "NOFLSH$", "VEOF$", "VEOL$", "VEOL2$", "VERASE$", "VWERASE$", "VKILL$", "VREPRINT$",
	"VINTR$", "VQUIT$", "VSUSP$", "VDSUSP$", "VSTART$", "VSTOP$", "VLNEXT$", "VDISCARD$", "VSTATUS$",
	"TCIFLUSH$", "TCOFLUSH$", "TCIOFLUSH$",
}

// xsysTarget is a target whose table comes from x/sys.
func xsysTarget(goos, goarch string, ptr int, spec *xsysSpec, noC, doc string) *target {
	spec.Consts = append(spec.Consts, abi.Const{Name: "CMSG_ALIGN_UNIT", Value: cmsgAlignUnit(goos, goarch, ptr)})
	return &target{
		GOOS: goos, GOARCH: goarch, Dir: "abi/" + goos + "/" + goarch, PtrSize: ptr, XSys: spec, NoC: noC, Doc: doc,
	}
}

var xsysTargets = func() []*target {
	var ts []*target
	for _, a := range []struct {
		arch, triple string
		ptr          int
		arg64        abi.Arg64
	}{
		{"amd64", "x86_64--netbsd", 8, abi.Arg64Reg},
		{"386", "i386--netbsd", 4, abi.Arg64Pair},
		{"arm64", "aarch64--netbsd", 8, abi.Arg64Reg},
		{"arm", "armv7--netbsdelf-eabihf", 4, abi.Arg64AlignedPair},
	} {
		t := xsysTarget("netbsd", a.arch, a.ptr, &xsysSpec{
			Why:      "no NetBSD headers exist on Debian",
			Prefixes: append(append([]string(nil), bsdConstPrefixes...), netbsdTermiosPrefixes...),
			// x/sys's WSTOPPED is the status value; netbsdDefs has the option.
			Exclude:    []string{"WSTOPPED$"},
			Structs:    bsdStructs("netbsd"),
			TypePrefix: bsdTypePrefix,
			Syscalls:   netbsdSyscalls,
		}, "no NetBSD headers on Debian; set RUMP_PREFIX to a rump kernel installation to check against its rumpdefs.h",
			netbsdDoc(a.arch))
		t.Arg64 = a.arg64
		t.CC = []string{"clang", "--target=" + a.triple, "-ffreestanding", "-nostdinc", "-ferror-limit=0", "-gdwarf-4"}
		t.Packages = []string{"clang"}
		t.Units = []unit{{Name: "mountargs", Prelude: netbsdMountArgs}, {Name: "defs", Prelude: netbsdDefs}}
		t.Prefixes = append([]string(nil), netbsdDefPrefixes...)
		t.Structs = []structSpec{
			{Name: "tmpfs_args", CType: "struct tmpfs_args", Unit: "mountargs"},
			{Name: "ufs_args", CType: "struct ufs_args", Unit: "mountargs"},
			{Name: "ptyfs_args", CType: "struct ptyfs_args", Unit: "mountargs"},
			{Name: "iso_args", CType: "struct iso_args", Unit: "mountargs"},
			{Name: "kernel_sigset", CType: "struct kernel_sigset", Unit: "defs"},
			{Name: "mmsghdr", CType: "struct mmsghdr", Unit: "defs"},
		}
		ts = append(ts, t)
	}
	for _, goos := range []string{"freebsd", "openbsd", "darwin"} {
		for _, arch := range []string{"amd64", "arm64"} {
			ts = append(ts, xsysTarget(goos, arch, 8, &xsysSpec{
				Why:        "no " + osTitle[goos] + " headers exist on Debian",
				Prefixes:   bsdConstPrefixes,
				Structs:    bsdStructs(goos),
				TypePrefix: bsdTypePrefix,
			}, "no "+osTitle[goos]+" headers on Debian", bsdDoc(goos, arch)))
		}
	}
	// loong64 is the one Go Linux architecture Debian 12 has no cross
	// headers for (no linux-libc-dev-loong64-cross).
	var linuxStructs []xstruct
	for _, s := range linuxAMD64.Structs {
		if s.XSys == "" {
			continue
		}
		x := xstruct{Name: s.Name, GoType: s.XSys, Prefix: linuxGoPrefix[s.XSys], Rename: map[string]string{}}
		// Several C members may share one Go field (the members of a
		// union): they are listed together, in sorted order.
		names := map[string][]string{}
		for table, goPath := range s.XSysFields {
			names[goPath] = append(names[goPath], table)
		}
		for goPath, tables := range names {
			sort.Strings(tables)
			x.Rename[goPath] = strings.Join(tables, ",")
		}
		for goPath, table := range linuxRename[s.XSys] {
			x.Rename[goPath] = table
		}
		linuxStructs = append(linuxStructs, x)
	}
	lt := xsysTarget("linux", "loong64", 8, &xsysSpec{
		Why:        "Debian 12 has no linux-libc-dev-loong64-cross, so no loong64 headers",
		Prefixes:   linuxPrefixes,
		Exclude:    []string{"SIG_ATOMIC_"},
		Structs:    linuxStructs,
		TypePrefix: map[string]string{"Timespec": "tv_", "Timeval": "tv_", "Msghdr": "msg_", "Iovec": "iov_", "StatxTimestamp": "tv_", "Sigval": "", "NlMsghdr": "nlmsg_"},
	}, "Debian 12 has no loong64 kernel or C library headers (no linux-libc-dev-loong64-cross)", loong64Doc)
	ts = append(ts, lt)
	return ts
}()

// linuxGoPrefix is the C member prefix of each x/sys Linux struct type.
var linuxGoPrefix = map[string]string{
	"Stat_t": "st_", "Statx_t": "stx_", "Statfs_t": "f_", "Timespec": "tv_", "Timeval": "tv_",
	"ItimerSpec": "it_", "Itimerval": "it_", "RawSockaddr": "sa_", "RawSockaddrInet4": "sin_",
	"RawSockaddrInet6": "sin6_", "RawSockaddrUnix": "sun_", "Msghdr": "msg_", "Mmsghdr": "msg_",
	"Iovec": "iov_", "Cmsghdr": "cmsg_", "Linger": "l_", "IPMreq": "imr_", "IPMreqn": "imr_",
	"IPv6Mreq": "ipv6mr_", "TCPInfo": "tcpi_", "Flock_t": "l_", "Rlimit": "rlim_", "Rusage": "ru_",
	"Tms": "tms_", "SignalfdSiginfo": "ssi_", "Dirent": "d_", "Sigevent": "sigev_", "Siginfo": "si_",
	"NlMsghdr": "nlmsg_", "NlAttr": "nla_", "RtAttr": "rta_", "RtGenmsg": "rtgen_", "IfInfomsg": "ifi_",
	"IfAddrmsg": "ifa_", "IfaCacheinfo": "ifa_", "RtMsg": "rtm_", "RtNexthop": "rtnh_", "NdMsg": "ndm_",
	"RawSockaddrNetlink": "nl_", "RawSockaddrLinklayer": "sll_", "Termios": "c_", "Winsize": "ws_",
}

// linuxRename fixes the C names the prefix rule gets wrong for loong64.
var linuxRename = map[string]map[string]string{
	"EpollEvent": {"Fd": "data", "Pad": ""},
	"Sigset_t":   {"Val": "sig"},
	"Siginfo":    {"Errno": "si_errno"},
	// struct ifa_cacheinfo { ifa_prefered, ifa_valid, cstamp, tstamp }
	"IfaCacheinfo": {"Cstamp": "cstamp", "Tstamp": "tstamp"},
	// glibc's loongarch sys/user.h: regs, orig_a0, csr_era, csr_badv, reserved
	"PtraceRegs": {"Era": "csr_era", "Badv": "csr_badv"},
}

// cmsgAlignUnit is what control-message lengths are rounded to
// (CMSG_ALIGN, CMSG_SPACE), the table's CMSG_ALIGN_UNIT, by the rule of
// x/sys's cmsgAlignOf (unix/sockcmsg_unix_other.go), which restates each
// system's sys/socket.h: the pointer size, except 4 on 64-bit darwin,
// 8 on NetBSD and OpenBSD arm, 16 on NetBSD arm64. The Linux C tables
// compute theirs from glibc's CMSG_ALIGN; both are checked against this
// rule, and the compiled zxsys_test.go files check the rule against
// x/sys's own CmsgSpace on the target.
func cmsgAlignUnit(goos, goarch string, ptrSize int) uint64 {
	align := uint64(ptrSize)
	switch goos {
	case "darwin", "ios", "illumos", "solaris":
		if ptrSize == 8 {
			align = 4
		}
	case "netbsd", "openbsd":
		if goarch == "arm" {
			align = 8
		}
		if goos == "netbsd" && goarch == "arm64" {
			align = 16
		}
	}
	return align
}

var osTitle = map[string]string{"netbsd": "NetBSD", "freebsd": "FreeBSD", "openbsd": "OpenBSD", "darwin": "macOS"}

func netbsdDoc(arch string) string {
	return fmt.Sprintf(`// Package %[2]s is the NetBSD ABI on %[1]s as data, the ABI every rump kernel
// speaks whatever its host: syscall numbers, errnos, constants and struct
// layouts in Table (ztable.go), generated by build/abigen. No NetBSD
// headers exist on Debian, so the table comes from golang.org/x/sys/unix's
// NetBSD files (generated from NetBSD's headers), laid out with go/types
// for this GOARCH as NetBSD's C compiler aligns. Versioned syscalls keep
// their NetBSD names ("__fstat50", "__socket30"); the syscalls of NetBSD
// 8-10 that x/sys lacks, the mount argument structs tmpfs_args,
// ufs_args, ptyfs_args and iso_args, the kernel's sigset_t
// (kernel_sigset), struct mmsghdr and the constants x/sys lacks (SEEK_*, *_OK, CLOCK_*,
// SIG_BLOCK, SCHED_*, P_*, WEXITED, TCSA*, ...) are hand-described in
// build/abigen/gen's configuration, citing their NetBSD source files.
//
// Regenerate with: go run ./build/abigen -all
package %[2]s
`, arch, pkgName(arch))
}

func bsdDoc(goos, arch string) string {
	return fmt.Sprintf(`// Package %[1]s is the %[2]s ABI on %[1]s as data: syscall numbers, errnos,
// constants and struct layouts in Table (ztable.go), generated by
// build/abigen from golang.org/x/sys/unix's %[3]s files (generated from
// %[2]s's headers, which Debian lacks), laid out with go/types for this
// GOARCH.
//
// Regenerate with: go run ./build/abigen -all
package %[1]s
`, arch, osTitle[goos], goos)
}

const loong64Doc = `// Package loong64 is the Linux ABI on loongarch64 as data: syscall
// numbers, errnos, constants and struct layouts in Table (ztable.go),
// generated by build/abigen. Debian 12 has no loong64 cross headers
// (no linux-libc-dev-loong64-cross), so unlike the other Linux tables this
// one comes from golang.org/x/sys/unix's linux/loong64 files, laid out
// with go/types; there is no C check.
//
// Regenerate with: go run ./build/abigen -all
package loong64
`
