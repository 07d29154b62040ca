package memfs

import (
	"testing"

	linux "github.com/anykernel/anykernel/abi/linux/amd64"
)

// memfs speaks Linux's numbers: check them against the generated
// linux/amd64 table (itself checked against C).
func TestConstantsAreLinux(t *testing.T) {
	consts := map[string]uint64{
		"S_IFMT": S_IFMT, "S_IFSOCK": S_IFSOCK, "S_IFLNK": S_IFLNK, "S_IFREG": S_IFREG, "S_IFBLK": S_IFBLK,
		"S_IFDIR": S_IFDIR, "S_IFCHR": S_IFCHR, "S_IFIFO": S_IFIFO, "S_ISUID": S_ISUID, "S_ISGID": S_ISGID, "S_ISVTX": S_ISVTX,
		"O_RDONLY": O_RDONLY, "O_WRONLY": O_WRONLY, "O_RDWR": O_RDWR, "O_ACCMODE": O_ACCMODE, "O_CREAT": O_CREAT,
		"O_EXCL": O_EXCL, "O_NOCTTY": O_NOCTTY, "O_TRUNC": O_TRUNC, "O_APPEND": O_APPEND, "O_NONBLOCK": O_NONBLOCK,
		"O_DSYNC": O_DSYNC, "O_ASYNC": O_ASYNC, "O_DIRECT": O_DIRECT, "O_DIRECTORY": O_DIRECTORY,
		"O_NOFOLLOW": O_NOFOLLOW, "O_NOATIME": O_NOATIME, "O_CLOEXEC": O_CLOEXEC, "O_SYNC": O_SYNC, "O_PATH": O_PATH,
		"O_TMPFILE":       O_TMPFILE,
		"RESOLVE_NO_XDEV": RESOLVE_NO_XDEV, "RESOLVE_NO_MAGICLINKS": RESOLVE_NO_MAGICLINKS, "RESOLVE_NO_SYMLINKS": RESOLVE_NO_SYMLINKS,
		"RESOLVE_BENEATH": RESOLVE_BENEATH, "RESOLVE_IN_ROOT": RESOLVE_IN_ROOT, "RESOLVE_CACHED": RESOLVE_CACHED,
		"F_OK": F_OK, "X_OK": X_OK, "W_OK": W_OK, "R_OK": R_OK,
		"SEEK_SET": SEEK_SET, "SEEK_CUR": SEEK_CUR, "SEEK_END": SEEK_END, "SEEK_DATA": SEEK_DATA, "SEEK_HOLE": SEEK_HOLE,
		"RENAME_NOREPLACE": RENAME_NOREPLACE, "RENAME_EXCHANGE": RENAME_EXCHANGE, "RENAME_WHITEOUT": RENAME_WHITEOUT,
		"DT_UNKNOWN": DT_UNKNOWN, "DT_FIFO": DT_FIFO, "DT_CHR": DT_CHR, "DT_DIR": DT_DIR, "DT_BLK": DT_BLK,
		"DT_REG": DT_REG, "DT_LNK": DT_LNK, "DT_SOCK": DT_SOCK,
		"F_RDLCK": F_RDLCK, "F_WRLCK": F_WRLCK, "F_UNLCK": F_UNLCK,
		"LOCK_SH": LOCK_SH, "LOCK_EX": LOCK_EX, "LOCK_NB": LOCK_NB, "LOCK_UN": LOCK_UN,
		"FALLOC_FL_KEEP_SIZE": FALLOC_FL_KEEP_SIZE, "FALLOC_FL_PUNCH_HOLE": FALLOC_FL_PUNCH_HOLE,
		"FALLOC_FL_NO_HIDE_STALE": FALLOC_FL_NO_HIDE_STALE, "FALLOC_FL_COLLAPSE_RANGE": FALLOC_FL_COLLAPSE_RANGE,
		"FALLOC_FL_ZERO_RANGE": FALLOC_FL_ZERO_RANGE, "FALLOC_FL_INSERT_RANGE": FALLOC_FL_INSERT_RANGE,
		"FALLOC_FL_UNSHARE_RANGE": FALLOC_FL_UNSHARE_RANGE,
		"F_SEAL_SEAL":             F_SEAL_SEAL, "F_SEAL_SHRINK": F_SEAL_SHRINK, "F_SEAL_GROW": F_SEAL_GROW,
		"F_SEAL_WRITE": F_SEAL_WRITE, "F_SEAL_FUTURE_WRITE": F_SEAL_FUTURE_WRITE,
		"XATTR_CREATE": XATTR_CREATE, "XATTR_REPLACE": XATTR_REPLACE,
		"UTIME_NOW": UTIME_NOW, "UTIME_OMIT": UTIME_OMIT,
		"NAME_MAX": NameMax, "PATH_MAX": PathMax, "XATTR_NAME_MAX": XattrNameMax, "XATTR_SIZE_MAX": XattrSizeMax,
		"XATTR_LIST_MAX": XattrListMax,
	}
	for name, v := range consts {
		got, ok := linux.Table.Const(name)
		if !ok {
			t.Errorf("%s: not in the linux/amd64 table", name)
			continue
		}
		if got != v {
			t.Errorf("%s = %#x, Linux has %#x", name, v, got)
		}
	}
	for e, name := range errnoNames {
		le, ok := linux.Table.ErrnoByName(name)
		if !ok || le.Nr != uintptr(e) {
			t.Errorf("%s = %d, Linux has %d (%v)", name, e, le.Nr, ok)
		}
	}
}
