package caps

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/anykernel/anykernel/abi"
	"github.com/anykernel/anykernel/abi/all"
	"github.com/anykernel/anykernel/api"
)

func table(t *testing.T, arch string) *abi.Table {
	t.Helper()
	for _, tb := range all.Tables {
		if tb.OS == "linux" && tb.Arch == arch {
			return tb
		}
	}
	t.Fatalf("no linux/%s table", arch)
	return nil
}

// TestFormat checks the text form against what libcap prints for the
// same sets (capsh --print, getcap).
func TestFormat(t *testing.T) {
	all := All()
	for _, c := range []struct {
		caps api.Caps
		want string
	}{
		{api.Caps{}, "="},
		{api.Caps{Effective: all, Permitted: all}, "=ep"},
		{api.Caps{Effective: all.Del(api.CAP_SYS_RESOURCE), Permitted: all.Del(api.CAP_SYS_RESOURCE)}, "=ep cap_sys_resource-ep"},
		{api.Caps{Effective: api.CapSetOf(api.CAP_CHOWN, api.CAP_NET_RAW), Permitted: api.CapSetOf(api.CAP_CHOWN, api.CAP_NET_RAW)}, "cap_chown,cap_net_raw=ep"},
		{api.Caps{Effective: api.CapSetOf(api.CAP_CHOWN), Inheritable: api.CapSetOf(api.CAP_CHOWN)}, "cap_chown=ei"},
		{api.Caps{Permitted: api.CapSetOf(api.CAP_KILL), Inheritable: api.CapSetOf(api.CAP_KILL, api.CAP_SETUID)}, "cap_kill=ip cap_setuid+i"},
		{api.Caps{Permitted: api.CapSetOf(api.CAP_CHOWN, api.CAP_KILL), Inheritable: api.CapSetOf(api.CAP_BPF)}, "cap_bpf=i cap_chown,cap_kill+p"},
		{api.Caps{Effective: api.CapSetOf(api.CAP_CHOWN, api.CAP_BPF), Permitted: api.CapSetOf(api.CAP_CHOWN, api.CAP_BPF), Inheritable: api.CapSetOf(api.CAP_CHOWN, api.CAP_BPF)}, "cap_chown,cap_bpf=eip"},
		{api.Caps{Permitted: all, Inheritable: api.CapSetOf(api.CAP_BPF)}, "=p cap_bpf+i"},
	} {
		if got := Format(c.caps, 0); got != c.want {
			t.Errorf("Format(%+v) = %q, want %q", c.caps, got, c.want)
		}
		back, err := Parse(c.want)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.want, err)
		} else if back != c.caps {
			t.Errorf("Parse(%q) = %+v, want %+v", c.want, back, c.caps)
		}
	}
}

func TestParse(t *testing.T) {
	c, err := Parse("all=p cap_chown+e cap_kill,cap_setuid+ie-p cap_bpf=")
	if err != nil {
		t.Fatal(err)
	}
	want := api.Caps{
		Permitted:   All().Del(api.CAP_KILL, api.CAP_SETUID, api.CAP_BPF),
		Effective:   api.CapSetOf(api.CAP_CHOWN, api.CAP_KILL, api.CAP_SETUID),
		Inheritable: api.CapSetOf(api.CAP_KILL, api.CAP_SETUID),
	}
	if c != want {
		t.Errorf("got %+v, want %+v", c, want)
	}
	for _, bad := range []string{"cap_chown", "cap_chwn+e", "cap_chown+x", "+e", "cap_chown+", "cap_chown,,cap_kill=e", "~cap_kill=e"} {
		_, err := Parse(bad)
		var te *TextError
		if !errors.As(err, &te) || !errors.Is(err, api.EINVAL) {
			t.Errorf("Parse(%q): %v, want a *TextError", bad, err)
		}
	}
	if _, err := ParseFile("cap_chown=p cap_kill+ei"); err == nil {
		t.Error("ParseFile accepted an effective flag on some capabilities only")
	}
	f, err := ParseFile("cap_chown,cap_net_raw=ep")
	if err != nil || !f.Effective || f.Permitted != api.CapSetOf(api.CAP_CHOWN, api.CAP_NET_RAW) {
		t.Errorf("ParseFile: %+v %v", f, err)
	}
}

// TestFileFormats checks the attribute bytes against what setcap wrote
// for the same capabilities (little-endian on every ABI).
func TestFileFormats(t *testing.T) {
	for _, c := range []struct {
		f   FileCaps
		hex string
	}{
		// setcap cap_chown,cap_net_raw+ep f
		{FileCaps{Permitted: api.CapSetOf(api.CAP_CHOWN, api.CAP_NET_RAW), Effective: true, Version: 2},
			"0100000201200000000000000000000000000000"},
		// setcap -n 1000 cap_chown+ei f
		{FileCaps{Inheritable: api.CapSetOf(api.CAP_CHOWN), Effective: true, Version: 3, RootID: 1000},
			"0100000300000000010000000000000000000000e8030000"},
		// a capability above 31 lands in the second element
		{FileCaps{Permitted: api.CapSetOf(api.CAP_BPF), Version: 2},
			"0000000200000000000000008000000000000000"},
	} {
		for _, arch := range []string{"amd64", "ppc64", "s390x", "386"} {
			tb := table(t, arch)
			b, err := Marshal(tb, c.f)
			if err != nil {
				t.Fatalf("%s: %v", arch, err)
			}
			if got := hex.EncodeToString(b); got != c.hex {
				t.Errorf("%s: Marshal(%+v) = %s, want %s", arch, c.f, got, c.hex)
			}
			back, err := Unmarshal(tb, b)
			if err != nil || back != c.f {
				t.Errorf("%s: Unmarshal = %+v, %v; want %+v", arch, back, err, c.f)
			}
		}
	}
	tb := table(t, "amd64")
	// Version 1: one 32-bit word.
	v1, _ := hex.DecodeString("010000010100000000000000")
	f, err := Unmarshal(tb, v1)
	if err != nil || f.Version != 1 || f.Permitted != api.CapSetOf(api.CAP_CHOWN) || !f.Effective {
		t.Errorf("v1: %+v %v", f, err)
	}
	for _, bad := range []string{"", "01000002", "0100000401200000000000000000000000000000", "0300000201200000000000000000000000000000",
		"01000003012000000000000000000000000000000000"} {
		b, _ := hex.DecodeString(bad)
		if _, err := Unmarshal(tb, b); !errors.Is(err, api.EINVAL) {
			t.Errorf("Unmarshal(%s): %v, want EINVAL", bad, err)
		}
	}
	if _, err := Marshal(tb, FileCaps{Version: 1}); !errors.Is(err, api.EINVAL) {
		t.Errorf("Marshal v1: %v", err)
	}
	if s := (FileCaps{Inheritable: api.CapSetOf(api.CAP_CHOWN), Effective: true, Version: 3, RootID: 1000}).String(); s != "cap_chown=ei [rootid=1000]" {
		t.Errorf("String: %q", s)
	}
	for _, tb := range all.Tables {
		if tb.OS != "linux" {
			if _, err := Marshal(tb, FileCaps{}); !errors.Is(err, api.ENOSYS) {
				t.Errorf("%s/%s: %v, want ENOSYS", tb.OS, tb.Arch, err)
			}
		}
	}
}
