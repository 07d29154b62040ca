package runner

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestParseStatus(t *testing.T) {
	for _, c := range []struct {
		console string
		outcome Outcome
		status  int
		ok      bool
	}{
		{"hello\nanykernel: exit status 0\n", Exited, 0, true},
		{"anykernel: exit status 3", Exited, 3, true},
		{"x\nanykernel: fault: ...\nanykernel: crash status 2\n", Crashed, 2, true},
		// The last line counts: a program may print the phrase itself.
		{"anykernel: exit status 9\nanykernel: exit status 1\n", Exited, 1, true},
		{"hello\n", NoStatus, 0, false},
		{"", NoStatus, 0, false},
	} {
		o, s, ok := parseStatus(c.console)
		if o != c.outcome || s != c.status || ok != c.ok {
			t.Errorf("parseStatus(%q) = %v %d %v, want %v %d %v", c.console, o, s, ok, c.outcome, c.status, c.ok)
		}
	}
}

func TestExitCode(t *testing.T) {
	for _, c := range []struct {
		r    Result
		code int
		err  bool
	}{
		{Result{Outcome: Exited}, 0, false},
		{Result{Outcome: Exited, Status: 7}, 7, true},
		{Result{Outcome: Crashed, Status: 2}, 125, true},
		{Result{Outcome: Hung}, 124, true},
		{Result{Outcome: NoStatus}, 126, true},
	} {
		if got := c.r.ExitCode(); got != c.code {
			t.Errorf("%v: exit code %d, want %d", c.r.Outcome, got, c.code)
		}
		if (c.r.Err() != nil) != c.err {
			t.Errorf("%v status %d: Err() = %v", c.r.Outcome, c.r.Status, c.r.Err())
		}
	}
}

func TestCmdline(t *testing.T) {
	got := cmdline([]string{"shim.stats", "A=b c", "--", "x", "two words"})
	want := `shim.stats "A=b c" -- x "two words"`
	if got != want {
		t.Errorf("cmdline = %q, want %q", got, want)
	}
	if q := xlQuote(`a "b" \c`); q != `"a \"b\" \\c"` {
		t.Errorf("xlQuote = %s", q)
	}
}

func TestCpio(t *testing.T) {
	c := newCpio()
	c.dir("d")
	c.file("d/f", []byte("hello"))
	c.symlink("d/l", "f")
	c.trailer()
	b := c.bytes()
	if len(b)%4 != 0 {
		t.Errorf("archive length %d not a multiple of 4", len(b))
	}
	for _, name := range []string{"d\x00", "d/f\x00", "d/l\x00", "TRAILER!!!\x00", "hello"} {
		if !bytes.Contains(b, []byte(name)) {
			t.Errorf("archive lacks %q", name)
		}
	}
	if n := strings.Count(string(b), "070701"); n != 4 {
		t.Errorf("%d newc headers, want 4", n)
	}
}

func TestOptionsDefaults(t *testing.T) {
	var o Options
	o.defaults()
	if o.MemMiB != 64 || o.Timeout != 120*time.Second {
		t.Errorf("defaults: %d MiB, %v", o.MemMiB, o.Timeout)
	}
	args := strings.Join(QEMUArgs(Options{Image: "x.elf", Args: []string{"a"}}), " ")
	for _, w := range []string{"-M microvm", "isa-debug-exit,iobase=0xf4,iosize=4", "-kernel x.elf", "-append a", "-m 64"} {
		if !strings.Contains(args, w) {
			t.Errorf("QEMU args %q lack %q", args, w)
		}
	}
}
