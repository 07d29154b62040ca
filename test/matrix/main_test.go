package main

import (
	"os"
	"strings"
	"testing"

	"github.com/anykernel/anykernel/test/conformance"
)

func TestParseGuest(t *testing.T) {
	console := strings.Join([]string{
		"hello from the shim",
		"MATRIX-BEGIN 4",
		"MATRIX\tfiles\topenat\tok\t3\t\"\"",
		"MATRIX\tfiles\tfcntl\tok\t1\t\"\"",
		"MATRIX\tfiles\tfcntl\tFAIL\t2\t\"lock: got EAGAIN\\twant nil\"",
		"MATRIX\tsockets\tsocket\tENOSYS\t0\t\"ENOSYS: socket: function not implemented\"",
		"MATRIX-END 2 1 1 0",
		"anykernel: exit status 1",
	}, "\r\n")
	g, err := parseGuest(console)
	if err != nil {
		t.Fatal(err)
	}
	if !g.ended || len(g.rows) != 3 {
		t.Fatalf("ended %v, rows %v", g.ended, g.rows)
	}
	if c := g.cells["files/fcntl"]; c.status != conformance.Fail || c.msg != "lock: got EAGAIN\twant nil" {
		t.Errorf("merged row: %+v", c)
	}
	if c := g.cells["sockets/socket"]; c.status != conformance.NoSysStatus {
		t.Errorf("ENOSYS row: %+v", c)
	}
	// A guest that died half way: no MATRIX-END.
	g, err = parseGuest("MATRIX-BEGIN 2\nMATRIX\tfiles\tread\tok\t1\t\"\"\nanykernel: fault: vector 14\n")
	if err != nil || g.ended || len(g.rows) != 1 {
		t.Errorf("truncated run: %v %v %v", err, g.ended, g.rows)
	}
	if _, err := parseGuest("MATRIX-ERROR \"no xen target\"\n"); err == nil {
		t.Error("MATRIX-ERROR not reported")
	}
	if _, err := parseGuest("MATRIX\tfiles\tread\tmaybe\t1\t\"\"\n"); err == nil {
		t.Error("unknown status accepted")
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	removeGuest()
	os.Exit(code)
}

// testImage boots the suite's image and checks the bar: no FAIL
// anywhere, and the file, directory, pipe, poll and time cases (families
// files, ready and time) all ok.
func testImage(t *testing.T, ib *imageBackend) {
	if err := ib.missing(); err != nil {
		t.Skip(err)
	}
	col := &column{name: ib.name, img: ib, cells: map[string]cell{}}
	if err := runImage(col, ib, "", false); err != nil {
		t.Fatal(err)
	}
	t.Log(col.note)
	if col.broken != nil {
		t.Fatal(col.broken)
	}
	if len(col.rows) != len(rowsOf(conformance.Cases())) {
		t.Errorf("the guest reported %d rows, the suite has %d", len(col.rows), len(rowsOf(conformance.Cases())))
	}
	for _, r := range col.rows {
		c := col.cells[r.family+"/"+r.call]
		switch {
		case c.status == conformance.Fail:
			t.Errorf("%s/%s: FAIL: %s", r.family, r.call, c.msg)
		case c.status != conformance.Pass && (r.family == "files" || r.family == "ready" || r.family == "time"):
			t.Errorf("%s/%s: %v, want ok: %s", r.family, r.call, c.status, c.msg)
		}
	}
}

func rowsOf(cases []conformance.Case) map[string]bool {
	rows := map[string]bool{}
	for _, c := range cases {
		rows[c.Family+"/"+c.Call] = true
	}
	return rows
}

func TestImageQEMU(t *testing.T) { testImage(t, imageBackends[0]) }

func TestImageXen(t *testing.T) {
	if testing.Short() {
		t.Skip("Xen under QEMU takes ~20s: skipped with -short")
	}
	testImage(t, imageBackends[1])
}
