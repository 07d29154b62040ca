// Command ip is a small work-alike of iproute2's ip(8) built only on
// anykernel's API (api/rtnl over api sockets): links, addresses, routes and
// neighbours of the network namespace it runs in, in iproute2's syntax,
// with -j printing JSON under iproute2's field names.
//
//	ip [-j] [-d] [-4|-6] [-n NETNS] link show [dev] [NAME]
//	ip link add [link PARENT] NAME [mtu N] [address MAC] [txqueuelen N] type KIND [ARGS]
//	    KIND: veth [peer name NAME [netns NETNS]] | bridge | macvlan [mode MODE] |
//	          vxlan id ID [dstport PORT] [local IP] [group|remote IP] [dev NAME] [ttl N] [[no]learning] |
//	          ifb | dummy | vlan id ID | bond [mode N]
//	ip link del [dev] NAME
//	ip link set [dev] NAME [up|down] [mtu N] [address MAC] [name NEW] [txqueuelen N]
//	    [alias TEXT] [master NAME | nomaster] [netns PID|NAME]
//	ip tuntap add [dev] NAME mode tun|tap [multi_queue] [user UID] [group GID]
//	ip tuntap del [dev] NAME mode tun|tap
//	ip addr show [dev NAME]
//	ip addr add|del|replace PREFIX [peer PREFIX] [broadcast IP] [label L] [scope S]
//	    [valid_lft N|forever] [preferred_lft N|forever] [nodad] [noprefixroute] dev NAME
//	ip route show [table N|main|local|all]
//	ip route add|del|replace [TYPE] PREFIX|default [via IP] [dev NAME] [src IP]
//	    [table N] [metric N] [proto P] [scope S] [mtu N] [hoplimit N] [advmss N]
//	    [nexthop via IP dev NAME [weight N]]...
//	ip neigh show [dev NAME]
//	ip neigh add|del|replace IP [lladdr MAC] dev NAME [nud STATE]
//	ip rule show | ip rule add|del [from PREFIX] [to PREFIX] [fwmark M[/MASK]]
//	    [iif NAME] [oif NAME] [priority N] [table N]
//
// NETNS is a name under /run/netns or a process id.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/rtnl"
	"github.com/anykernel/anykernel/backend/native"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ip:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(255)
		}
		os.Exit(2)
	}
}

// usageError is a command line ip cannot parse.
type usageError string

func (e usageError) Error() string { return string(e) }

func usagef(format string, a ...any) error { return usageError(fmt.Sprintf(format, a...)) }

// ipcmd is one invocation: options, the kernel and the connection.
type ipcmd struct {
	k       *api.Kernel
	c       *rtnl.Conn
	json    bool
	details bool
	family  api.Family
	out     io.Writer

	links   []*rtnl.Link // cache for name lookups
	byIndex map[int]*rtnl.Link
}

func run(args []string, out io.Writer) error {
	ip := &ipcmd{out: out}
	netns := ""
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch a := args[0]; a {
		case "-j", "-json", "--json":
			ip.json = true
		case "-d", "-details":
			ip.details = true
		case "-4":
			ip.family = api.AF_INET
		case "-6":
			ip.family = api.AF_INET6
		case "-n", "-netns":
			if len(args) < 2 {
				return usagef("%s needs a namespace", a)
			}
			netns = args[1]
			args = args[1:]
		default:
			return usagef("unknown option %q", a)
		}
		args = args[1:]
	}
	if len(args) == 0 {
		return usagef("usage: ip [-j] [-d] [-4|-6] [-n NETNS] link|addr|route|neigh|rule|tuntap ...")
	}
	k, err := native.New()
	if err != nil {
		return err
	}
	ip.k = k
	if netns != "" {
		ns, err := ip.openNetns(netns)
		if err != nil {
			return err
		}
		defer ns.Close()
		ip.c, err = rtnl.DialNetns(k, ns)
		if err != nil {
			return err
		}
	} else if ip.c, err = rtnl.Dial(k); err != nil {
		return err
	}
	defer ip.c.Close()
	obj, rest := args[0], args[1:]
	switch {
	case prefixOf(obj, "link", 1):
		return ip.link(rest)
	case prefixOf(obj, "address", 1) || obj == "a":
		return ip.addr(rest)
	case prefixOf(obj, "route", 1):
		return ip.route(rest)
	case prefixOf(obj, "neighbour", 1) || prefixOf(obj, "neighbor", 1):
		return ip.neigh(rest)
	case prefixOf(obj, "rule", 2):
		return ip.rule(rest)
	case prefixOf(obj, "tuntap", 2):
		return ip.tuntap(rest)
	}
	return usagef("object %q is unknown", obj)
}

// prefixOf reports whether word abbreviates full (at least min letters), as
// iproute2 accepts "ip l", "ip a", "ip r sh".
func prefixOf(word, full string, min int) bool {
	return len(word) >= min && strings.HasPrefix(full, word)
}

// openNetns opens a namespace by name (/run/netns/NAME) or by pid.
func (ip *ipcmd) openNetns(s string) (*api.Fd, error) {
	path := "/run/netns/" + s
	if pid, err := strconv.Atoi(s); err == nil && pid > 0 {
		path = "/proc/" + s + "/ns/net"
	} else if strings.ContainsRune(s, '/') {
		path = s
	}
	return ip.k.Open(path, api.O_RDONLY|api.O_CLOEXEC, 0)
}

// netnsArg turns a "netns" argument into a namespace handle: a pid stays a
// pid (IFLA_NET_NS_PID, as iproute2 does), a name opens /run/netns/NAME.
// The returned closer releases what was opened.
func (ip *ipcmd) netnsArg(s string) (*rtnl.Netns, func(), error) {
	if pid, err := strconv.Atoi(s); err == nil && pid > 0 {
		return rtnl.NetnsPid(pid), func() {}, nil
	}
	fd, err := ip.openNetns(s)
	if err != nil {
		return nil, nil, err
	}
	return rtnl.NetnsFd(fd), func() { fd.Close() }, nil
}

// loadLinks refreshes the link cache.
func (ip *ipcmd) loadLinks() error {
	ls, err := ip.c.Links()
	if err != nil {
		return err
	}
	ip.links = ls
	ip.byIndex = make(map[int]*rtnl.Link, len(ls))
	for _, l := range ls {
		ip.byIndex[l.Index] = l
	}
	return nil
}

// linkIndex resolves a link name to its index.
func (ip *ipcmd) linkIndex(name string) (int, error) {
	l, err := ip.c.LinkByName(name)
	if err != nil {
		if errors.Is(err, api.ENODEV) {
			return 0, fmt.Errorf("cannot find device %q", name)
		}
		return 0, err
	}
	return l.Index, nil
}

// linkName names an index as iproute2 does ("if7" when unknown).
func (ip *ipcmd) linkName(index int) string {
	if ip.byIndex == nil {
		_ = ip.loadLinks()
	}
	if l, ok := ip.byIndex[index]; ok {
		return l.Name
	}
	return "if" + strconv.Itoa(index)
}

// obj is a JSON object whose keys keep their order, as iproute2 prints
// them.
type obj []kv

type kv struct {
	k string
	v any
}

func (o *obj) set(k string, v any) { *o = append(*o, kv{k, v}) }

// MarshalJSON writes the keys in order.
func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, x := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(x.k)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(x.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// printJSON writes a list of objects on one line, as ip -j does.
func (ip *ipcmd) printJSON(list []obj) error {
	if list == nil {
		list = []obj{}
	}
	b, err := json.Marshal(list)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(ip.out, "%s\n", b)
	return err
}

// args is a cursor over the words of a command.
type args struct{ w []string }

func (a *args) more() bool { return len(a.w) > 0 }

func (a *args) next() string {
	s := a.w[0]
	a.w = a.w[1:]
	return s
}

// value returns the word after keyword, or a usage error.
func (a *args) value(keyword string) (string, error) {
	if !a.more() {
		return "", usagef("%q needs an argument", keyword)
	}
	return a.next(), nil
}

func (a *args) int(keyword string) (int, error) {
	s, err := a.value(keyword)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(s, 0, 32)
	if err != nil {
		return 0, usagef("%q is not a valid %s", s, keyword)
	}
	return int(n), nil
}
