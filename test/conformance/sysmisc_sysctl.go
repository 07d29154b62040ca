package conformance

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/sysctl"
)

// sysctl through /proc/sys with dotted names. Writes happen only inside a
// fresh network namespace, on net.* keys: the host's parameters are never
// changed.

func init() {
	Register(
		Case{Family: "sysctl", Call: "sysctl.Get", Run: testSysctlGet},
		Case{Family: "sysctl", Call: "sysctl.Path", Run: testSysctlPath},
		Case{Family: "sysctl", Call: "sysctl.List", Run: testSysctlList},
		Case{Family: "sysctl", Call: "sysctl.Set", Root: true, Run: testSysctlSet},
	)
}

func smNeedProcSys(t T, e *Env) {
	t.Helper()
	var st api.Stat
	if err := e.K.Stat(sysctl.Root+"/kernel", &st); err != nil {
		t.Skipf("no /proc/sys here: %v", err)
	}
}

func testSysctlGet(t T, e *Env) {
	smNeedProcSys(t, e)
	k := e.K
	v, err := sysctl.Get(k, "kernel.ostype")
	OK(t, err, "Get kernel.ostype")
	Eq(t, v, "Linux")
	var u api.Utsname
	OK(t, k.Uname(&u))
	v, err = sysctl.Get(k, "kernel.hostname")
	OK(t, err, "Get kernel.hostname")
	Eq(t, v, u.Nodename, "hostname as uname says")
	v, err = sysctl.Get(k, "kernel/osrelease")
	OK(t, err, "Get by path")
	Eq(t, v, u.Release, "osrelease as uname says")
	v, err = sysctl.Get(k, "/proc/sys/kernel/ostype")
	OK(t, err, "Get by absolute path")
	Eq(t, v, "Linux")
	n, err := sysctl.GetInt(k, "kernel.pid_max")
	OK(t, err, "GetInt kernel.pid_max")
	True(t, n >= 301, "pid_max %d", n)
	f, err := sysctl.Fields(k, "net.ipv4.ip_local_port_range")
	OK(t, err, "Fields")
	Eq(t, len(f), 2, "two ports in %v", f)
	_, err = sysctl.GetInt(k, "kernel.ostype")
	Want(t, err, strconv.ErrSyntax, "GetInt of a string")
	_, err = sysctl.Get(k, "kernel.no_such_parameter")
	Want(t, err, fs.ErrNotExist, "missing parameter")
	_, err = sysctl.Get(k, "kernel")
	Want(t, err, api.EISDIR, "a directory is no parameter")
	if smIsHost(e) {
		raw, err := os.ReadFile("/proc/sys/kernel/pid_max")
		OK(t, err)
		Eq(t, fmt.Sprint(n), strings.TrimSpace(string(raw)), "as os reads it")
		h, err := os.Hostname()
		OK(t, err)
		v, _ := sysctl.Get(k, "kernel.hostname")
		Eq(t, v, h, "as os.Hostname says")
	}
}

func testSysctlPath(t T, e *Env) {
	for _, c := range []struct{ name, path string }{
		{"net.ipv4.ip_forward", "/proc/sys/net/ipv4/ip_forward"},
		{"net.ipv4.conf.eth0/1.rp_filter", "/proc/sys/net/ipv4/conf/eth0.1/rp_filter"},
		{"net/ipv4/conf/eth0.1/rp_filter", "/proc/sys/net/ipv4/conf/eth0.1/rp_filter"},
		{"/proc/sys/kernel/ostype", "/proc/sys/kernel/ostype"},
		{"kernel", "/proc/sys/kernel"},
	} {
		p, err := sysctl.Path(c.name)
		OK(t, err, "Path(%q)", c.name)
		Eq(t, p, c.path, "Path(%q)", c.name)
	}
	Eq(t, sysctl.Name("/proc/sys/net/ipv4/conf/eth0.1/rp_filter"), "net.ipv4.conf.eth0/1.rp_filter", "Name")
	for _, bad := range []string{"", "net..ipv4", "net.ipv4.", "../../etc/passwd", "net/../../etc", "/etc/passwd", "/proc/sys/", ".net"} {
		_, err := sysctl.Path(bad)
		Want(t, err, api.EINVAL, "Path(%q)", bad)
		_, err = sysctl.Get(e.K, bad)
		Want(t, err, api.EINVAL, "Get(%q)", bad)
	}
}

func testSysctlList(t T, e *Env) {
	smNeedProcSys(t, e)
	k := e.K
	names, err := sysctl.List(k, "net.ipv4")
	OK(t, err, "List net.ipv4")
	True(t, slices.IsSorted(names), "sorted")
	True(t, slices.Contains(names, "net.ipv4.ip_forward"), "net.ipv4.ip_forward listed")
	True(t, slices.Contains(names, "net.ipv4.conf.lo.forwarding"), "per-interface parameters listed")
	for _, n := range names {
		True(t, strings.HasPrefix(n, "net.ipv4."), "%s under net.ipv4", n)
	}
	one, err := sysctl.List(k, "kernel.ostype")
	OK(t, err, "List of one parameter")
	Eq(t, strings.Join(one, ","), "kernel.ostype")
	_, err = sysctl.List(k, "kernel.no_such")
	Want(t, err, fs.ErrNotExist, "List of a missing subtree")
	all, err := sysctl.All(k, "kernel.random")
	OK(t, err, "All kernel.random")
	True(t, len(all["kernel.random.boot_id"]) == 36, "boot_id %q", all["kernel.random.boot_id"])
	if smIsHost(e) {
		// filepath.WalkDir finds the same files.
		var osNames []string
		filepath.WalkDir("/proc/sys/net/ipv4", func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				osNames = append(osNames, sysctl.Name(p))
			}
			return nil
		})
		slices.Sort(osNames)
		Eq(t, strings.Join(names, " "), strings.Join(osNames, " "), "the same names as filepath.WalkDir")
	}
}

// smInNewNetns runs f on a locked OS thread moved into a fresh network
// namespace; the thread is discarded afterwards, so the namespace dies with
// it and no other goroutine ever runs in it.
func smInNewNetns(t T, e *Env, f func() error) {
	t.Helper()
	flag, ok := e.K.Const("CLONE_NEWNET")
	if !ok {
		t.Skipf("%sthe ABI has no CLONE_NEWNET", NoSysPrefix)
	}
	procLocked(t, func() error {
		if _, err := e.K.Syscall("unshare", uintptr(flag)); err != nil {
			return fmt.Errorf("unshare(CLONE_NEWNET): %w", err)
		}
		return f()
	})
}

func testSysctlSet(t T, e *Env) {
	smNeedProcSys(t, e)
	k := e.K
	hostFwd, err := sysctl.Get(k, "net.ipv4.ip_forward")
	OK(t, err)
	hostTTL, err := sysctl.GetInt(k, "net.ipv4.ip_default_ttl")
	OK(t, err)
	want := "1"
	if hostFwd == "1" {
		want = "0"
	}
	smInNewNetns(t, e, func() error {
		v, err := sysctl.Get(k, "net.ipv4.ip_forward")
		if err != nil {
			return err
		}
		if v != "0" {
			return fmt.Errorf("a fresh namespace has ip_forward %q, want 0", v)
		}
		if err := sysctl.Set(k, "net.ipv4.ip_forward", want); err != nil {
			return err
		}
		if v, err = sysctl.Get(k, "net.ipv4.ip_forward"); err != nil || v != want {
			return fmt.Errorf("after Set: %q, %v; want %q", v, err, want)
		}
		if err := sysctl.SetInt(k, "net.ipv4.ip_default_ttl", 77); err != nil {
			return err
		}
		if n, err := sysctl.GetInt(k, "net.ipv4.ip_default_ttl"); err != nil || n != 77 {
			return fmt.Errorf("after SetInt: %d, %v; want 77", n, err)
		}
		// Per-interface keys: lo exists in every namespace.
		if err := sysctl.Set(k, "net.ipv6.conf.lo.disable_ipv6", "1"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		// Bad values and read-only parameters fail.
		if err := sysctl.Set(k, "net.ipv4.ip_default_ttl", "not a number"); !errors.Is(err, api.EINVAL) {
			return fmt.Errorf("set of a bad value: %v, want EINVAL", err)
		}
		if err := sysctl.Set(k, "net.ipv4.ip_default_ttl", "0"); !errors.Is(err, api.EINVAL) {
			return fmt.Errorf("set of an out-of-range value: %v, want EINVAL", err)
		}
		if err := sysctl.Set(k, "kernel.ostype", "x"); !errors.Is(err, api.EACCES) && !errors.Is(err, api.EPERM) {
			return fmt.Errorf("set of a read-only parameter: %v, want EACCES", err)
		}
		if err := sysctl.Set(k, "net.ipv4.no_such", "1"); !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("set of a missing parameter: %v", err)
		}
		return nil
	})
	// The host's values never changed.
	v, err := sysctl.Get(k, "net.ipv4.ip_forward")
	OK(t, err)
	Eq(t, v, hostFwd, "the host's ip_forward is untouched")
	n, err := sysctl.GetInt(k, "net.ipv4.ip_default_ttl")
	OK(t, err)
	Eq(t, n, hostTTL, "the host's default TTL is untouched")
}
