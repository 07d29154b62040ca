//go:build linux && amd64

package amd64

import (
	"testing"

	"github.com/anykernel/anykernel/build/abicheck"
)

// TestXSys compares Table with golang.org/x/sys/unix for every syscall,
// errno, constant and struct layout both know (zxsys_test.go, generated),
// except the deliberate differences in xsysAllow.
func TestXSys(t *testing.T) {
	diffs, unused := abicheck.Compare(Table, xsysFacts(), xsysAllow)
	for _, d := range diffs {
		t.Error(d)
	}
	for _, item := range unused {
		t.Errorf("linux/amd64: allow-list entry %q matches no difference; remove it", item)
	}
}
