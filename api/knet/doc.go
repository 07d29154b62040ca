// Package knet puts Go's net interfaces on top of any api.Kernel's
// sockets: Listen returns a net.Listener, ListenPacket a net.PacketConn
// and Dial a net.Conn whose bytes
// travel through that kernel's network stack, so net/http, net/rpc,
// crypto/tls and the rest of the ecosystem run unchanged on the host
// kernel (the native backend), on a NetBSD rump kernel's TCP/IP stack
// (backend/rump, local or remote), or on any other backend.
//
//	l, err := knet.Listen(k, "tcp", "10.0.0.1:80")
//	go http.Serve(l, handler)
//	client := &http.Client{Transport: &http.Transport{
//		DialContext: (&knet.Dialer{Kernel: k2}).DialContext,
//	}}
//
// Sockets are nonblocking, and an operation that would block parks its
// goroutine until the socket is ready. On the host kernel (a backend
// whose descriptors are the process's own, api.HostBackend) Go's runtime
// netpoller does the waiting, as for package net: each socket has a
// duplicate descriptor in an *os.File, costing one more descriptor per
// socket, and a Conn is then as fast as a net.Conn and allocates nothing.
// Go's netpoller watches only the host's descriptors, so on other kernels
// knet brings its own: one poller goroutine per Kernel waits in that
// kernel's poll(2) for every parked descriptor, woken through a pipe in
// the same kernel when the set changes, and ends a second after its last
// waiter. Either way, a deadline change or a Close reaches a parked
// operation at once, as net.Conn requires (errors then match
// os.ErrDeadlineExceeded and net.ErrClosed).
//
// Datagrams: ListenPacket returns a net.PacketConn (a *PacketConn, with
// net.UDPConn's netip methods, which do not allocate) for "udp", "udp4",
// "udp6" and "unixgram", and Dial on those networks a connected datagram
// socket as a *Conn. Either way datagram boundaries are kept: each write
// sends one datagram, whole or not at all; each read takes one, truncated
// to the buffer without an error when it is longer, as in package net; an
// empty datagram reads as 0 bytes, not io.EOF. A Unix datagram client
// must be bound (Dialer.LocalAddr) to be answered: as in package net, an
// unbound one sends from no address. The kernel's socket buffers bound a
// datagram's size (NetBSD's defaults are small): see ListenPacket.
//
//	pc, err := knet.ListenPacket(k, "udp", "10.0.0.1:53")
//	n, from, err := pc.ReadFrom(buf)
//	pc.WriteTo(reply, from)
//
// Addresses are numeric ("10.0.0.1:80", "[fd00::1]:80"), or "localhost":
// a kernel other than the host's has no resolver, so names are not looked
// up. Networks are "tcp", "tcp4", "tcp6" and "unix" for streams (Listen,
// Dial), "udp", "udp4", "udp6" and "unixgram" for datagrams (ListenPacket,
// Dial).
package knet
