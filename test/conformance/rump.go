//go:build rump

package conformance

import (
	"errors"
	"io/fs"
	"path"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/backend/rump"
)

// The rump target: a NetBSD rump kernel inside the test process. Its cases
// run in one rump process with a tmpfs on /tmp for scratch directories.
// Without a rump kernel (RUMP_PREFIX unset) Open fails with how to get one,
// and the suite skips the target.

// RumpComponents is what the rump target boots: the file, socket, pipe and
// terminal families' needs.
var RumpComponents = []string{
	"vfs", "fs.tmpfs", "vfs.fifofs", "fs.kernfs", "fs.ptyfs", "kern.tty",
	"net", "net.net", "net.local", "net.netinet", "net.netinet6",
}

var rumpOnce struct {
	sync.Once
	k   *api.Kernel
	err error
}

// rumpTmp is where the target's scratch directories live.
const rumpTmp = "/tmp"

func openRump() (*api.Kernel, error) {
	rumpOnce.Do(func() {
		k, err := rump.New(rump.Options{Components: RumpComponents})
		if err != nil {
			rumpOnce.err = err
			return
		}
		if err := k.Mkdir(rumpTmp, 0o1777); err != nil && !errors.Is(err, fs.ErrExist) {
			rumpOnce.err = err
			return
		}
		if err := rump.MountTmpfs(k, rumpTmp, 0, rump.TmpfsArgs{}); err != nil {
			rumpOnce.err = err
			return
		}
		// /dev/ptmx's slaves, named /dev/pts/N as on NetBSD.
		if err := rump.MountPtys(k); err != nil {
			rumpOnce.err = err
			return
		}
		rumpOnce.k = k
	})
	return rumpOnce.k, rumpOnce.err
}

var rumpDirs atomic.Int64

func rumpTempDir(t T, k *api.Kernel) string {
	t.Helper()
	d := path.Join(rumpTmp, "t"+strconv.FormatInt(rumpDirs.Add(1), 10))
	if err := k.Mkdir(d, 0o755); err != nil {
		t.Fatalf("TempDir: %v", err)
	}
	t.Cleanup(func() { RemoveAll(k, d) })
	return d
}

// RemoveAll removes path and what is under it, through k's own calls.
func RemoveAll(k *api.Kernel, p string) error {
	var st api.Stat
	if err := k.Lstat(p, &st); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	if st.IsDir() {
		ents, err := k.ReadDir(p)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if e.Name == "." || e.Name == ".." {
				continue
			}
			if err := RemoveAll(k, path.Join(p, e.Name)); err != nil {
				return err
			}
		}
		return k.Rmdir(p)
	}
	return k.Unlink(p)
}

func init() {
	RegisterTarget(&Target{
		Name: "rump",
		Open: openRump,
		// Processes of a rump kernel run as root (uid 0) in it, and
		// nothing they do reaches the host.
		Root:    func() bool { return true },
		TempDir: rumpTempDir,
		Fork: func(k *api.Kernel) (*api.Kernel, func(), error) {
			c, err := rump.Rfork(k, rump.RFCFDG)
			if err != nil {
				return nil, nil, err
			}
			return c, func() { rump.Release(c) }, nil
		},
	})
}
