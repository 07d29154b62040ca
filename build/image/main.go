// Command image builds a unikernel image: a static linux/amd64 Go program
// wrapped by the boot shim into one PVH ELF that boots as a Xen PVH domU
// (xl create, type="pvh") and under qemu -kernel.
//
//	go run ./build/image -o app.elf ./path/to/main
//	go run ./build/image -o app.elf -bin prebuilt
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/anykernel/anykernel/build/image/pvh"
)

func main() {
	out := flag.String("o", "app.elf", "output image")
	bin := flag.String("bin", "", "wrap this prebuilt static linux/amd64 binary instead of building a package")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: image [-o app.elf] package | -bin binary\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := run(*out, *bin, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(out, bin string, args []string) error {
	switch {
	case bin != "" && len(args) == 0:
		img, err := pvh.BuildFile(bin)
		if err != nil {
			return err
		}
		return os.WriteFile(out, img, 0o644)
	case bin == "" && len(args) == 1:
		return pvh.BuildPackage("", args[0], out)
	}
	flag.Usage()
	return fmt.Errorf("give one package path or -bin binary")
}
