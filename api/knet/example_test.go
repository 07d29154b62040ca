package knet_test

import (
	"fmt"
	"log"

	"github.com/anykernel/anykernel/api/knet"
	"github.com/anykernel/anykernel/backend/native"
)

// A UDP echo through a kernel's network stack: here the host's; with a
// rump kernel's Kernel the datagrams travel through NetBSD's.
func ExampleListenPacket() {
	k, err := native.New()
	if err != nil {
		log.Fatal(err)
	}
	srv, err := knet.ListenPacket(k, "udp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := srv.ReadFrom(buf)
			if err != nil {
				return // closed
			}
			srv.WriteTo(buf[:n], from)
		}
	}()

	c, err := knet.Dial(k, "udp", srv.LocalAddr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("ping"))
	buf := make([]byte, 1500)
	n, err := c.Read(buf)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", buf[:n])
	// Output: ping
}
