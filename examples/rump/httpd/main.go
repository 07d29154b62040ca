//go:build rump && cgo

// Command httpd serves HTTP from a rump kernel's TCP/IP stack: net/http's
// server on a knet listener (api/knet) bound in the NetBSD kernel, and
// net/http's client dialing through the same kernel, over its lo0, or,
// with -shmif, over a shmif interface on a bus file that other rump
// kernels (rump_server processes, other programs) can join. The page
// shows the kernel's own /kern/version.
//
//	RUMP_PREFIX=/opt/rump go run -tags rump ./examples/rump/httpd [-n 3] [-serve]
//
// -serve keeps serving until interrupted (reach it from another rump
// kernel on the -shmif bus).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/knet"
	"github.com/anykernel/anykernel/backend/rump"
)

func main() {
	n := flag.Int("n", 3, "requests the built-in client makes")
	serve := flag.Bool("serve", false, "keep serving after the client's requests, until interrupted")
	bus := flag.String("shmif", "", "serve on shmif0 on this bus file (with -addr) instead of lo0")
	addr := flag.String("addr", "10.99.0.1/24", "shmif0's address, with -shmif")
	port := flag.Int("port", 8080, "TCP port")
	flag.Parse()
	if err := run(*n, *serve, *bus, *addr, *port); err != nil {
		fmt.Fprintln(os.Stderr, "httpd:", err)
		os.Exit(1)
	}
}

func run(n int, serve bool, bus, addr string, port int) error {
	k, err := rump.New(rump.Options{Components: []string{
		"vfs", "fs.kernfs", "net", "net.net", "net.netinet", "net.shmif",
	}})
	if err != nil {
		return err
	}
	version := "?"
	if err := k.Mkdir("/kern", 0o755); err == nil && rump.MountKernfs(k, "/kern", 0) == nil {
		if f, err := k.Open("/kern/version", api.O_RDONLY, 0); err == nil {
			b, _ := io.ReadAll(f)
			f.Close()
			version = strings.TrimSpace(string(b))
		}
	}
	if err := rump.LoopbackUp(k); err != nil {
		return err
	}
	ip := "127.0.0.1"
	if bus != "" {
		p, err := netip.ParsePrefix(addr)
		if err != nil {
			return err
		}
		if err := rump.ShmifUp(k, "shmif0", bus, p); err != nil {
			return err
		}
		ip = p.Addr().String()
		fmt.Printf("shmif0 is up on bus %s with %v\n", bus, p)
	} else {
		fmt.Println("lo0 is up with 127.0.0.1/8")
	}
	l, err := knet.Listen(k, "tcp", fmt.Sprintf("%s:%d", ip, port))
	if err != nil {
		return err
	}
	fmt.Printf("listening on %v in the rump kernel's TCP/IP stack\n", l.Addr())
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "Hello %s, from net/http on %s\n", r.RemoteAddr, version)
		}),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{DialContext: (&knet.Dialer{Kernel: k}).DialContext},
	}
	for i := 0; i < n; i++ {
		resp, err := client.Get(fmt.Sprintf("http://%s:%d/req%d", ip, port, i))
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		fmt.Printf("GET /req%d through the same kernel: %s %s", i, resp.Status, body)
	}
	if serve {
		fmt.Println("serving; interrupt to stop")
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		<-ctx.Done()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Println("server shut down")
	return nil
}
