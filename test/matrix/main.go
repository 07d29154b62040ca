// Command matrix runs the conformance suite against every backend available
// and prints the support matrix: one row per api call, one column per
// backend, each cell ok, ENOSYS, FAIL or skipped (with the reason under -v).
// The last line sums up each backend; the exit status is 1 if any cell
// failed.
//
//	go run ./test/matrix              # every in-process backend this build has (native; rump with -tags rump)
//	go run ./test/matrix -backend native -family files -v
//	go run ./test/matrix -backend xen-qemu   # the suite inside a unikernel image under QEMU microvm
//	go run ./test/matrix -backend xen        # the same image as a Xen PVH domU (Xen under QEMU)
//	go run ./test/matrix -all                # every backend, xen-qemu and xen included
//
// The xen-qemu and xen columns build an image of the suite (test/matrix/
// guest with -tags xen) and boot it, which takes QEMU (and for xen, Xen and
// a dom0 kernel): they run only when named with -backend or with -all,
// never by default. A build with -tags xen also has the library OS in
// process, as the column xen-hosted.
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/anykernel/anykernel/test/conformance"
)

type cell struct {
	status conformance.Status
	msg    string
}

type row struct{ family, call string }

// column is one backend: in process (tg) or inside an image (img).
type column struct {
	name   string
	tg     *conformance.Target
	img    *imageBackend
	cells  map[string]cell
	rows   []row // image columns: the rows the guest reported
	err    error // the backend is not available here
	broken error // an image's guest crashed or hung
	note   string
}

func main() {
	backend := flag.String("backend", "", "run only these backends (comma-separated): native, rump, xen-hosted, xen-qemu, xen")
	family := flag.String("family", "", "run only these families (comma-separated list)")
	verbose := flag.Bool("v", false, "print failure and skip reasons under the matrix (and, for image columns, the firmware, Xen and dom0 output on stderr)")
	all := flag.Bool("all", false, "run every backend, the image columns xen-qemu and xen included, reporting unavailable ones")
	markdown := flag.Bool("markdown", false, "print, instead of one row per call, the Markdown table of calls ok per family that README.md shows")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: matrix [-backend list] [-family list] [-all] [-v]\n\n"+
			"By default the in-process backends of this build run (native; rump with -tags rump).\n"+
			"The image columns xen-qemu (QEMU microvm) and xen (a Xen PVH domU) boot the suite\n"+
			"in a unikernel image; they need QEMU and Xen and take longer, so they run only\n"+
			"with -backend xen-qemu, -backend xen or -all.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	code := run(*backend, *family, *verbose, *all, *markdown)
	removeGuest()
	os.Exit(code)
}

// columnName is a target's column: the in-process library OS is
// xen-hosted, so that "xen" names the real Xen column.
func columnName(tg *conformance.Target) string {
	if tg.Name == "xen" {
		return "xen-hosted"
	}
	return tg.Name
}

func run(backendList, familyList string, verbose, all, markdown bool) int {
	want := func(list, s string) bool {
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
	var cols []*column
	for _, tg := range conformance.Targets() {
		if !want(backendList, columnName(tg)) {
			continue
		}
		cols = append(cols, &column{name: columnName(tg), tg: tg, cells: map[string]cell{}})
	}
	for _, ib := range imageBackends {
		if all || backendList != "" && want(backendList, ib.name) {
			cols = append(cols, &column{name: ib.name, img: ib, cells: map[string]cell{}})
		}
	}
	if len(cols) == 0 {
		fmt.Fprintf(os.Stderr, "matrix: no backend named %q in this build\n", backendList)
		return 2
	}
	var rows []row
	seen := map[string]bool{}
	addRow := func(r row) {
		if key := r.family + "/" + r.call; !seen[key] {
			seen[key] = true
			rows = append(rows, r)
		}
	}
	cases := conformance.Cases()
	for _, col := range cols {
		if col.img != nil {
			col.err = runImage(col, col.img, familyList, verbose)
			for _, r := range col.rows {
				addRow(r)
			}
			continue
		}
		k, err := col.tg.Open()
		if err != nil {
			col.err = err
			continue
		}
		for _, c := range cases {
			if !want(familyList, c.Family) {
				continue
			}
			res := conformance.RunCase(c, col.tg, k)
			key := c.Family + "/" + c.Call
			nc := cell{res.Status, res.Message}
			if old, ok := col.cells[key]; ok {
				nc = merge(old, nc)
			}
			col.cells[key] = nc
			addRow(row{c.Family, c.Call})
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].family != rows[j].family {
			return rows[i].family < rows[j].family
		}
		return rows[i].call < rows[j].call
	})

	if markdown {
		printMarkdown(cols, rows)
	} else {
		printTable(cols, rows)
	}

	// Reasons: with -v for every cell that did not pass, and always for a
	// failure, so that a CI log says why.
	for _, col := range cols {
		for _, r := range rows {
			c := col.cells[r.family+"/"+r.call]
			if c.msg != "" && (c.status == conformance.Fail || verbose && c.status != conformance.Pass) {
				fmt.Printf("%s %s/%s %s: %s\n", col.name, r.family, r.call, c.status, c.msg)
			}
		}
	}

	failed := false
	var sums []string
	for _, col := range cols {
		if col.err != nil {
			fmt.Printf("%s unavailable: %v\n", col.name, col.err)
			if all {
				sums = append(sums, col.name+" unavailable")
			}
			continue
		}
		if col.note != "" {
			fmt.Println(col.note)
		}
		var ok, fail, nosys, skip int
		for _, c := range col.cells {
			switch c.status {
			case conformance.Pass:
				ok++
			case conformance.Fail:
				fail++
			case conformance.NoSysStatus:
				nosys++
			default:
				skip++
			}
		}
		if fail > 0 {
			failed = true
		}
		s := fmt.Sprintf("%s %d ok, %d fail", col.name, ok, fail)
		if nosys > 0 || skip > 0 {
			s += fmt.Sprintf(" (%d ENOSYS, %d skipped)", nosys, skip)
		}
		if col.broken != nil {
			failed = true
			fmt.Printf("%s FAILED: %v\n", col.name, col.broken)
			s += ", guest failed"
		}
		sums = append(sums, s)
	}
	fmt.Printf("matrix: %s\n", strings.Join(sums, "; "))
	if failed {
		return 1
	}
	return 0
}

// merge combines the cases that share a row: any failure fails the row; a
// pass beats a skip.
func merge(old, new cell) cell {
	switch {
	case old.status == conformance.Fail:
		return old
	case new.status == conformance.Fail, new.status == conformance.Pass:
		return new
	}
	return old
}

// printTable prints one row per call and one column per backend.
func printTable(cols []*column, rows []row) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprint(w, "family\tcall")
	for _, col := range cols {
		fmt.Fprintf(w, "\t%s", col.name)
	}
	fmt.Fprintln(w)
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%s", r.family, r.call)
		for _, col := range cols {
			switch c, ok := col.cells[r.family+"/"+r.call]; {
			case col.err != nil:
				fmt.Fprint(w, "\tunavailable")
			case !ok:
				fmt.Fprint(w, "\t-")
			default:
				fmt.Fprintf(w, "\t%s", c.status)
			}
		}
		fmt.Fprintln(w)
	}
	w.Flush()
}

// printMarkdown prints, per family, how many calls the suite has and how
// many pass on each backend: the table README.md shows.
func printMarkdown(cols []*column, rows []row) {
	fmt.Print("| family | calls |")
	for _, col := range cols {
		fmt.Printf(" %s |", col.name)
	}
	fmt.Print("\n| --- | ---: |")
	for range cols {
		fmt.Print(" ---: |")
	}
	fmt.Println()
	total := make([]int, len(cols))
	line := func(family string, calls int, ok []int, bold bool) {
		fmt.Printf("| %s | %d |", family, calls)
		for i, col := range cols {
			switch {
			case col.err != nil:
				fmt.Print(" unavailable |")
			case bold:
				fmt.Printf(" **%d** |", ok[i])
			default:
				fmt.Printf(" %d |", ok[i])
			}
		}
		fmt.Println()
	}
	for start := 0; start < len(rows); {
		end := start
		for end < len(rows) && rows[end].family == rows[start].family {
			end++
		}
		ok := make([]int, len(cols))
		for i, col := range cols {
			for _, r := range rows[start:end] {
				if col.cells[r.family+"/"+r.call].status == conformance.Pass {
					ok[i]++
				}
			}
			total[i] += ok[i]
		}
		line(rows[start].family, end-start, ok, false)
		start = end
	}
	line("**all**", len(rows), total, true)
}
