package gen

import (
	"testing"

	"github.com/anykernel/anykernel/abi/all"
)

// TestNetBSDNetLayouts compares the hand-described routing structs
// (config_netbsd_net.go, laid out by clang) with golang.org/x/sys/unix's
// RtMsghdr and RtMetrics for every NetBSD target: sizes and
// every member's offset and size. (The interface request structs have no
// x/sys type; their sizes are checked through the SIOC* numbers, which
// build/abicheck compares with x/sys.)
func TestNetBSDNetLayouts(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Skip(err)
	}
	xsys, err := XSysSource(root)
	if err != nil {
		t.Skip(err)
	}
	for i, name := range all.Names {
		tbl := all.Tables[i]
		if tbl.OS != "netbsd" {
			continue
		}
		x, err := loadXPkg(xsys, tbl.OS, tbl.Arch)
		if err != nil || x == nil {
			t.Fatalf("%s: x/sys: %v", name, err)
		}
		sizes := cSizes(tbl.Arch, tbl.PtrSize)
		for _, c := range []struct {
			table, goType, prefix string
		}{{"rt_msghdr", "RtMsghdr", "rtm_"}, {"rt_metrics", "RtMetrics", "rmx_"}} {
			st, ok := tbl.Struct(c.table)
			if !ok {
				t.Errorf("%s: no struct %s in the table (run go run ./build/abigen)", name, c.table)
				continue
			}
			// Alignment is not compared: rt_msghdr is __aligned(8) on
			// every port, which Go cannot say (on 386 x/sys's type is
			// 4-aligned, its padding explicit).
			size, _, _ := x.typeLayout(c.goType, sizes)
			if int64(st.Size) != size {
				t.Errorf("%s: %s size %d, x/sys %s %d", name, c.table, st.Size, c.goType, size)
			}
			n := 0
			for _, f := range x.xstructFields(xstruct{Name: c.table, GoType: c.goType, Prefix: c.prefix},
				map[string]string{"RtMetrics": "rmx_"}) {
				tf, ok := st.Field(f.c)
				if !ok {
					t.Errorf("%s: %s has no %s (x/sys %s)", name, c.table, f.c, f.goPath)
					continue
				}
				off, sz, _ := x.fieldAt(c.goType, f.goPath, sizes)
				if int64(tf.Offset) != off || int64(tf.Size) != sz {
					t.Errorf("%s: %s.%s at %d size %d, x/sys %s at %d size %d", name, c.table, f.c, tf.Offset, tf.Size, f.goPath, off, sz)
				}
				n++
			}
			if n < 10 {
				t.Errorf("%s: only %d members of %s compared", name, n, c.table)
			}
		}
	}
}
