//go:build rump && cgo

package knet

import (
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
	udpRoundTrip(b, a, c)
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
