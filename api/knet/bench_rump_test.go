//go:build rump && cgo

package knet

import (
	"net"
	"testing"

	"github.com/anykernel/anykernel/backend/rump"
)

// The benchmarks of bench_test.go in a rump kernel's NetBSD stack, on lo0:
// knet's own poller, as on every kernel but the host's.
//
//	RUMP_PREFIX=/opt/rump go test -tags rump -run '^$' -bench Rump -benchmem ./api/knet

func BenchmarkRumpUDPRoundTrip(b *testing.B) {
	k := rumpKernel(b)
	if err := rump.LoopbackUp(k); err != nil {
		b.Fatal(err)
	}
	a := listenPacket(b, k, "udp", "127.0.0.1:0")
	c := listenPacket(b, k, "udp", "127.0.0.1:0")
	dst := c.LocalAddr().(*net.UDPAddr).AddrPort()
	msg, buf := make([]byte, 64), make([]byte, 1500)
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

func BenchmarkRumpTCPPingPong(b *testing.B) {
	k := rumpKernel(b)
	if err := rump.LoopbackUp(k); err != nil {
		b.Fatal(err)
	}
	c, s := pair(b, k)
	pingPong(b, c, s)
}

// TestRumpPingPongAllocs: knet's poller allocates nothing in a rump
// kernel either, once a Conn's waiters exist.
func TestRumpPingPongAllocs(t *testing.T) {
	k := rumpKernel(t)
	if err := rump.LoopbackUp(k); err != nil {
		t.Fatal(err)
	}
	c, s := pair(t, k)
	testPingPongAllocs(t, c, s)
}
