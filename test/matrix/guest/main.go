// Command guest runs the conformance suite inside a unikernel image,
// against the library OS (backend/xen), and prints one line per case on
// the console for the matrix runner to read (test/matrix -backend
// xen-qemu or xen). It must be built with -tags xen (without it, it says
// so and exits with status 2); the matrix builds and wraps it with
// pvh.BuildPackage(..., "-tags", "xen"), and by hand:
//
//	CGO_ENABLED=0 go build -tags xen -o guest ./test/matrix/guest
//	go run ./build/image -o guest.elf -bin guest
//	go run ./build/xenrun -qemu -mem 256 guest.elf -- -family files
//
// The lines go out through the library OS's own standard output (its
// descriptor 1, the console), not the Go runtime's, so the console path of
// the backend is part of what the run shows. Output: "MATRIX-BEGIN n",
// then per case
// "MATRIX\t<family>\t<call>\t<status>\t<milliseconds>\t<quoted message>",
// then "MATRIX-END ok fail nosys skipped"; the exit status is 1 if a case
// failed. Arguments: -family list, -call list (comma-separated), both
// optional.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/test/conformance"
)

// msgMax bounds a reported message: the console is slow under nested
// virtualisation.
const msgMax = 400

func main() {
	family := flag.String("family", "", "run only these families (comma-separated)")
	call := flag.String("call", "", "run only these calls (comma-separated)")
	timeout := flag.Duration("timeout", 30*time.Second, "time limit of one case")
	flag.Parse()
	os.Exit(run(*family, *call, *timeout))
}

func want(list, s string) bool {
	if list == "" {
		return true
	}
	for _, w := range strings.Split(list, ",") {
		if strings.TrimSpace(w) == s {
			return true
		}
	}
	return false
}

func run(family, call string, timeout time.Duration) int {
	var tg *conformance.Target
	for _, t := range conformance.Targets() {
		if t.Name == "xen" {
			tg = t
		}
	}
	if tg == nil {
		fmt.Println("MATRIX-ERROR the xen target is not in this build: build with -tags xen")
		return 2
	}
	k, err := tg.Open()
	if err != nil {
		fmt.Printf("MATRIX-ERROR %s\n", strconv.Quote(err.Error()))
		return 2
	}
	out, err := stdout(k)
	if err != nil {
		fmt.Printf("MATRIX-ERROR %s\n", strconv.Quote(err.Error()))
		return 2
	}
	conformance.Timeout = timeout
	var cases []conformance.Case
	for _, c := range conformance.Cases() {
		if want(family, c.Family) && want(call, c.Call) {
			cases = append(cases, c)
		}
	}
	fmt.Fprintf(out, "MATRIX-BEGIN %d\n", len(cases))
	var counts [4]int
	for _, c := range cases {
		res := conformance.RunCase(c, tg, k)
		counts[res.Status]++
		msg := res.Message
		if len(msg) > msgMax {
			msg = msg[:msgMax] + "..."
		}
		fmt.Fprintf(out, "MATRIX\t%s\t%s\t%s\t%d\t%s\n", c.Family, c.Call, res.Status,
			res.Elapsed.Milliseconds(), strconv.Quote(msg))
	}
	fmt.Fprintf(out, "MATRIX-END %d %d %d %d\n", counts[conformance.Pass], counts[conformance.Fail],
		counts[conformance.NoSysStatus], counts[conformance.Skip])
	if counts[conformance.Fail] > 0 {
		return 1
	}
	return 0
}

// stdout is the library OS's descriptor 1, the console, which the program
// keeps for its whole life.
func stdout(k *api.Kernel) (io.Writer, error) {
	f, err := k.NewFd(1)
	if err != nil {
		return nil, err
	}
	return f.NoGC(), nil
}
