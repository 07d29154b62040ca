package test

import (
	"fmt"
	"os"
	"testing"

	"github.com/anykernel/anykernel/api/nsexec"
)

// TestMain dispatches re-executed children first (package api/nsexec), then
// runs the tests between two snapshots of the host's state: the suite must
// leave the host's interfaces, mounts and host name as it found them
// (hoststate_test.go).
func TestMain(m *testing.M) {
	nsexec.Init()
	before, err := snapshotHost()
	if err != nil {
		fmt.Fprintf(os.Stderr, "host state: cannot snapshot: %v\n", err)
	}
	code := m.Run()
	if err == nil {
		after, err := snapshotHost()
		switch {
		case err != nil:
			fmt.Fprintf(os.Stderr, "host state: cannot snapshot after the tests: %v\n", err)
			code = 1
		default:
			if diff := before.diff(after); diff != "" {
				fmt.Fprintf(os.Stderr, "FAIL: the tests changed the host:\n%s", diff)
				code = 1
			}
		}
	}
	os.Exit(code)
}
