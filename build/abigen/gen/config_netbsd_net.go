package gen

// NetBSD's network configuration ABI: the interface ioctls (ifreq,
// ifaliasreq, in_aliasreq, in6_aliasreq, in6_ifreq, ifdrv and the SIOC* requests that
// carry them) and the routing socket (rt_msghdr, rt_metrics, RTM_*, RTF_*,
// RTA_*, RTAX_*). backend/rump's net*.go configure a rump kernel's
// interfaces and routes with them.
//
// No NetBSD headers exist on Debian and x/sys has none of these structs
// except rt_msghdr (as RtMsghdr), so they are hand-described below from
// the sources a rump kernel is built from, src-netbsd at NetBSD 7.99.34
// (github.com/rumpkernel/src-netbsd, branch buildrump-src; the file
// revisions are cited per block), and laid out by clang --target=<arch>--
// netbsd like the mount argument structs. The request numbers are
// computed from the structs with NetBSD's _IOW/_IOWR, so they restate the
// struct sizes; build/abicheck compares them (and the RTM_, RTF_, RTA_,
// IFF_ constants) with golang.org/x/sys/unix's NetBSD values, and
// TestNetBSDNetLayouts compares rt_msghdr with x/sys's RtMsghdr.
//
// This block is kept apart from config_xsys.go, which other work edits:
// init below adds it to the NetBSD targets xsysTargets made.

// netbsdNetPrefixes select the unit's constants.
var netbsdNetPrefixes = []string{
	"SIOC", "IFF_", "IFNAMSIZ", "IF_NAMESIZE", "IFLINKSTR_", "IN6_IFF_", "ND6_INFINITE_LIFETIME",
	"RTM_", "RTF_", "RTA_", "RTAX_", "RTV_", "RT_ROUNDUP_UNIT",
}

// netbsdNetStructs are the unit's structs. The ifreq members Linux
// spells as macros over its union keep those names here too (NetBSD
// defines the same macros), so api-level code finds ifr_flags, ifr_addr,
// ifr_mtu and ifr_index on both systems.
var netbsdNetStructs = []structSpec{
	{Name: "ifreq", CType: "struct ifreq", Unit: "netif", Extra: []fieldSpec{
		{Name: "ifr_addr"}, {Name: "ifr_dstaddr"}, {Name: "ifr_broadaddr"}, {Name: "ifr_space"},
		{Name: "ifr_flags"}, {Name: "ifr_addrflags"}, {Name: "ifr_metric"}, {Name: "ifr_mtu"},
		{Name: "ifr_dlt"}, {Name: "ifr_value"}, {Name: "ifr_data"}, {Name: "ifr_buf"},
		{Name: "ifr_buflen"}, {Name: "ifr_index"},
	}},
	{Name: "ifaliasreq", CType: "struct ifaliasreq", Unit: "netif"},
	{Name: "in_aliasreq", CType: "struct in_aliasreq", Unit: "netif"},
	{Name: "in6_addrlifetime", CType: "struct in6_addrlifetime", Unit: "netif"},
	{Name: "in6_aliasreq", CType: "struct in6_aliasreq", Unit: "netif"},
	{Name: "in6_ifreq", CType: "struct in6_ifreq", Unit: "netif", Extra: []fieldSpec{{Name: "ifr_addr"}}},
	{Name: "ifdrv", CType: "struct ifdrv", Unit: "netif"},
	{Name: "rt_metrics", CType: "struct rt_metrics", Unit: "netif"},
	{Name: "rt_msghdr", CType: "struct rt_msghdr", Unit: "netif"},
}

// netbsdNet is the unit's C text.
const netbsdNet = `
/* NetBSD's widths (sys/types.h, sys/ansi.h; time_t is 64-bit on every
 * NetBSD port since 6.0). */
typedef unsigned char u_char;
typedef unsigned short u_short;
typedef unsigned int u_int;
typedef unsigned long u_long;
typedef signed char int8_t;
typedef unsigned char uint8_t;
typedef unsigned short uint16_t;
typedef unsigned int uint32_t;
typedef long long int64_t;
typedef unsigned long long uint64_t;
typedef long long time_t;
typedef int pid_t;
typedef __SIZE_TYPE__ size_t;
typedef uint8_t sa_family_t;
typedef uint32_t in_addr_t;
typedef uint16_t in_port_t;

/* src/sys/sys/ioccom.h,v 1.12 */
#define IOCPARM_MASK 0x1fff
#define IOCPARM_SHIFT 16
#define IOCGROUP_SHIFT 8
#define IOC_VOID (unsigned long)0x20000000
#define IOC_OUT (unsigned long)0x40000000
#define IOC_IN (unsigned long)0x80000000
#define IOC_INOUT (IOC_IN|IOC_OUT)
#define _IOC(inout, group, num, len) \
	((inout) | (((len) & IOCPARM_MASK) << IOCPARM_SHIFT) | \
	((group) << IOCGROUP_SHIFT) | (num))
#define _IOW(g,n,t) _IOC(IOC_IN, (g), (n), sizeof(t))
#define _IOWR(g,n,t) _IOC(IOC_INOUT, (g), (n), sizeof(t))

/* src/sys/sys/socket.h */
struct sockaddr {
	uint8_t sa_len;
	sa_family_t sa_family;
	char sa_data[14];
};
#define _SS_MAXSIZE 128
#define _SS_ALIGNSIZE (sizeof(int64_t))
#define _SS_PAD1SIZE (_SS_ALIGNSIZE - 2)
#define _SS_PAD2SIZE (_SS_MAXSIZE - 2 - _SS_PAD1SIZE - _SS_ALIGNSIZE)
struct sockaddr_storage {
	uint8_t ss_len;
	sa_family_t ss_family;
	char __ss_pad1[_SS_PAD1SIZE];
	int64_t __ss_align;
	char __ss_pad2[_SS_PAD2SIZE];
};

/* src/sys/netinet/in.h */
struct in_addr {
	in_addr_t s_addr;
} __attribute__((__packed__));
struct sockaddr_in {
	uint8_t sin_len;
	sa_family_t sin_family;
	in_port_t sin_port;
	struct in_addr sin_addr;
	int8_t sin_zero[8];
};

/* src/sys/netinet6/in6.h */
struct in6_addr {
	union {
		uint8_t __u6_addr8[16];
		uint16_t __u6_addr16[8];
		uint32_t __u6_addr32[4];
	} __u6_addr;
};
struct sockaddr_in6 {
	uint8_t sin6_len;
	sa_family_t sin6_family;
	in_port_t sin6_port;
	uint32_t sin6_flowinfo;
	struct in6_addr sin6_addr;
	uint32_t sin6_scope_id;
};

/* src/sys/net/if.h,v 1.222 */
#define IF_NAMESIZE 16
#define IFNAMSIZ IF_NAMESIZE
#define IFF_UP 0x0001
#define IFF_BROADCAST 0x0002
#define IFF_DEBUG 0x0004
#define IFF_LOOPBACK 0x0008
#define IFF_POINTOPOINT 0x0010
#define IFF_NOTRAILERS 0x0020
#define IFF_RUNNING 0x0040
#define IFF_NOARP 0x0080
#define IFF_PROMISC 0x0100
#define IFF_ALLMULTI 0x0200
#define IFF_OACTIVE 0x0400
#define IFF_SIMPLEX 0x0800
#define IFF_LINK0 0x1000
#define IFF_LINK1 0x2000
#define IFF_LINK2 0x4000
#define IFF_MULTICAST 0x8000
struct ifreq {
	char ifr_name[IFNAMSIZ];
	union {
		struct sockaddr ifru_addr;
		struct sockaddr ifru_dstaddr;
		struct sockaddr ifru_broadaddr;
		struct sockaddr_storage ifru_space;
		short ifru_flags;
		int ifru_addrflags;
		int ifru_metric;
		int ifru_mtu;
		int ifru_dlt;
		u_int ifru_value;
		void *ifru_data;
		struct {
			uint32_t b_buflen;
			void *b_buf;
		} ifru_b;
	} ifr_ifru;
#define ifr_addr ifr_ifru.ifru_addr
#define ifr_dstaddr ifr_ifru.ifru_dstaddr
#define ifr_broadaddr ifr_ifru.ifru_broadaddr
#define ifr_space ifr_ifru.ifru_space
#define ifr_flags ifr_ifru.ifru_flags
#define ifr_addrflags ifr_ifru.ifru_addrflags
#define ifr_metric ifr_ifru.ifru_metric
#define ifr_mtu ifr_ifru.ifru_mtu
#define ifr_dlt ifr_ifru.ifru_dlt
#define ifr_value ifr_ifru.ifru_value
#define ifr_data ifr_ifru.ifru_data
#define ifr_buf ifr_ifru.ifru_b.b_buf
#define ifr_buflen ifr_ifru.ifru_b.b_buflen
#define ifr_index ifr_ifru.ifru_value
};
struct ifaliasreq {
	char ifra_name[IFNAMSIZ];
	struct sockaddr ifra_addr;
	struct sockaddr ifra_dstaddr;
	struct sockaddr ifra_mask;
};
struct ifdrv {
	char ifd_name[IFNAMSIZ];
	unsigned long ifd_cmd;
	size_t ifd_len;
	void *ifd_data;
};
#define IFLINKSTR_QUERYLEN 0x01
#define IFLINKSTR_UNSET 0x02

/* src/sys/netinet/in_var.h,v 1.78 */
struct in_aliasreq {
	char ifra_name[IFNAMSIZ];
	struct sockaddr_in ifra_addr;
	struct sockaddr_in ifra_dstaddr;
	struct sockaddr_in ifra_mask;
};

/* src/sys/netinet6/in6_var.h,v 1.83 */
struct in6_addrlifetime {
	time_t ia6t_expire;
	time_t ia6t_preferred;
	uint32_t ia6t_vltime;
	uint32_t ia6t_pltime;
};
struct in6_aliasreq {
	char ifra_name[IFNAMSIZ];
	struct sockaddr_in6 ifra_addr;
	struct sockaddr_in6 ifra_dstaddr;
	struct sockaddr_in6 ifra_prefixmask;
	int ifra_flags;
	struct in6_addrlifetime ifra_lifetime;
};
#define IN6_IFF_ANYCAST 0x01
#define IN6_IFF_TENTATIVE 0x02
#define IN6_IFF_DUPLICATED 0x04
#define IN6_IFF_DETACHED 0x08
#define IN6_IFF_DEPRECATED 0x10
#define IN6_IFF_NODAD 0x20
#define IN6_IFF_AUTOCONF 0x40
#define SIOCAIFADDR_IN6 _IOW('i', 107, struct in6_aliasreq)
/* The statistics members of in6_ifreq's union (struct in6_ifstat: 20
 * u_quad_t counters; struct icmp6_ifstat: 34) matter here only for the
 * union's size, which SIOCDIFADDR_IN6 encodes, so they are described by it. */
typedef uint64_t u_quad_t;
struct in6_ifreq {
	char ifr_name[IFNAMSIZ];
	union {
		struct sockaddr_in6 ifru_addr;
		struct sockaddr_in6 ifru_dstaddr;
		short ifru_flags;
		int ifru_flags6;
		int ifru_metric;
		void *ifru_data;
		struct in6_addrlifetime ifru_lifetime;
		u_quad_t ifru_stat[20];
		u_quad_t ifru_icmp6stat[34];
	} ifr_ifru;
};
#define SIOCDIFADDR_IN6 _IOW('i', 25, struct in6_ifreq)
/* src/sys/netinet6/nd6.h */
#define ND6_INFINITE_LIFETIME 0xffffffff

/* src/sys/sys/sockio.h,v 1.33 */
#define SIOCSIFFLAGS _IOW('i', 16, struct ifreq)
#define SIOCGIFFLAGS _IOWR('i', 17, struct ifreq)
#define SIOCDIFADDR _IOW('i', 25, struct ifreq)
#define SIOCAIFADDR _IOW('i', 26, struct ifaliasreq)
#define SIOCGIFADDR _IOWR('i', 33, struct ifreq)
#define SIOCIFDESTROY _IOW('i', 121, struct ifreq)
#define SIOCIFCREATE _IOW('i', 122, struct ifreq)
#define SIOCGIFMTU _IOWR('i', 126, struct ifreq)
#define SIOCSIFMTU _IOW('i', 127, struct ifreq)
#define SIOCGLINKSTR _IOWR('i', 135, struct ifdrv)
#define SIOCSLINKSTR _IOW('i', 136, struct ifdrv)
#define SIOCGIFINDEX _IOWR('i', 140, struct ifreq)

/* src/sys/net/route.h,v 1.101 (not COMPAT_RTSOCK: 64-bit aligned). */
struct rt_metrics {
	uint64_t rmx_locks;
	uint64_t rmx_mtu;
	uint64_t rmx_hopcount;
	uint64_t rmx_recvpipe;
	uint64_t rmx_sendpipe;
	uint64_t rmx_ssthresh;
	uint64_t rmx_rtt;
	uint64_t rmx_rttvar;
	time_t rmx_expire;
	time_t rmx_pksent;
};
struct rt_msghdr {
	u_short rtm_msglen __attribute__((__aligned__(sizeof(uint64_t))));
	u_char rtm_version;
	u_char rtm_type;
	u_short rtm_index;
	int rtm_flags;
	int rtm_addrs;
	pid_t rtm_pid;
	int rtm_seq;
	int rtm_errno;
	int rtm_use;
	int rtm_inits;
	struct rt_metrics rtm_rmx __attribute__((__aligned__(sizeof(uint64_t))));
};
/* The sockaddrs after an rt_msghdr are padded to RT_ROUNDUP, which is
 * RT_ROUNDUP2(len, sizeof(uint64_t)): named here so users need not know. */
#define RT_ROUNDUP_UNIT sizeof(uint64_t)
#define RTM_VERSION 4
#define RTM_ADD 0x1
#define RTM_DELETE 0x2
#define RTM_CHANGE 0x3
#define RTM_GET 0x4
#define RTM_LOSING 0x5
#define RTM_REDIRECT 0x6
#define RTM_MISS 0x7
#define RTM_LOCK 0x8
#define RTM_NEWADDR 0xc
#define RTM_DELADDR 0xd
#define RTM_IFANNOUNCE 0x10
#define RTM_IFINFO 0x14
#define RTM_CHGADDR 0x15
#define RTF_UP 0x1
#define RTF_GATEWAY 0x2
#define RTF_HOST 0x4
#define RTF_REJECT 0x8
#define RTF_DYNAMIC 0x10
#define RTF_MODIFIED 0x20
#define RTF_DONE 0x40
#define RTF_MASK 0x80
#define RTF_CONNECTED 0x100
#define RTF_LLDATA 0x400
#define RTF_STATIC 0x800
#define RTF_BLACKHOLE 0x1000
#define RTF_PROTO2 0x4000
#define RTF_PROTO1 0x8000
#define RTF_SRC 0x10000
#define RTF_ANNOUNCE 0x20000
#define RTF_LOCAL 0x40000
#define RTF_BROADCAST 0x80000
#define RTV_MTU 0x1
#define RTV_HOPCOUNT 0x2
#define RTV_EXPIRE 0x4
#define RTA_DST 0x1
#define RTA_GATEWAY 0x2
#define RTA_NETMASK 0x4
#define RTA_GENMASK 0x8
#define RTA_IFP 0x10
#define RTA_IFA 0x20
#define RTA_AUTHOR 0x40
#define RTA_BRD 0x80
#define RTA_TAG 0x100
#define RTAX_DST 0
#define RTAX_GATEWAY 1
#define RTAX_NETMASK 2
#define RTAX_GENMASK 3
#define RTAX_IFP 4
#define RTAX_IFA 5
#define RTAX_AUTHOR 6
#define RTAX_BRD 7
#define RTAX_TAG 8
#define RTAX_MAX 9
`

// init adds the unit to every NetBSD target. Package variables (targets
// among them) are initialized before init runs, and the targets are
// pointers, so the generator and the checks see the addition.
func init() {
	for _, t := range xsysTargets {
		if t.GOOS != "netbsd" {
			continue
		}
		t.Units = append(t.Units, unit{Name: "netif", Prelude: netbsdNet})
		t.Prefixes = append(t.Prefixes, netbsdNetPrefixes...)
		t.Structs = append(t.Structs, netbsdNetStructs...)
	}
}
