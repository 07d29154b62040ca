package conformance

import (
	"encoding/json"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
)

// TestRtnlLeavesHostAlone runs every case of the netlink family and checks
// that the host's links, addresses, routes and rules, as iproute2 shows
// them, are the same before and after: the cases must do all their work
// in namespaces of their own.
func TestRtnlLeavesHostAlone(t *testing.T) {
	if !IsRoot() {
		t.Skip("needs root (the netlink cases do)")
	}
	ip := ""
	for _, p := range []string{"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"} {
		if _, err := os.Stat(p); err == nil {
			ip = p
			break
		}
	}
	if ip == "" {
		t.Skip("iproute2's ip is not installed (apt-get install iproute2)")
	}
	snapshot := func() map[string]string {
		out := map[string]string{}
		for _, args := range [][]string{
			{"-j", "link", "show"},
			{"-j", "addr", "show"},
			{"-j", "route", "show", "table", "all"},
			{"-j", "-6", "route", "show", "table", "all"},
			{"-j", "rule", "show"},
		} {
			b, err := exec.Command(ip, args...).Output()
			if err != nil {
				t.Fatalf("ip %s: %v", strings.Join(args, " "), err)
			}
			out[strings.Join(args, " ")] = normalize(t, b)
		}
		return out
	}
	var native *Target
	for _, tg := range Targets() {
		if tg.Name == "native" {
			native = tg
		}
	}
	if native == nil {
		t.Fatal("no native target")
	}
	k, err := native.Open()
	if err != nil {
		t.Fatal(err)
	}
	before := snapshot()
	ran := 0
	for _, c := range Cases() {
		if c.Family != "netlink" {
			continue
		}
		ran++
		if res := RunCase(c, native, k); res.Status == Fail {
			t.Errorf("%s: %s", c.Call, res.Message)
		}
	}
	if ran < 25 {
		t.Errorf("only %d netlink cases", ran)
	}
	after := snapshot()
	for cmd, b := range before {
		if after[cmd] != b {
			t.Errorf("the host's `ip %s` changed:\nbefore: %s\nafter:  %s", cmd, b, after[cmd])
		}
	}
}

// normalize drops what changes by itself (address lifetimes, route
// expiry, counters) from ip -j output, keeping everything the cases could
// have changed.
func normalize(t *testing.T, b []byte) string {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("ip output is not JSON: %v: %s", err, b)
	}
	var walk func(any) any
	walk = func(x any) any {
		switch y := x.(type) {
		case map[string]any:
			for _, k := range []string{"valid_life_time", "preferred_life_time", "expires", "stats64", "stats", "used"} {
				delete(y, k)
			}
			for k, z := range y {
				y[k] = walk(z)
			}
		case []any:
			for i := range y {
				y[i] = walk(y[i])
			}
		}
		return x
	}
	v = walk(v)
	out, _ := json.Marshal(v) // maps marshal with sorted keys
	if l, ok := v.([]any); ok {
		s := make([]string, len(l))
		for i, e := range l {
			b, _ := json.Marshal(e)
			s[i] = string(b)
		}
		sort.Strings(s)
		return strings.Join(s, "\n")
	}
	return string(out)
}
