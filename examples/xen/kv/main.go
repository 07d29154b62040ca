// Command kv shows a unikernel talking to xenstore from Go: booted as a
// Xen PVH domain (see build/image and build/xenrun), it reads its own
// domain's "name" and "domid" keys, writes a key under its "data"
// directory (the one part of its home a guest may write), reads it back
// and prints all of it.
//
//	go run ./build/image -o kv.elf ./examples/xen/kv
//	go run ./build/xenrun kv.elf [key=value ...]
//
// Each key=value argument is written as data/<key>; without any, kv
// writes data/kv-example. On plain QEMU, or as an ordinary process, there
// is no Xen: kv says so and exits with status 69 (EX_UNAVAILABLE), which
// tells that case apart from a failure (status 1).
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/anykernel/anykernel/hypercall"
)

// exitNoXen is the status for "no Xen here" (sysexits.h EX_UNAVAILABLE).
const exitNoXen = 69

func main() {
	x, err := hypercall.Open()
	if err != nil {
		fmt.Printf("kv: no Xen here, so no xenstore to read: %v\n", err)
		os.Exit(exitNoXen)
	}
	if err := run(x, os.Args[1:]); err != nil {
		fmt.Printf("kv: %v\n", err)
		os.Exit(1)
	}
}

func run(x *hypercall.Xen, args []string) error {
	xs, err := x.Xenstore()
	if err != nil {
		return err
	}
	name, err := xs.Name()
	if err != nil {
		return err
	}
	domid, err := xs.DomainID()
	if err != nil {
		return err
	}
	home, err := xs.DomainPath(domid)
	if err != nil {
		return err
	}
	major, minor, extra := x.Version()
	fmt.Printf("kv: Xen %d.%d%s, domain %d, home %s\n", major, minor, extra, domid, home)
	if id := x.Identity(); id.HasDomID && id.DomID != domid {
		return fmt.Errorf("xenstore says domain %d, CPUID says %d", domid, id.DomID)
	}
	fmt.Printf("name = %s\n", name)
	fmt.Printf("domid = %d\n", domid)

	if len(args) == 0 {
		args = []string{"kv-example=hello from " + name}
	}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return fmt.Errorf("argument %q: want key=value", a)
		}
		key := "data/" + k
		if err := xs.Write(key, v); err != nil {
			return err
		}
		got, err := xs.Read(key)
		if err != nil {
			return err
		}
		if got != v {
			return fmt.Errorf("%s: wrote %q, read back %q", key, v, got)
		}
		fmt.Printf("%s = %q (written and read back)\n", key, got)
	}
	keys, err := xs.Directory("data")
	if err != nil {
		return err
	}
	fmt.Printf("data/ holds %s\n", strings.Join(keys, " "))
	return nil
}
