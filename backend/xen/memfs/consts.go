package memfs

// Linux's values for the flags and modes memfs takes, so that a backend
// serving the Linux ABI passes them through unchanged.

// File types and permission bits of a mode.
const (
	S_IFMT   = 0o170000
	S_IFSOCK = 0o140000
	S_IFLNK  = 0o120000
	S_IFREG  = 0o100000
	S_IFBLK  = 0o060000
	S_IFDIR  = 0o040000
	S_IFCHR  = 0o020000
	S_IFIFO  = 0o010000
	S_ISUID  = 0o4000
	S_ISGID  = 0o2000
	S_ISVTX  = 0o1000
)

// Open flags.
const (
	O_RDONLY    = 0
	O_WRONLY    = 1
	O_RDWR      = 2
	O_ACCMODE   = 3
	O_CREAT     = 0o100
	O_EXCL      = 0o200
	O_NOCTTY    = 0o400
	O_TRUNC     = 0o1000
	O_APPEND    = 0o2000
	O_NONBLOCK  = 0o4000
	O_DSYNC     = 0o10000
	O_ASYNC     = 0o20000
	O_DIRECT    = 0o40000
	O_LARGEFILE = 0o100000
	O_DIRECTORY = 0o200000
	O_NOFOLLOW  = 0o400000
	O_NOATIME   = 0o1000000
	O_CLOEXEC   = 0o2000000
	O_SYNC      = 0o4010000
	O_PATH      = 0o10000000
	O_TMPFILE   = 0o20200000 // includes O_DIRECTORY

	oTmpfileBit = 0o20000000
)

// StatusFlags are the open flags F_SETFL may change.
const StatusFlags = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME

// Resolve flags of openat2 (struct open_how's resolve field).
const (
	RESOLVE_NO_XDEV       = 0x01
	RESOLVE_NO_MAGICLINKS = 0x02
	RESOLVE_NO_SYMLINKS   = 0x04
	RESOLVE_BENEATH       = 0x08
	RESOLVE_IN_ROOT       = 0x10
	RESOLVE_CACHED        = 0x20
)

// Access modes of access(2).
const (
	F_OK = 0
	X_OK = 1
	W_OK = 2
	R_OK = 4
)

// Whence values of lseek.
const (
	SEEK_SET  = 0
	SEEK_CUR  = 1
	SEEK_END  = 2
	SEEK_DATA = 3
	SEEK_HOLE = 4
)

// Rename flags of renameat2.
const (
	RENAME_NOREPLACE = 1
	RENAME_EXCHANGE  = 2
	RENAME_WHITEOUT  = 4
)

// Directory entry types (d_type).
const (
	DT_UNKNOWN = 0
	DT_FIFO    = 1
	DT_CHR     = 2
	DT_DIR     = 4
	DT_BLK     = 6
	DT_REG     = 8
	DT_LNK     = 10
	DT_SOCK    = 12
)

// Lock types of struct flock and operations of flock(2).
const (
	F_RDLCK = 0
	F_WRLCK = 1
	F_UNLCK = 2

	LOCK_SH = 1
	LOCK_EX = 2
	LOCK_NB = 4
	LOCK_UN = 8
)

// fallocate modes.
const (
	FALLOC_FL_KEEP_SIZE      = 0x01
	FALLOC_FL_PUNCH_HOLE     = 0x02
	FALLOC_FL_NO_HIDE_STALE  = 0x04
	FALLOC_FL_COLLAPSE_RANGE = 0x08
	FALLOC_FL_ZERO_RANGE     = 0x10
	FALLOC_FL_INSERT_RANGE   = 0x20
	FALLOC_FL_UNSHARE_RANGE  = 0x40
)

// File seals of memfd files (F_ADD_SEALS).
const (
	F_SEAL_SEAL         = 0x01
	F_SEAL_SHRINK       = 0x02
	F_SEAL_GROW         = 0x04
	F_SEAL_WRITE        = 0x08
	F_SEAL_FUTURE_WRITE = 0x10
	sealAll             = 0x1f
)

// Flags of setxattr.
const (
	XATTR_CREATE  = 1
	XATTR_REPLACE = 2
)

// Limits.
const (
	NameMax      = 255     // bytes in one path component
	PathMax      = 4096    // bytes in a path, with its NUL
	SymlinkMax   = 4095    // bytes in a symbolic link's target
	MaxSymlinks  = 40      // links followed in one resolution before ELOOP
	XattrNameMax = 255     // bytes in an attribute name
	XattrSizeMax = 1 << 16 // bytes in an attribute value
	XattrListMax = 1 << 16 // bytes in a list of names
	MaxFileSize  = 1<<63 - 1
	pageSize     = 4096
	blockSize    = 512 // st_blocks unit
	// TmpfsMagic is what statfs reports as the file system type.
	TmpfsMagic = 0x01021994
)
