//go:build !rump || !cgo

package rump

import "testing"

// TestRumpBackend stands in for the backend's tests in builds without the
// rump tag (or without cgo), and says how to run them.
func TestRumpBackend(t *testing.T) {
	t.Skip("the rump backend's tests need -tags rump, cgo and a rump kernel: " + Unavailable +
		" (RUMP_PREFIX=/opt/rump go test -tags rump ./backend/rump/ ./test/...)")
}
