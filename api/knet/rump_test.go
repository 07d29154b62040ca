//go:build rump && cgo

package knet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/rtnl"
	"github.com/anykernel/anykernel/backend/native"
	"github.com/anykernel/anykernel/backend/rump"
	"github.com/anykernel/anykernel/backend/rump/rumpserver"
)

// Networking inside rump kernels: the local one in this process (one per
// process, booted once with every component these tests use) and a
// rump_server process reached through remote mode (librumpclient allows
// one connection per process, so it too is shared). Their shmif0
// interfaces share a bus file, an Ethernet segment between the two
// NetBSD TCP/IP stacks.

var rumpComponents = []string{
	"vfs", "net", "net.net", "net.local", "net.netinet", "net.netinet6", "net.shmif", "net.virtif",
}

func rumpKernel(t testing.TB) *api.Kernel {
	t.Helper()
	k, err := rump.New(rump.Options{Components: rumpComponents})
	if err != nil {
		if strings.Contains(err.Error(), "buildrump.sh") {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	return k
}

// The addresses of the two kernels on the shared bus, and one the remote
// kernel has on lo0, reached from the local one through a route.
var (
	localAddr  = netip.MustParsePrefix("10.93.0.1/24")
	remoteAddr = netip.MustParsePrefix("10.93.0.2/24")
	farAddr    = netip.MustParsePrefix("10.94.0.2/32")
)

var two struct {
	once          sync.Once
	err           error
	skip          string
	local, remote *api.Kernel
	dir           string
	srv           *rumpserver.Server
}

// TestMain stops the rump_server and removes the bus file.
func TestMain(m *testing.M) {
	code := m.Run()
	if two.srv != nil {
		two.srv.Close()
	}
	if two.dir != "" {
		os.RemoveAll(two.dir)
	}
	os.Exit(code)
}

// twoKernels returns the local and the remote kernel, on one shmif bus.
func twoKernels(t *testing.T) (local, remote *api.Kernel) {
	t.Helper()
	two.once.Do(setupTwo)
	if two.skip != "" {
		t.Skip(two.skip)
	}
	if two.err != nil {
		t.Fatal(two.err)
	}
	return two.local, two.remote
}

func setupTwo() {
	prefix := os.Getenv("RUMP_PREFIX")
	if prefix == "" {
		two.skip = "RUMP_PREFIX unset: " + rump.Unavailable
		return
	}
	k, err := rump.New(rump.Options{Components: rumpComponents})
	if err != nil {
		two.err = err
		return
	}
	two.local = k
	if two.dir, err = os.MkdirTemp("", "knet-rump-*"); err != nil {
		two.err = err
		return
	}
	srv, err := rumpserver.Start("unix://"+filepath.Join(two.dir, "server.sock"),
		rump.Options{Components: rumpComponents}, 0)
	if err != nil {
		two.err = err
		return
	}
	two.srv = srv
	if two.remote, err = rump.Dial(srv.URL); err != nil {
		two.err = err
		return
	}
	bus := filepath.Join(two.dir, "bus")
	if err := rump.ShmifUp(two.local, "shmif0", bus, localAddr); err != nil {
		two.err = fmt.Errorf("local shmif0: %w", err)
		return
	}
	if err := rump.ShmifUp(two.remote, "shmif0", bus, remoteAddr); err != nil {
		two.err = fmt.Errorf("remote shmif0: %w", err)
		return
	}
	if err := rump.IfAddAddr(two.remote, "lo0", farAddr); err != nil {
		two.err = fmt.Errorf("remote lo0 alias: %w", err)
		return
	}
	two.err = rump.RouteAdd(two.local, netip.PrefixFrom(farAddr.Addr(), 24).Masked(), remoteAddr.Addr())
}

func TestRumpLoopback(t *testing.T) {
	k := rumpKernel(t)
	if err := rump.LoopbackUp(k); err != nil {
		t.Fatal(err)
	}
	f, err := rump.IfGetFlags(k, "lo0")
	if err != nil || f&(rump.IffUp|rump.IffLoopback) != rump.IffUp|rump.IffLoopback {
		t.Fatalf("lo0 flags %v %v", f, err)
	}
	t.Run("echo", func(t *testing.T) { testEcho(t, k, "127.0.0.1") })
	t.Run("http", func(t *testing.T) { testHTTP(t, k, k, "127.0.0.1", "127.0.0.1") })
	t.Run("deadlines", func(t *testing.T) { testDeadlines(t, k) })
	t.Run("close", func(t *testing.T) { testClose(t, k) })
	t.Run("many", func(t *testing.T) { testManyConns(t, k, "127.0.0.1", 40) })
	t.Run("ipv6", func(t *testing.T) {
		// net.netinet6 configures ::1 at boot; make sure.
		if err := rump.IfAddAddr(k, "lo0", netip.MustParsePrefix("::1/128")); err != nil && !errors.Is(err, api.EEXIST) {
			t.Fatal(err)
		}
		testEcho(t, k, "::1")
	})
	t.Run("unix", func(t *testing.T) {
		if err := k.Mkdir("/knet", 0o755); err != nil && !errors.Is(err, api.EEXIST) {
			t.Fatal(err)
		}
		l, err := Listen(k, "unix", "/knet/sock")
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			if c, err := l.Accept(); err == nil {
				c.Write([]byte("local socket in NetBSD"))
				c.Close()
			}
		}()
		c, err := Dial(k, "unix", "/knet/sock")
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(c)
		c.Close()
		l.Close()
		if string(got) != "local socket in NetBSD" || err != nil {
			t.Fatalf("%q %v", got, err)
		}
		var st api.Stat
		if err := k.Stat("/knet/sock", &st); !errors.Is(err, api.ENOENT) {
			t.Errorf("socket file after Close: %v", err)
		}
	})
}

// TestRumpIfconfig drives the interface ioctls and the routing socket on
// an interface of its own bus.
func TestRumpIfconfig(t *testing.T) {
	k := rumpKernel(t)
	bus := filepath.Join(t.TempDir(), "bus")
	const ifn = "shmif7"
	if err := rump.IfCreate(k, ifn); err != nil {
		t.Fatal(err)
	}
	defer rump.IfDestroy(k, ifn)
	if err := rump.IfCreate(k, ifn); !errors.Is(err, api.EEXIST) {
		t.Errorf("creating %s twice: %v", ifn, err)
	}
	f, err := rump.IfGetFlags(k, ifn)
	if err != nil || f&rump.IffUp != 0 || f&rump.IffBroadcast == 0 {
		t.Fatalf("new %s: flags %v %v", ifn, f, err)
	}
	if err := rump.IfSetLinkStr(k, ifn, bus); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bus); err != nil {
		t.Errorf("the bus file: %v", err)
	}
	p := netip.MustParsePrefix("10.77.3.9/22")
	if err := rump.IfAddAddr(k, ifn, p); err != nil {
		t.Fatal(err)
	}
	if err := rump.IfUp(k, ifn); err != nil {
		t.Fatal(err)
	}
	if f, err := rump.IfGetFlags(k, ifn); err != nil || f&(rump.IffUp|rump.IffRunning) != rump.IffUp|rump.IffRunning {
		t.Errorf("%s after IfUp: %v %v", ifn, f, err)
	}
	if err := rump.IfSetLinkStr(k, ifn, bus+"2"); !errors.Is(err, api.EBUSY) {
		t.Errorf("SIOCSLINKSTR on an up interface: %v, want EBUSY", err)
	}
	if a, err := rump.IfGetAddr(k, ifn); err != nil || a != p.Addr() {
		t.Errorf("address %v %v, want %v", a, err, p.Addr())
	}
	idx, err := rump.IfIndex(k, ifn)
	if err != nil || idx <= 1 {
		t.Errorf("index %d %v", idx, err)
	}
	if mtu, err := rump.IfGetMTU(k, ifn); err != nil || mtu != 1500 {
		t.Errorf("mtu %d %v", mtu, err)
	}
	// The kernel made the route to the prefix.
	r, err := rump.RouteGet(k, netip.MustParseAddr("10.77.1.1"))
	if err != nil || r.Dst != p.Masked() || r.IfIndex != idx || r.Flags&rump.RtfConnected == 0 {
		t.Errorf("route to the interface's prefix: %v %v", r, err)
	}
	// A gateway route, read back, deleted.
	dst := netip.MustParsePrefix("10.78.0.0/16")
	gw := netip.MustParseAddr("10.77.0.1")
	if err := rump.RouteAdd(k, dst, gw); err != nil {
		t.Fatal(err)
	}
	if err := rump.RouteAdd(k, dst, gw); !errors.Is(err, api.EEXIST) {
		t.Errorf("adding the route twice: %v", err)
	}
	r, err = rump.RouteGet(k, netip.MustParseAddr("10.78.200.3"))
	if err != nil || r.Dst != dst || r.Gateway != gw || r.Flags&(rump.RtfGateway|rump.RtfStatic|rump.RtfUp) != rump.RtfGateway|rump.RtfStatic|rump.RtfUp {
		t.Errorf("RouteGet: %v %v", r, err)
	} else {
		t.Logf("route get 10.78.200.3: %v", r)
	}
	host := netip.MustParsePrefix("10.79.1.1/32")
	if err := rump.RouteAdd(k, host, gw); err != nil {
		t.Fatal(err)
	}
	if r, err := rump.RouteGet(k, host.Addr()); err != nil || r.Flags&rump.RtfHost == 0 || r.Dst != host {
		t.Errorf("host route: %v %v", r, err)
	}
	for _, d := range []netip.Prefix{dst, host} {
		if err := rump.RouteDelete(k, d); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := rump.RouteGet(k, netip.MustParseAddr("10.78.200.3")); !errors.Is(err, api.ESRCH) {
		t.Errorf("RouteGet after delete: %v, want ESRCH", err)
	}
	if err := rump.RouteDelete(k, dst); !errors.Is(err, api.ESRCH) {
		t.Errorf("deleting twice: %v", err)
	}
	// IPv6 address and its prefix route.
	if err := rump.IfAddAddr(k, ifn, netip.MustParsePrefix("fd77::9/64")); err != nil {
		t.Fatal(err)
	}
	if r, err := rump.RouteGet(k, netip.MustParseAddr("fd77::1234")); err != nil || r.Dst != netip.MustParsePrefix("fd77::/64") {
		t.Errorf("IPv6 prefix route: %v %v", r, err)
	}
	if err := rump.IfDelAddr(k, ifn, p.Addr()); err != nil {
		t.Fatal(err)
	}
	if _, err := rump.IfGetAddr(k, ifn); !errors.Is(err, api.EADDRNOTAVAIL) {
		t.Errorf("address after IfDelAddr: %v", err)
	}
	if err := rump.IfDown(k, ifn); err != nil {
		t.Fatal(err)
	}
	if f, _ := rump.IfGetFlags(k, ifn); f&rump.IffUp != 0 {
		t.Errorf("flags after IfDown: %v", f)
	}

	// Bad input: clear errors, before or from the kernel.
	for _, name := range []string{"", "a/b", "x\x00", strings.Repeat("n", 16)} {
		if err := rump.IfUp(k, name); !errors.Is(err, api.EINVAL) {
			t.Errorf("IfUp(%q): %v, want EINVAL", name, err)
		}
	}
	if err := rump.IfUp(k, "nosuch0"); !errors.Is(err, api.ENXIO) {
		t.Errorf("IfUp of a missing interface: %v, want ENXIO", err)
	}
	if err := rump.IfCreate(k, "bogus0"); err == nil {
		t.Error("IfCreate of an unknown cloner: no error")
	}
	if err := rump.IfAddAddr(k, ifn, netip.Prefix{}); !errors.Is(err, api.EINVAL) {
		t.Errorf("IfAddAddr of an invalid prefix: %v", err)
	}
	if err := rump.IfSetFlags(k, ifn, 1<<30); !errors.Is(err, api.EINVAL) {
		t.Errorf("unknown flag bits: %v", err)
	}
	if err := rump.RouteAdd(k, dst, netip.MustParseAddr("fd00::1")); !errors.Is(err, api.EINVAL) {
		t.Errorf("IPv4 route through an IPv6 gateway: %v", err)
	}
	if err := rump.RouteAdd(k, netip.MustParsePrefix("10.80.0.0/16"), netip.MustParseAddr("10.200.0.1")); !errors.Is(err, api.ENETUNREACH) {
		t.Errorf("route through an unreachable gateway: %v", err)
	}
	if got := (rump.IffUp | rump.IffLoopback).String(); got != "UP|LOOPBACK" {
		t.Errorf("IfFlags.String = %q", got)
	}
}

// TestRumpShmifTCP passes TCP between the two kernels over the bus, both
// ways, and through a route to an address behind the remote kernel.
func TestRumpShmifTCP(t *testing.T) {
	local, remote := twoKernels(t)
	for _, c := range []struct {
		name             string
		server, client   *api.Kernel
		serverIP, dialIP string
	}{
		{"local-to-remote", remote, local, remoteAddr.Addr().String(), remoteAddr.Addr().String()},
		{"remote-to-local", local, remote, localAddr.Addr().String(), localAddr.Addr().String()},
		{"routed", remote, local, "0.0.0.0", farAddr.Addr().String()},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, err := Listen(c.server, "tcp", c.serverIP+":0")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			port := l.Addr().(*net.TCPAddr).Port
			msg := bytes.Repeat([]byte("NetBSD to NetBSD over shmif. "), 20000)
			go func() {
				s, err := l.Accept()
				if err != nil {
					return
				}
				defer s.Close()
				io.Copy(s, s)
			}()
			cn, err := Dial(c.client, "tcp", fmt.Sprintf("%s:%d", c.dialIP, port))
			if err != nil {
				t.Fatal(err)
			}
			defer cn.Close()
			cn.SetDeadline(time.Now().Add(30 * time.Second))
			go func() {
				cn.Write(msg)
				cn.CloseWrite()
			}()
			got, err := io.ReadAll(cn)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("echo of %d bytes: got %d, %v", len(msg), len(got), err)
			}
			ra := cn.RemoteAddr().(*net.TCPAddr)
			if ra.IP.String() != c.dialIP || ra.Port != port {
				t.Errorf("remote address %v", ra)
			}
		})
	}
	t.Run("dial-timeout", func(t *testing.T) {
		// Nobody has this address on the bus: ARP never answers, and
		// the connect would wait for TCP's own minutes.
		nobody := netip.AddrPortFrom(netip.MustParseAddr("10.93.0.77"), 80).String()
		start := time.Now()
		_, err := (&Dialer{Kernel: local, Timeout: 200 * time.Millisecond}).Dial("tcp", nobody)
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() || time.Since(start) > 5*time.Second {
			t.Errorf("dial with a 200ms timeout: %v after %v", err, time.Since(start))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, err = (&Dialer{Kernel: remote}).DialContext(ctx, "tcp", nobody)
		if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("dial with a context deadline: %v", err)
		}
	})
	r, err := rump.RouteGet(local, farAddr.Addr())
	if err != nil || r.Gateway != remoteAddr.Addr() {
		t.Errorf("the local kernel's route to %v: %v %v", farAddr, r, err)
	}
}

// TestRumpShmifHTTP serves HTTP from the remote kernel's TCP/IP stack to
// a client in the local one, over the shmif bus.
func TestRumpShmifHTTP(t *testing.T) {
	local, remote := twoKernels(t)
	testHTTP(t, remote, local, remoteAddr.Addr().String(), localAddr.Addr().String())
	t.Run("reverse", func(t *testing.T) {
		testHTTP(t, local, remote, localAddr.Addr().String(), remoteAddr.Addr().String())
	})
	t.Run("deadlines-remote", func(t *testing.T) { testDeadlines(t, remote) })
	t.Run("many-across", func(t *testing.T) {
		testConversations(t, remote, local, remoteAddr.Addr().String(), 20, 30000, 60*time.Second)
	})
}

// TestRumpVirtif connects the rump kernel's TCP/IP stack to the host's
// through a tap device: the test makes the tap tun0 on the host (api/rtnl),
// and virt0 in the rump kernel attaches to it. It runs in a child process
// inside a fresh network namespace, so the host's own interfaces are never
// touched, and needs root.
func TestRumpVirtif(t *testing.T) {
	if os.Getenv("KNET_VIRTIF_CHILD") == "1" {
		virtifChild(t)
		return
	}
	if os.Getenv("RUMP_PREFIX") == "" {
		t.Skip("RUMP_PREFIX unset: " + rump.Unavailable)
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: the tap device lives in a new network namespace")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skipf("no tun/tap driver: %v", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRumpVirtif$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "KNET_VIRTIF_CHILD=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	out, err := cmd.CombinedOutput()
	t.Logf("child in a new network namespace:\n%s", out)
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	if !strings.Contains(string(out), "--- PASS: TestRumpVirtif") {
		t.Fatal("the child did not pass")
	}
}

func virtifChild(t *testing.T) {
	k := rumpKernel(t)
	hostK, err := native.New()
	if err != nil {
		t.Fatal(err)
	}
	c, err := rtnl.Dial(hostK)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The host's tap device, in this process's own network namespace.
	// virtN attaches to the tap named tunN (rump's virtif_user.c).
	if err := c.AddTuntap(&rtnl.Tuntap{Name: "tun0", Tap: true}); err != nil {
		t.Fatal(err)
	}
	tap, err := c.LinkByName("tun0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.DeleteLink(tap.Index)
	if err := rump.IfCreate(k, "virt0"); err != nil {
		t.Fatal(err)
	}
	defer func() {
		// Detach before the tap goes (virt0's reader would complain).
		if err := rump.IfDown(k, "virt0"); err != nil {
			t.Error(err)
		}
		if err := rump.IfDestroy(k, "virt0"); err != nil {
			t.Error(err)
		}
	}()
	hostIP := netip.MustParsePrefix("10.95.0.1/24")
	rumpIP := netip.MustParsePrefix("10.95.0.2/24")
	if err := c.AddAddr(&rtnl.Addr{Index: tap.Index, Prefix: hostIP}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetLinkUp(tap.Index); err != nil {
		t.Fatal(err)
	}
	if err := rump.IfAddAddr(k, "virt0", rumpIP); err != nil {
		t.Fatal(err)
	}
	if err := rump.IfUp(k, "virt0"); err != nil {
		t.Fatal(err)
	}
	// The host's Go net package (its netpoller, Linux's TCP) talks to
	// NetBSD's stack in the rump kernel.
	l, err := Listen(k, "tcp", rumpIP.Addr().String()+":8080")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "NetBSD answers %s", r.RemoteAddr)
	})}
	go srv.Serve(l)
	defer srv.Close()
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get("http://" + rumpIP.Addr().String() + ":8080/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(string(body), "NetBSD answers "+hostIP.Addr().String()) {
		t.Fatalf("host to rump: %q", body)
	}
	t.Logf("host -> rump over tap: %s", body)
	// And the other way: the rump kernel dials the host's listener.
	hl, err := net.Listen("tcp", hostIP.Addr().String()+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer hl.Close()
	go func() {
		if s, err := hl.Accept(); err == nil {
			fmt.Fprintf(s, "Linux answers %s", s.RemoteAddr())
			s.Close()
		}
	}()
	rc, err := Dial(k, "tcp", hl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	rc.SetDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !strings.HasPrefix(string(got), "Linux answers "+rumpIP.Addr().String()) {
		t.Fatalf("rump to host: %q %v", got, err)
	}
	t.Logf("rump -> host over tap: %s", got)
}
