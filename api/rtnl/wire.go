package rtnl

import (
	"fmt"
	"reflect"
	"strings"
)

// wire holds the numbers rtnl puts on the wire, read by name from the
// kernel's ABI table when a Codec is made. Field names are the C names, so
// that each number's source is plain to see. Fields tagged opt may be
// missing from a table: they are then all ones (absent), and the feature
// that needs them answers ENOTSUP.
type wire struct {
	// Netlink messages and attributes.
	NLM_F_REQUEST   uint16
	NLM_F_MULTI     uint16
	NLM_F_ACK       uint16
	NLM_F_ECHO      uint16
	NLM_F_DUMP_INTR uint16
	NLM_F_ROOT      uint16
	NLM_F_MATCH     uint16
	NLM_F_REPLACE   uint16
	NLM_F_EXCL      uint16
	NLM_F_CREATE    uint16
	NLM_F_APPEND    uint16
	NLM_F_CAPPED    uint16 `opt:""`
	NLM_F_ACK_TLVS  uint16 `opt:""`

	NLMSG_NOOP    uint16
	NLMSG_ERROR   uint16
	NLMSG_DONE    uint16
	NLMSG_OVERRUN uint16

	NLA_F_NESTED        uint16
	NLA_F_NET_BYTEORDER uint16

	// Alignment units; tables without them align to nlmsghdr's alignment.
	NLMSG_ALIGNTO uint32 `opt:""`
	NLA_ALIGNTO   uint32 `opt:""`

	NLMSGERR_ATTR_MSG  uint16 `opt:""`
	NLMSGERR_ATTR_OFFS uint16 `opt:""`

	// Sockets.
	NETLINK_ROUTE           uint32
	SOL_NETLINK             uint32
	NETLINK_ADD_MEMBERSHIP  uint32
	NETLINK_DROP_MEMBERSHIP uint32
	NETLINK_EXT_ACK         uint32 `opt:""`
	NETLINK_CAP_ACK         uint32 `opt:""`

	AF_UNSPEC uint8
	AF_INET   uint8
	AF_INET6  uint8
	AF_BRIDGE uint8 `opt:""`

	// Message types.
	RTM_NEWLINK  uint16
	RTM_DELLINK  uint16
	RTM_GETLINK  uint16
	RTM_NEWADDR  uint16
	RTM_DELADDR  uint16
	RTM_GETADDR  uint16
	RTM_NEWROUTE uint16
	RTM_DELROUTE uint16
	RTM_GETROUTE uint16
	RTM_NEWNEIGH uint16
	RTM_DELNEIGH uint16
	RTM_GETNEIGH uint16
	RTM_NEWRULE  uint16
	RTM_DELRULE  uint16
	RTM_GETRULE  uint16

	// Links.
	IFLA_ADDRESS       uint16
	IFLA_BROADCAST     uint16
	IFLA_IFNAME        uint16
	IFLA_MTU           uint16
	IFLA_LINK          uint16
	IFLA_QDISC         uint16
	IFLA_MASTER        uint16
	IFLA_TXQLEN        uint16
	IFLA_OPERSTATE     uint16
	IFLA_LINKMODE      uint16
	IFLA_LINKINFO      uint16
	IFLA_NET_NS_PID    uint16
	IFLA_NET_NS_FD     uint16
	IFLA_IFALIAS       uint16
	IFLA_STATS64       uint16
	IFLA_GROUP         uint16
	IFLA_PROMISCUITY   uint16 `opt:""`
	IFLA_NUM_TX_QUEUES uint16 `opt:""`
	IFLA_NUM_RX_QUEUES uint16 `opt:""`
	IFLA_LINK_NETNSID  uint16 `opt:""`
	IFLA_MIN_MTU       uint16 `opt:""`
	IFLA_MAX_MTU       uint16 `opt:""`

	IFLA_INFO_KIND       uint16
	IFLA_INFO_DATA       uint16
	IFLA_INFO_SLAVE_KIND uint16

	VETH_INFO_PEER    uint16
	IFLA_MACVLAN_MODE uint16

	IFLA_VXLAN_ID       uint16
	IFLA_VXLAN_GROUP    uint16
	IFLA_VXLAN_LINK     uint16
	IFLA_VXLAN_LOCAL    uint16
	IFLA_VXLAN_TTL      uint16
	IFLA_VXLAN_LEARNING uint16
	IFLA_VXLAN_PORT     uint16
	IFLA_VXLAN_GROUP6   uint16
	IFLA_VXLAN_LOCAL6   uint16

	IFLA_VLAN_ID   uint16 `opt:""`
	IFLA_BOND_MODE uint16 `opt:""`

	// Addresses.
	IFA_ADDRESS   uint16
	IFA_LOCAL     uint16
	IFA_LABEL     uint16
	IFA_BROADCAST uint16
	IFA_CACHEINFO uint16
	IFA_FLAGS     uint16

	// Routes.
	RTA_DST       uint16
	RTA_SRC       uint16
	RTA_IIF       uint16
	RTA_OIF       uint16
	RTA_GATEWAY   uint16
	RTA_PRIORITY  uint16
	RTA_PREFSRC   uint16
	RTA_METRICS   uint16
	RTA_MULTIPATH uint16
	RTA_TABLE     uint16
	RTA_PREF      uint16 `opt:""`
	RTM_F_CLONED  uint32 `opt:""`

	// Neighbours.
	NDA_DST    uint16
	NDA_LLADDR uint16

	// Rules.
	FRA_DST         uint16
	FRA_SRC         uint16
	FRA_IIFNAME     uint16
	FRA_OIFNAME     uint16
	FRA_PRIORITY    uint16
	FRA_FWMARK      uint16
	FRA_FWMASK      uint16
	FRA_TABLE       uint16
	FRA_PROTOCOL    uint16 `opt:""`
	FIB_RULE_INVERT uint32 `opt:""`

	// tun/tap, through /dev/net/tun.
	TUNSETIFF       uint64 `opt:""`
	TUNSETPERSIST   uint64 `opt:""`
	TUNSETOWNER     uint64 `opt:""`
	TUNSETGROUP     uint64 `opt:""`
	IFF_TUN         uint16 `opt:""`
	IFF_TAP         uint16 `opt:""`
	IFF_NO_PI       uint16 `opt:""`
	IFF_MULTI_QUEUE uint16 `opt:""`
	IFNAMSIZ        uint32

	// A socket's network namespace (for work that must be done from a
	// thread inside it: creating tun devices, subscribing).
	SIOCGSKNS uint64 `opt:""`
}

// fillWire reads every wire field from the table by its name.
func fillWire(src constSource, w *wire) error {
	v := reflect.ValueOf(w).Elem()
	t := v.Type()
	var missing, big []string
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		fv := v.Field(i)
		_, opt := sf.Tag.Lookup("opt")
		c, ok := src.Const(sf.Name)
		if !ok {
			if !opt {
				missing = append(missing, sf.Name)
			}
			fv.SetUint(^uint64(0) >> (64 - 8*sf.Type.Size()))
			continue
		}
		if fv.OverflowUint(c) {
			big = append(big, sf.Name)
			continue
		}
		fv.SetUint(c)
	}
	if len(missing) > 0 {
		return fmt.Errorf("rtnl: the ABI table lacks %s", strings.Join(missing, ", "))
	}
	if len(big) > 0 {
		return fmt.Errorf("rtnl: the ABI table's values of %s do not fit the wire fields", strings.Join(big, ", "))
	}
	return nil
}
