//go:build xen

package conformance

import (
	"path"
	"strconv"
	"sync/atomic"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/fsutil"
	"github.com/anykernel/anykernel/backend/xen"
)

// The library OS of the unikernel image (backend/xen). Built with -tags
// xen it also runs hosted, where its platform calls (console, clocks) are
// the host's; inside the image (test/matrix/guest) they are the shim's.

var xenDirs atomic.Int64

// xenTempDir makes a directory in the library OS's own file system.
func xenTempDir(t T, k *api.Kernel) string {
	t.Helper()
	d := path.Join("/tmp", "conformance-"+strconv.FormatInt(xenDirs.Add(1), 10))
	if err := k.Mkdir(d, 0o755); err != nil {
		t.Fatalf("TempDir: %v", err)
	}
	t.Cleanup(func() { fsutil.RemoveAll(k, d) })
	return d
}

func init() {
	RegisterTarget(&Target{
		Name: "xen",
		Open: xen.New,
		// The unikernel's one process runs as root (uid 0).
		Root:    func() bool { return true },
		TempDir: xenTempDir,
	})
}
