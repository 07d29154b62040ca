//go:build rump && cgo

package knet

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/backend/rump"
)

// TestRumpPacket runs the datagram tests in NetBSD's stack, on lo0 and in
// its file system.
func TestRumpPacket(t *testing.T) {
	k := rumpKernel(t)
	if err := rump.LoopbackUp(k); err != nil {
		t.Fatal(err)
	}
	// net.netinet6 configures ::1 at boot; make sure.
	if err := rump.IfAddAddr(k, "lo0", netip.MustParsePrefix("::1/128")); err != nil && !errors.Is(err, api.EEXIST) {
		t.Fatal(err)
	}
	if err := k.Mkdir("/knetdg", 0o755); err != nil && !errors.Is(err, api.EEXIST) {
		t.Fatal(err)
	}
	t.Run("udp4", func(t *testing.T) { testPacketEcho(t, k, "udp4", "127.0.0.1:0", "127.0.0.1:0", maxUDP("127.0.0.1")) })
	t.Run("udp6", func(t *testing.T) { testPacketEcho(t, k, "udp6", "[::1]:0", "[::1]:0", maxUDP("::1")) })
	t.Run("unixgram", func(t *testing.T) { testPacketEcho(t, k, "unixgram", "/knetdg/srv", "/knetdg/cli", 100000) })
	t.Run("truncate", func(t *testing.T) { testPacketTruncate(t, k, "udp", "127.0.0.1:0") })
	t.Run("deadlines", func(t *testing.T) { testPacketDeadlines(t, k, "udp", "127.0.0.1:0") })
	t.Run("deadlines6", func(t *testing.T) { testPacketDeadlines(t, k, "udp6", "[::1]:0") })
	t.Run("bad-input", func(t *testing.T) {
		udp := listenPacket(t, k, "udp4", "127.0.0.1:0")
		ug := listenPacket(t, k, "unixgram", "/knetdg/bad")
		testPacketBadInput(t, k, udp, ug)
	})
	t.Run("dial", func(t *testing.T) { testPacketDial(t, k, "udp", "127.0.0.1", "127.0.0.1") })
	t.Run("dial6", func(t *testing.T) { testPacketDial(t, k, "udp6", "::1", "::1") })
	t.Run("refused", func(t *testing.T) { testPacketRefused(t, k) })
	t.Run("unixgram-dial", func(t *testing.T) { testUnixgram(t, k, "/knetdg/dsrv", "/knetdg/dcli") })
	t.Run("concurrent-readers", func(t *testing.T) { testPacketConcurrentReaders(t, k, "udp", "127.0.0.1:0") })
}

// TestRumpShmifUDP passes UDP between the two kernels over the bus, both
// ways and routed, with datagrams up to the largest (fragmented at the
// bus's 1500-byte MTU). The first datagrams may wait for ARP, which holds
// only one packet: each exchange retransmits until answered, as UDP
// clients do, from a socket of its own so that no late echo of an
// earlier exchange is taken for an answer.
func TestRumpShmifUDP(t *testing.T) {
	local, remote := twoKernels(t)
	for _, c := range []struct {
		name             string
		server, client   *api.Kernel
		serverIP, dialIP string
	}{
		{"local-to-remote", remote, local, remoteAddr.Addr().String(), remoteAddr.Addr().String()},
		{"remote-to-local", local, remote, localAddr.Addr().String(), localAddr.Addr().String()},
		// Bound to the far address itself: a server on the wildcard would
		// answer from the bus address (the outgoing interface's), as
		// any kernel's UDP does.
		{"routed", remote, local, farAddr.Addr().String(), farAddr.Addr().String()},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := listenPacket(t, c.server, "udp", c.serverIP+":0")
			go echoPackets(srv)
			port := srv.LocalAddr().(*net.UDPAddr).Port
			to := &net.UDPAddr{IP: net.ParseIP(c.dialIP), Port: port}
			buf := make([]byte, 70000)
			for _, size := range []int{0, 1, 1400, 1472, 1473, 4000, 9000, 30000, maxUDP(c.dialIP)} {
				msg := make([]byte, size)
				rand.Read(msg)
				if err := exchange(t, c.client, to, msg, buf); err != nil {
					t.Fatalf("%d bytes: %v", size, err)
				}
			}
			// A connected client too.
			cn, err := Dial(c.client, "udp", to.String())
			if err != nil {
				t.Fatal(err)
			}
			defer cn.Close()
			var got string
			for try := 0; try < 20 && got == ""; try++ {
				cn.Write([]byte("connected over shmif"))
				cn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
				if n, err := cn.Read(buf); err == nil {
					got = string(buf[:n])
				} else if !isTimeout(err) {
					t.Fatal(err)
				}
			}
			if got != "connected over shmif" {
				t.Fatalf("connected echo: %q", got)
			}
		})
	}
}

// exchange sends msg to the echo server at to from a fresh socket in k
// until the echo comes back, and checks it.
func exchange(t *testing.T, k *api.Kernel, to *net.UDPAddr, msg, buf []byte) error {
	cli := listenPacket(t, k, "udp", ":0")
	defer cli.Close()
	for try := 0; try < 20; try++ {
		if _, err := cli.WriteTo(msg, to); err != nil {
			return err
		}
		cli.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		n, from, err := cli.ReadFrom(buf)
		if isTimeout(err) {
			continue
		}
		if err != nil {
			return err
		}
		if from.String() != to.String() {
			return fmt.Errorf("echo from %v, want %v", from, to)
		}
		if n != len(msg) || !bytes.Equal(buf[:n], msg) {
			return fmt.Errorf("echo of %d bytes: %d bytes, same bytes %v", len(msg), n, bytes.Equal(buf[:n], msg))
		}
		return nil
	}
	return errors.New("no echo after 20 tries")
}
