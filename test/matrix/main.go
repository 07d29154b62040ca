// Command matrix runs the conformance suite against every backend available
// and prints the support matrix: one row per api call, one column per
// backend, each cell ok, ENOSYS, FAIL or skipped (with the reason under -v).
// The last line sums up each backend; the exit status is 1 if any cell
// failed.
//
//	go run ./test/matrix              # every backend this build has
//	go run ./test/matrix -backend native -family files -v
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

func main() {
	backend := flag.String("backend", "", "run only this backend (comma-separated list)")
	family := flag.String("family", "", "run only these families (comma-separated list)")
	verbose := flag.Bool("v", false, "print failure and skip reasons under the matrix")
	all := flag.Bool("all", false, "run every registered backend, reporting unavailable ones")
	flag.Parse()
	os.Exit(run(*backend, *family, *verbose, *all))
}

func run(backendList, familyList string, verbose, all bool) int {
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
	type column struct {
		tg    *conformance.Target
		cells map[string]cell
		err   error
	}
	var cols []*column
	for _, tg := range conformance.Targets() {
		if !want(backendList, tg.Name) {
			continue
		}
		cols = append(cols, &column{tg: tg, cells: map[string]cell{}})
	}
	if len(cols) == 0 {
		fmt.Fprintf(os.Stderr, "matrix: no backend named %q in this build\n", backendList)
		return 2
	}
	type row struct{ family, call string }
	var rows []row
	seen := map[string]bool{}
	cases := conformance.Cases()
	for _, col := range cols {
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
			if !seen[key] {
				seen[key] = true
				rows = append(rows, row{c.Family, c.Call})
			}
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].family != rows[j].family {
			return rows[i].family < rows[j].family
		}
		return rows[i].call < rows[j].call
	})

	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprint(w, "family\tcall")
	for _, col := range cols {
		fmt.Fprintf(w, "\t%s", col.tg.Name)
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

	if verbose {
		for _, col := range cols {
			for _, r := range rows {
				c := col.cells[r.family+"/"+r.call]
				if c.status != conformance.Pass && c.msg != "" {
					fmt.Printf("%s %s/%s %s: %s\n", col.tg.Name, r.family, r.call, c.status, c.msg)
				}
			}
		}
	}

	failed := false
	var sums []string
	for _, col := range cols {
		if col.err != nil {
			fmt.Printf("%s unavailable: %v\n", col.tg.Name, col.err)
			if all {
				sums = append(sums, col.tg.Name+" unavailable")
			}
			continue
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
		s := fmt.Sprintf("%s %d ok, %d fail", col.tg.Name, ok, fail)
		if nosys > 0 || skip > 0 {
			s += fmt.Sprintf(" (%d ENOSYS, %d skipped)", nosys, skip)
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
