package knet

import (
	"io"
	"net"
	"net/netip"
	"testing"
)

// Benchmarks against Go's net package on the same host kernel, in the
// same run: what a program pays for routing its sockets through an
// api.Kernel (and knet's own poller) instead of Go's netpoller.
//
//	go test -run '^$' -bench . -benchmem ./api/knet

// BenchmarkUDPRoundTrip sends a 64-byte datagram over loopback and reads
// it back on the other socket. The datagram is there when read, so
// neither poller is involved: this is the cost of the calls.
func BenchmarkUDPRoundTrip(b *testing.B) {
	b.Run("knet", func(b *testing.B) {
		k := host(b)
		a := listenPacket(b, k, "udp", "127.0.0.1:0")
		c := listenPacket(b, k, "udp", "127.0.0.1:0")
		udpRoundTrip(b, a, c)
	})
	b.Run("net", func(b *testing.B) {
		a, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			b.Fatal(err)
		}
		defer a.Close()
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		udpRoundTrip(b, a, c)
	})
}

// udpSocket is what knet's PacketConn and net's UDPConn share.
type udpSocket interface {
	LocalAddr() net.Addr
	WriteToUDPAddrPort([]byte, netip.AddrPort) (int, error)
	ReadFromUDPAddrPort([]byte) (int, netip.AddrPort, error)
}

// udpRoundTrip sends 64 bytes from a to c and reads them, b.N times.
func udpRoundTrip(b *testing.B, a, c udpSocket) {
	msg, buf := make([]byte, 64), make([]byte, 1500)
	dst := c.LocalAddr().(*net.UDPAddr).AddrPort()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.WriteToUDPAddrPort(msg, dst); err != nil {
			b.Fatal(err)
		}
		if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTCPPingPong bounces 64 bytes over a loopback TCP connection
// through an echoing goroutine: each round trip parks a reader on both
// ends, so it measures the poller (knet's poll(2) loop against Go's
// epoll netpoller) as well as the calls.
func BenchmarkTCPPingPong(b *testing.B) {
	b.Run("knet", func(b *testing.B) {
		c, s := pair(b, host(b))
		pingPong(b, c, s)
	})
	b.Run("knet-poller", func(b *testing.B) {
		// knet's own poller, as on a kernel other than the host's.
		knetPoller(b)
		c, s := pair(b, host(b))
		pingPong(b, c, s)
	})
	b.Run("net", func(b *testing.B) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		ch := make(chan net.Conn, 1)
		go func() {
			s, _ := l.Accept()
			ch <- s
		}()
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		s := <-ch
		if s == nil {
			b.Fatal("accept failed")
		}
		defer s.Close()
		pingPong(b, c, s)
	})
}

// knetPoller makes the sockets of the rest of the test or benchmark wait
// in knet's poller instead of Go's netpoller, on the host kernel too.
func knetPoller(t testing.TB) {
	noHostPath.Store(true)
	t.Cleanup(func() { noHostPath.Store(false) })
}

func pingPong(b *testing.B, c, s net.Conn) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(s, s)
	}()
	msg, buf := make([]byte, 64), make([]byte, 64)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			b.Fatal(err)
		}
	}
	c.Close()
	<-done
}
