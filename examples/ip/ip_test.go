package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/anykernel/anykernel/api/rtnl"
	"github.com/anykernel/anykernel/backend/native"
)

// The tests run this test binary as the ip tool (toolEnv set) next to
// Debian's real ip, both inside a fresh network namespace, and compare
// their -j output field by field.

const toolEnv = "ANYKERNEL_EXAMPLES_IP_AS_TOOL"

func TestMain(m *testing.M) {
	if os.Getenv(toolEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// realIP finds iproute2's ip.
func realIP(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			out, err := exec.Command(p, "-V").CombinedOutput()
			if err == nil && bytes.Contains(out, []byte("iproute2")) {
				return p
			}
		}
	}
	t.Skip("iproute2's ip is not installed (apt-get install iproute2)")
	return ""
}

// inFreshNetns runs a shell script in a new network namespace, with $OURS
// this tool and $REAL iproute2's ip, and returns its output. The
// namespace dies with the shell, and everything in it.
func inFreshNetns(t *testing.T, script string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces)")
	}
	real := realIP(t)
	k, err := native.New()
	if err != nil {
		t.Fatal(err)
	}
	newnet, ok := k.Const("CLONE_NEWNET")
	if !ok {
		t.Fatal("the ABI table has no CLONE_NEWNET")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", "-ec", script)
	cmd.Env = append(os.Environ(), "OURS="+self, "REAL="+real, toolEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: uintptr(newnet)}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the script: %v", err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("script timed out:\n%s", script)
	}
	if err != nil {
		t.Fatalf("script failed: %v\n%s\nstderr:\n%s\nstdout:\n%s", err, script, stderr.String(), stdout.String())
	}
	return stdout.String()
}

// sections splits the output of `show NAME CMD...` lines: "@@ NAME ours" and
// "@@ NAME real" markers each followed by one JSON line.
func sections(t *testing.T, out string) map[string]string {
	t.Helper()
	m := map[string]string{}
	lines := strings.Split(out, "\n")
	for i := 0; i < len(lines); i++ {
		if name, ok := strings.CutPrefix(lines[i], "@@ "); ok && i+1 < len(lines) {
			m[name] = lines[i+1]
			i++
		}
	}
	return m
}

// showBoth is the shell function the scripts use to print one command's
// output from both tools.
const showBoth = `show() { name=$1; shift; echo "@@ $name ours"; $OURS -j "$@"; echo "@@ $name real"; $REAL -j "$@"; }
`

// iproute2Oper is iproute2's oper_states[]: the names of IF_OPER_* in
// order, used only while the ABI table lacks IF_OPER_* and rtnl prints
// states as numbers.
var iproute2Oper = []string{"UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"}

// fieldCmp compares two values field by field: objects on the keys both
// have (required keys must be in both or in neither), lists element by
// element (same length), scalars exactly, lifetimes within 2 seconds.
type fieldCmp struct {
	t        *testing.T
	required map[string]bool
	errs     []string
	compared map[string]int
}

func (c *fieldCmp) fail(path, f string, a ...any) {
	c.errs = append(c.errs, path+": "+fmt.Sprintf(f, a...))
}

func (c *fieldCmp) value(path, key string, ours, real any) {
	c.compared[key]++
	switch r := real.(type) {
	case map[string]any:
		o, ok := ours.(map[string]any)
		if !ok {
			c.fail(path, "ours is %T, real is an object", ours)
			return
		}
		c.object(path, o, r)
	case []any:
		o, ok := ours.([]any)
		if !ok {
			c.fail(path, "ours is %T, real is a list", ours)
			return
		}
		if len(o) != len(r) {
			c.fail(path, "ours has %d elements %v, real %d %v", len(o), o, len(r), r)
			return
		}
		for i := range r {
			c.value(path+"["+strconv.Itoa(i)+"]", key, o[i], r[i])
		}
	default:
		if key == "valid_life_time" || key == "preferred_life_time" {
			of, _ := ours.(float64)
			rf, _ := real.(float64)
			if of-rf > 2 || rf-of > 2 {
				c.fail(path, "ours %v, real %v", ours, real)
			}
			return
		}
		if key == "operstate" {
			if s, ok := ours.(string); ok {
				if n, err := strconv.Atoi(s); err == nil && n >= 0 && n < len(iproute2Oper) {
					// rtnl has no names yet: the number must be the one
					// iproute2 names.
					ours = iproute2Oper[n]
				}
			}
		}
		if !reflect.DeepEqual(ours, real) {
			c.fail(path, "ours %v, real %v", ours, real)
		}
	}
}

func (c *fieldCmp) object(path string, ours, real map[string]any) {
	keys := make([]string, 0, len(real))
	for k := range real {
		keys = append(keys, k)
	}
	for k := range ours {
		if _, ok := real[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		o, inOurs := ours[k]
		r, inReal := real[k]
		switch {
		case inOurs && inReal:
			c.value(path+"."+k, k, o, r)
		case c.required[k]:
			c.fail(path+"."+k, "ours %v (present %v), real %v (present %v)", o, inOurs, r, inReal)
		}
	}
}

// compareShow compares one section's two JSON lists; key names each
// object (the lists are matched by it, so order does not matter).
func compareShow(t *testing.T, secs map[string]string, name string, key func(map[string]any) string, required ...string) {
	t.Helper()
	var ours, real []map[string]any
	if err := json.Unmarshal([]byte(secs[name+" ours"]), &ours); err != nil {
		t.Fatalf("%s: our output is not JSON (%v): %q", name, err, secs[name+" ours"])
	}
	if err := json.Unmarshal([]byte(secs[name+" real"]), &real); err != nil {
		t.Fatalf("%s: iproute2's output is not JSON (%v): %q", name, err, secs[name+" real"])
	}
	c := &fieldCmp{t: t, required: map[string]bool{}, compared: map[string]int{}}
	for _, r := range required {
		c.required[r] = true
	}
	om := map[string]map[string]any{}
	for _, o := range ours {
		om[key(o)] = o
	}
	seen := map[string]bool{}
	for _, r := range real {
		k := key(r)
		seen[k] = true
		o, ok := om[k]
		if !ok {
			c.fail(name, "iproute2 shows %s, we do not", k)
			continue
		}
		c.object(name+"["+k+"]", o, r)
	}
	for k := range om {
		if !seen[k] {
			c.fail(name, "we show %s, iproute2 does not", k)
		}
	}
	if len(c.errs) > 0 {
		t.Errorf("%s: ours and iproute2's differ:\n  %s\nours: %s\nreal: %s", name, strings.Join(c.errs, "\n  "),
			secs[name+" ours"], secs[name+" real"])
	}
	t.Logf("%s: %d objects agree on %d fields", name, len(real), len(c.compared))
}

func str(o map[string]any, k string) string { s, _ := o[k].(string); return s }

func byIfname(o map[string]any) string { return str(o, "ifname") }

func byRoute(o map[string]any) string {
	return str(o, "type") + " " + str(o, "dst") + " " + str(o, "table") + " " + str(o, "dev")
}

func byNeigh(o map[string]any) string { return str(o, "dst") + " " + str(o, "dev") }

func byRule(o map[string]any) string {
	return fmt.Sprint(o["priority"]) + " " + str(o, "src") + " " + str(o, "table")
}

var (
	linkFields  = []string{"ifname", "ifindex", "mtu", "operstate", "link_type", "address", "flags"}
	routeFields = []string{"dst", "gateway", "dev", "protocol", "scope"}
)

func TestLinks(t *testing.T) {
	out := inFreshNetns(t, showBoth+`
$OURS link add v0 type veth peer name v1
$OURS link add br0 type bridge
$OURS link set v1 master br0
$OURS link set dev v0 up mtu 1400 address 02:11:22:33:44:55
$OURS link set br0 up
$OURS link add link v0 name m0 type macvlan mode bridge
$OURS link add vx0 type vxlan id 42 dstport 4789 dev v0 local 10.0.0.1
$OURS link add i0 type ifb
$OURS link add r0 type veth peer name r1
$OURS link set r0 name renamed0 txqueuelen 77 alias "an alias"
$OURS link set lo up
show links link show
show addrs addr show
show one link show dev v0
show details -d link show
$OURS link set v1 nomaster
$OURS link set br0 down
$OURS link del r1
show after link show
`)
	secs := sections(t, out)
	for _, name := range []string{"links", "one", "after"} {
		compareShow(t, secs, name, byIfname, linkFields...)
	}
	compareShow(t, secs, "addrs", byIfname, append(linkFields, "addr_info")...)
	compareShow(t, secs, "details", byIfname, append(linkFields, "linkinfo")...)
	var links []map[string]any
	json.Unmarshal([]byte(secs["after real"]), &links)
	for _, l := range links {
		if n := str(l, "ifname"); n == "r1" || n == "renamed0" {
			t.Errorf("%s survived the deletion of its veth peer", n)
		}
	}
}

// TestLinksReal reads links iproute2 made, tun/tap among them.
func TestLinksReal(t *testing.T) {
	out := inFreshNetns(t, showBoth+`
$REAL link add v0 type veth peer name v1
$REAL link add br0 type bridge
$REAL link set v1 master br0
$REAL link set v0 up
$REAL tuntap add t0 mode tap
$REAL tuntap add t1 mode tun
$REAL link add vx0 type vxlan id 7 dstport 4789 group 239.1.1.1 dev v0
show links link show
show details -d link show
`)
	secs := sections(t, out)
	compareShow(t, secs, "links", byIfname, linkFields...)
	compareShow(t, secs, "details", byIfname, append(linkFields, "linkinfo")...)
}

func TestTuntap(t *testing.T) {
	k, err := native.New()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := k.Const("TUNSETIFF"); !ok {
		t.Skip("the ABI table has no TUNSETIFF: tun/tap creation is not available (tell the table's owner)")
	}
	out := inFreshNetns(t, showBoth+`
$OURS tuntap add t0 mode tap
$OURS tuntap add dev t1 mode tun
show links link show
$OURS tuntap del t0 mode tap
show after link show
`)
	secs := sections(t, out)
	compareShow(t, secs, "links", byIfname, linkFields...)
	compareShow(t, secs, "after", byIfname, linkFields...)
}

// TestMissingDrivers checks that kinds whose driver the kernel lacks fail
// with the kernel's message; with the driver, the link is compared.
func TestMissingDrivers(t *testing.T) {
	for _, c := range []struct{ kind, args, driver string }{
		{"dummy", "", "dummy"},
		{"vlan", "link v0 name vl0 type vlan id 5", "8021q"},
		{"bond", "b0 type bond", "bonding"},
	} {
		t.Run(c.kind, func(t *testing.T) {
			args := c.args
			if args == "" {
				args = c.kind + "0 type " + c.kind
			}
			out := inFreshNetns(t, showBoth+`
$OURS link add v0 type veth peer name v1
if ! $OURS link add `+args+` 2>err; then echo "@@ error"; cat err; exit 0; fi
show links link show
`)
			if msg, ok := strings.CutPrefix(out, "@@ error\n"); ok {
				if !strings.Contains(msg, "Unknown device type") && !strings.Contains(msg, "not supported") {
					t.Fatalf("link add type %s failed unexpectedly: %s", c.kind, msg)
				}
				t.Skipf("this kernel has no %s driver (%s)", c.driver, strings.TrimSpace(msg))
			}
			compareShow(t, sections(t, out), "links", byIfname, linkFields...)
		})
	}
}

func TestAddrs(t *testing.T) {
	out := inFreshNetns(t, showBoth+`
$OURS link add v0 type veth peer name v1
$OURS link set v0 up
$OURS link set lo up
$OURS addr add 10.1.2.3/24 dev v0
$OURS addr add 10.1.2.4/24 broadcast 10.1.2.255 label v0:x dev v0
$OURS addr add 10.5.0.1 peer 10.5.0.2/32 dev v0
$OURS addr add 172.16.0.1/16 scope link dev v0
$OURS addr add 2001:db8::1/64 dev v0 nodad
$OURS addr add 2001:db8:2::1/64 dev v0 nodad noprefixroute
$OURS addr add 10.7.0.1/24 dev v1 valid_lft 300 preferred_lft 200
show addrs addr show
show v4 -4 addr show
show v6 -6 addr show dev v0
$OURS addr del 10.1.2.4/24 dev v0
$OURS addr del 2001:db8::1/64 dev v0
show after addr show
`)
	secs := sections(t, out)
	for _, name := range []string{"addrs", "v4", "v6", "after"} {
		compareShow(t, secs, name, byIfname, append(linkFields, "addr_info")...)
	}
	if strings.Contains(secs["after real"], "10.1.2.4") || strings.Contains(secs["after real"], "2001:db8::1\"") {
		t.Errorf("deleted addresses are still there: %s", secs["after real"])
	}
}

func TestRoutes(t *testing.T) {
	out := inFreshNetns(t, showBoth+`
$OURS link add v0 type veth peer name v1
$OURS link set v0 up
$OURS link set v1 up
$OURS addr add 10.1.2.3/24 dev v0
$OURS addr add 10.2.0.3/24 dev v1
$OURS addr add 2001:db8::1/64 dev v0 nodad
$OURS route add 10.9.0.0/16 via 10.1.2.1 dev v0
$OURS route add 10.10.0.0/16 via 10.1.2.1 dev v0 table 100 metric 5
$OURS route add 10.11.0.0/16 dev v0 proto static
$OURS route add 10.12.0.0/16 via 10.1.2.1 mtu 1400 hoplimit 9 advmss 1300
$OURS route add 10.13.0.0/16 nexthop via 10.1.2.1 dev v0 weight 2 nexthop via 10.2.0.1 dev v1
$OURS route add blackhole 10.14.0.0/16
$OURS route add unreachable 10.15.0.0/16 metric 7
$OURS route add 10.16.0.0/16 via 10.1.2.1 src 10.1.2.3
$OURS route add default via 10.1.2.1 table 200
$OURS route add 2001:db8:1::/48 via 2001:db8::2
$OURS route replace 10.9.0.0/16 via 10.1.2.2 dev v0
show main route show
show t100 route show table 100
show all route show table all
show v6 -6 route show
$OURS route del 10.11.0.0/16
$OURS route del 10.10.0.0/16 table 100
show after route show table all
`)
	secs := sections(t, out)
	for _, name := range []string{"main", "t100", "all", "v6", "after"} {
		compareShow(t, secs, name, byRoute, routeFields...)
	}
	for _, gone := range []string{"10.11.0.0/16", "10.10.0.0/16"} {
		if strings.Contains(secs["after real"], gone) {
			t.Errorf("route %s is still there after del", gone)
		}
	}
	if !strings.Contains(secs["main real"], `"gateway":"10.1.2.2"`) {
		t.Errorf("route replace did not take: %s", secs["main real"])
	}
}

func TestNeighs(t *testing.T) {
	out := inFreshNetns(t, showBoth+`
$OURS link add v0 type veth peer name v1
$OURS link set v0 up
$OURS neigh add 10.1.2.9 lladdr 02:00:00:00:00:09 dev v0
$OURS neigh add 2001:db8::9 lladdr 02:00:00:00:00:0a dev v0 nud permanent
$OURS neigh replace 10.1.2.10 lladdr 02:00:00:00:00:0b dev v0 nud stale
show neigh neigh show
show dev neigh show dev v0
show all neigh show nud all
$OURS neigh del 10.1.2.9 dev v0
show after neigh show
`)
	secs := sections(t, out)
	for _, name := range []string{"neigh", "dev", "all", "after"} {
		compareShow(t, secs, name, byNeigh, "dst", "dev", "lladdr", "state")
	}
	if strings.Contains(secs["after real"], "10.1.2.9\"") {
		t.Errorf("neighbour 10.1.2.9 is still there after del")
	}
}

func TestRules(t *testing.T) {
	out := inFreshNetns(t, showBoth+`
$OURS rule add from 10.0.0.0/8 table 100 priority 100
$OURS rule add fwmark 0x10/0xff table 200 priority 200
$OURS rule add to 192.168.0.0/16 iif lo table 300 priority 300
show rules rule show
$OURS rule del from 10.0.0.0/8 table 100 priority 100
show after rule show
`)
	secs := sections(t, out)
	for _, name := range []string{"rules", "after"} {
		compareShow(t, secs, name, byRule, "priority", "src", "table")
	}
}

// TestErrors checks the tool's errors: the kernel's message and bad
// syntax.
func TestErrors(t *testing.T) {
	out := inFreshNetns(t, `
$OURS link add v0 type veth peer name v1
$OURS link add v0 type veth peer name v2 2>&1 && exit 1 || true
$OURS link set nosuch up 2>&1 && exit 1 || true
$OURS route add 10.9.0.0/16 via 10.1.2.1 2>&1 && exit 1 || true
$OURS link add 2>&1 && exit 1 || true
echo done
`)
	for _, want := range []string{"File exists", "cannot find device \"nosuch\"", "route add 10.9.0.0/16", "\"dev\" argument is required", "done"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestRun checks run's own errors without a namespace.
func TestRun(t *testing.T) {
	var b bytes.Buffer
	var ue usageError
	if err := run(nil, &b); !errors.As(err, &ue) {
		t.Errorf("no arguments: %v", err)
	}
	if err := run([]string{"-x"}, &b); !errors.As(err, &ue) {
		t.Errorf("bad option: %v", err)
	}
	if err := run([]string{"frob"}, &b); !errors.As(err, &ue) {
		t.Errorf("bad object: %v", err)
	}
	if got := linkFlags(rtnl.FlagUp|rtnl.FlagBroadcast|rtnl.FlagLowerUp|rtnl.FlagRunning, false); strings.Join(got, ",") != "BROADCAST,UP,LOWER_UP" {
		t.Errorf("flags = %v", got)
	}
	if got := linkFlags(rtnl.FlagUp, true); strings.Join(got, ",") != "NO-CARRIER,UP,M-DOWN" {
		t.Errorf("flags = %v", got)
	}
}
