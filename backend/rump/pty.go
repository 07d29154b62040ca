package rump

import (
	"errors"
	"io/fs"

	"github.com/anykernel/anykernel/api"
)

// PtsDir is where NetBSD mounts ptyfs, and so where the kernel's
// TIOCPTSNAME (api's Ptsname) names the slaves of /dev/ptmx's masters.
const PtsDir = "/dev/pts"

// MountPtys makes k's kernel hand out pseudo-terminals the NetBSD way:
// ptyfs mounted on /dev/pts (made if missing), slaves of mode 0620.
// The "kern.tty" component makes /dev/ptmx and /dev/ptm; without ptyfs
// its masters fall back to the ten BSD pairs (/dev/ptyp0../dev/ttyp9).
// Then api's Openpt, Grantpt, Ptsname and Openpty work on k. It needs
// the "fs.ptyfs" component; mount it once per rump kernel (every rump
// process sees the mount).
func MountPtys(k *api.Kernel) error {
	if err := k.Mkdir(PtsDir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return MountPtyfs(k, PtsDir, 0, PtyfsArgs{Mode: 0o620})
}
