package api_test

import (
	"errors"
	"testing"

	"github.com/anykernel/anykernel/api"
)

func TestParseOpenFlags(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want api.OpenFlags
	}{
		{"", 0},
		{"rdonly", api.O_RDONLY},
		{"rdwr,creat", api.O_RDWR | api.O_CREAT},
		{"O_WRONLY|O_APPEND", api.O_WRONLY | api.O_APPEND},
		{"RdWr, Creat, Excl", api.O_RDWR | api.O_CREAT | api.O_EXCL},
		{"rdwr,creat,cloexec,~cloexec", api.O_RDWR | api.O_CREAT},
		{"sync", api.O_SYNC},
	} {
		got, err := api.ParseOpenFlags(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseOpenFlags(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseOpenFlagsUnknownWord(t *testing.T) {
	_, err := api.ParseOpenFlags("rdonly,creatt")
	var pe *api.ParseError
	if !errors.As(err, &pe) || pe.Word != "creatt" || pe.Family != "OpenFlags" {
		t.Fatalf("err = %v, want a ParseError naming creatt", err)
	}
	if !errors.Is(err, api.EINVAL) {
		t.Errorf("a parse error should match EINVAL")
	}
	if _, err := api.ParseOpenFlags("~"); err == nil {
		t.Errorf("a lone ~ parsed")
	}
}

func TestFlagsString(t *testing.T) {
	if s := (api.O_RDWR | api.O_CREAT).String(); s != "O_RDWR|O_CREAT" {
		t.Errorf("String = %q", s)
	}
	if s := api.O_RDONLY.String(); s != "O_RDONLY" {
		t.Errorf("String of zero = %q", s)
	}
	// O_SYNC contains O_DSYNC's bit: the bigger member names it.
	if s := api.O_SYNC.String(); s != "O_SYNC" {
		t.Errorf("String of O_SYNC = %q", s)
	}
	if s := api.OpenFlags(1 << 40).String(); s != "0x10000000000" {
		t.Errorf("unnamed bits = %q", s)
	}
	// Round trip.
	for _, f := range []api.OpenFlags{api.O_WRONLY | api.O_TRUNC | api.O_CLOEXEC, api.O_PATH | api.O_NOFOLLOW} {
		g, err := api.ParseOpenFlags(f.String())
		if err != nil || g != f {
			t.Errorf("round trip of %v gave %v, %v", f, g, err)
		}
	}
}

func TestParseEnum(t *testing.T) {
	s, err := api.ParseSignal("term")
	if err != nil || s != api.SIGTERM || s.String() != "SIGTERM" {
		t.Errorf("ParseSignal(term) = %v, %v", s, err)
	}
	if _, err := api.ParseSignal("SIGNOPE"); err == nil {
		t.Errorf("unknown signal parsed")
	}
	c, err := api.ParseClockID("monotonic")
	if err != nil || c != api.CLOCK_MONOTONIC {
		t.Errorf("ParseClockID = %v, %v", c, err)
	}
	if s := api.Signal(200).String(); s != "Signal(200)" {
		t.Errorf("unnamed enum = %q", s)
	}
}
