package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/anykernel/anykernel/test/conformance"
)

// The host-state check: root cases run in namespaces of their own and must
// never change the host's interfaces, mounts or host name. TestMain
// (main_test.go) snapshots these before and after the whole run and fails
// the run if they differ.
//
// Snapshots read /proc/thread-self, not /proc/self: /proc/self describes the
// process's main thread, which the runtime parks for good, in whatever
// namespaces it was in, if a goroutine that changed its namespaces exits
// while running on it. The snapshot runs on an unlocked goroutine, whose
// thread is always in the process's own namespaces.

// hostState is what the check compares.
type hostState struct {
	hostname string
	mounts   []string // "point fstype source", sorted
	links    []string // one line per interface from ip -j link; nil without iproute2
	ipErr    string   // why links is nil
}

func snapshotHost() (*hostState, error) {
	s := &hostState{}
	var err error
	if s.hostname, err = os.Hostname(); err != nil {
		return nil, err
	}
	mi, err := os.ReadFile("/proc/thread-self/mountinfo")
	if err != nil {
		return nil, err
	}
	s.mounts = conformance.MountPoints(string(mi))
	sort.Strings(s.mounts)
	s.links, err = ipLinks()
	if err != nil {
		s.ipErr = err.Error()
	}
	return s, nil
}

// linkFields are the fields of `ip -j link` that describe an interface's
// identity and configuration (not its counters).
var linkFields = []string{"ifindex", "ifname", "link_type", "address", "mtu", "flags", "master", "link", "operstate"}

// ipLinks runs `ip -j link` and renders each interface's linkFields on a
// line.
func ipLinks() ([]string, error) {
	ip, err := exec.LookPath("ip")
	if err != nil {
		return nil, fmt.Errorf("no ip command (iproute2): %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, ip, "-j", "link").Output()
	if err != nil {
		return nil, fmt.Errorf("ip -j link: %w", err)
	}
	var links []map[string]any
	if err := json.Unmarshal(out, &links); err != nil {
		return nil, fmt.Errorf("ip -j link: %w", err)
	}
	var lines []string
	for _, l := range links {
		var b strings.Builder
		for _, f := range linkFields {
			if v, ok := l[f]; ok {
				j, _ := json.Marshal(v)
				fmt.Fprintf(&b, "%s=%s ", f, j)
			}
		}
		lines = append(lines, strings.TrimSpace(b.String()))
	}
	sort.Strings(lines)
	return lines, nil
}

// diff describes how after differs from s, "" when it does not.
func (s *hostState) diff(after *hostState) string {
	var b bytes.Buffer
	if s.hostname != after.hostname {
		fmt.Fprintf(&b, "  host name: %q, now %q\n", s.hostname, after.hostname)
	}
	listDiff(&b, "mount", s.mounts, after.mounts)
	if s.links != nil && after.links != nil {
		listDiff(&b, "interface", s.links, after.links)
	}
	return b.String()
}

// listDiff writes the lines only one of the sorted lists has.
func listDiff(b *bytes.Buffer, what string, before, after []string) {
	count := map[string]int{}
	for _, x := range before {
		count[x]++
	}
	for _, x := range after {
		count[x]--
	}
	var gone, added []string
	for x, n := range count {
		for ; n > 0; n-- {
			gone = append(gone, x)
		}
		for ; n < 0; n++ {
			added = append(added, x)
		}
	}
	sort.Strings(gone)
	sort.Strings(added)
	for _, x := range gone {
		fmt.Fprintf(b, "  %s gone: %s\n", what, x)
	}
	for _, x := range added {
		fmt.Fprintf(b, "  %s added: %s\n", what, x)
	}
}

// TestHostSnapshot checks the check: a snapshot sees the host's mounts and
// interfaces, and a change shows in the diff.
func TestHostSnapshot(t *testing.T) {
	s, err := snapshotHost()
	if err != nil {
		t.Fatal(err)
	}
	if s.hostname == "" {
		t.Error("empty host name")
	}
	root := false
	for _, m := range s.mounts {
		root = root || strings.HasPrefix(m, "/ ")
	}
	if !root {
		t.Errorf("no root mount among %q", s.mounts)
	}
	if s.links == nil {
		t.Logf("interfaces not compared: %s", s.ipErr)
	} else if !strings.Contains(strings.Join(s.links, "\n"), `ifname="lo"`) {
		t.Errorf("no lo among %q", s.links)
	}
	if d := s.diff(s); d != "" {
		t.Errorf("a snapshot differs from itself:\n%s", d)
	}
	changed := *s
	changed.hostname += "-x"
	changed.mounts = append([]string{"/mnt/x tmpfs tmpfs"}, s.mounts[1:]...)
	d := s.diff(&changed)
	for _, want := range []string{"host name", "mount added: /mnt/x tmpfs tmpfs", "mount gone: " + s.mounts[0]} {
		if !strings.Contains(d, want) {
			t.Errorf("diff lacks %q:\n%s", want, d)
		}
	}
}
