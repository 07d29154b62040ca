//go:build xen

package xen

import "github.com/anykernel/anykernel/abi"

// op is the backend's dense number of a call it serves.
type op uint16

// Every call served. The Linux numbers come from the ABI table at init.
const (
	opNone op = iota
	// files
	opRead
	opWrite
	opPread64
	opPwrite64
	opReadv
	opWritev
	opPreadv
	opPwritev
	opPreadv2
	opPwritev2
	opOpen
	opOpenat
	opOpenat2
	opCreat
	opClose
	opFstat
	opStat
	opLstat
	opNewfstatat
	opStatx
	opStatfs
	opFstatfs
	opLseek
	opDup
	opDup2
	opDup3
	opFcntl
	opIoctl
	opTruncate
	opFtruncate
	opFallocate
	opFsync
	opFdatasync
	opSyncfs
	opSync
	opGetdents64
	opChdir
	opFchdir
	opGetcwd
	opMkdir
	opMkdirat
	opRmdir
	opUnlink
	opUnlinkat
	opLink
	opLinkat
	opSymlink
	opSymlinkat
	opReadlink
	opReadlinkat
	opRename
	opRenameat
	opRenameat2
	opMknod
	opMknodat
	opChmod
	opFchmod
	opFchmodat
	opChown
	opLchown
	opFchown
	opFchownat
	opUtimensat
	opAccess
	opFaccessat
	opFaccessat2
	opFlock
	opUmask
	opMemfdCreate
	opSetxattr
	opLsetxattr
	opFsetxattr
	opGetxattr
	opLgetxattr
	opFgetxattr
	opListxattr
	opLlistxattr
	opFlistxattr
	opRemovexattr
	opLremovexattr
	opFremovexattr
	opCopyFileRange
	opSendfile
	opSplice
	opTee
	opVmsplice
	// pipes and readiness
	opPipe
	opPipe2
	opEventfd
	opEventfd2
	opPoll
	opPpoll
	opSelect
	opPselect6
	opEpollCreate
	opEpollCreate1
	opEpollCtl
	opEpollWait
	opEpollPwait
	opEpollPwait2
	opSignalfd
	opSignalfd4
	opRtSigprocmask
	opRtSigpending
	opKill
	opTkill
	opTgkill
	opInotifyInit
	opInotifyInit1
	opInotifyAddWatch
	opInotifyRmWatch
	opTimerfdCreate
	opTimerfdSettime
	opTimerfdGettime
	// time
	opClockGettime
	opClockGetres
	opClockSettime
	opClockNanosleep
	opNanosleep
	opGettimeofday
	opTime
	opTimes
	opTimerCreate
	opTimerSettime
	opTimerGettime
	opTimerGetoverrun
	opTimerDelete
	opGetitimer
	opSetitimer
	// the process
	opGetpid
	opGettid
	opGetppid
	opGetuid
	opGeteuid
	opGetgid
	opGetegid
	opGetpgrp
	opGetpgid
	opGetsid
	opSetpgid
	opSetsid
	opUname
	opGetrandom
	opSchedYield
	opExitGroup
	numOps
)

// Special shapes the entry handles before anything else.
const (
	kPlain = iota
	kVec   // arg 2 is a struct iovec array, arg 3 its length
	kPsel  // arg 6 points to { sigset_t *ss; size_t len }
	kFcntl // arg 3 is an address for the lock commands
	kIoctl // arg 3 is an address for the requests served
)

// opInfo is each call's Linux name, which arguments are addresses (bit i:
// argument i+1), and its shape.
var opInfo = [numOps]struct {
	name string
	mask uint8
	kind uint8
}{
	opRead:          {"read", 0b010, kPlain},
	opWrite:         {"write", 0b010, kPlain},
	opPread64:       {"pread64", 0b010, kPlain},
	opPwrite64:      {"pwrite64", 0b010, kPlain},
	opReadv:         {"readv", 0b010, kVec},
	opWritev:        {"writev", 0b010, kVec},
	opPreadv:        {"preadv", 0b010, kVec},
	opPwritev:       {"pwritev", 0b010, kVec},
	opPreadv2:       {"preadv2", 0b010, kVec},
	opPwritev2:      {"pwritev2", 0b010, kVec},
	opOpen:          {"open", 0b001, kPlain},
	opOpenat:        {"openat", 0b010, kPlain},
	opOpenat2:       {"openat2", 0b110, kPlain},
	opCreat:         {"creat", 0b001, kPlain},
	opClose:         {"close", 0, kPlain},
	opFstat:         {"fstat", 0b10, kPlain},
	opStat:          {"stat", 0b11, kPlain},
	opLstat:         {"lstat", 0b11, kPlain},
	opNewfstatat:    {"newfstatat", 0b0110, kPlain},
	opStatx:         {"statx", 0b10010, kPlain},
	opStatfs:        {"statfs", 0b11, kPlain},
	opFstatfs:       {"fstatfs", 0b10, kPlain},
	opLseek:         {"lseek", 0, kPlain},
	opDup:           {"dup", 0, kPlain},
	opDup2:          {"dup2", 0, kPlain},
	opDup3:          {"dup3", 0, kPlain},
	opFcntl:         {"fcntl", 0, kFcntl},
	opIoctl:         {"ioctl", 0, kIoctl},
	opTruncate:      {"truncate", 0b1, kPlain},
	opFtruncate:     {"ftruncate", 0, kPlain},
	opFallocate:     {"fallocate", 0, kPlain},
	opFsync:         {"fsync", 0, kPlain},
	opFdatasync:     {"fdatasync", 0, kPlain},
	opSyncfs:        {"syncfs", 0, kPlain},
	opSync:          {"sync", 0, kPlain},
	opGetdents64:    {"getdents64", 0b010, kPlain},
	opChdir:         {"chdir", 0b1, kPlain},
	opFchdir:        {"fchdir", 0, kPlain},
	opGetcwd:        {"getcwd", 0b1, kPlain},
	opMkdir:         {"mkdir", 0b1, kPlain},
	opMkdirat:       {"mkdirat", 0b10, kPlain},
	opRmdir:         {"rmdir", 0b1, kPlain},
	opUnlink:        {"unlink", 0b1, kPlain},
	opUnlinkat:      {"unlinkat", 0b10, kPlain},
	opLink:          {"link", 0b11, kPlain},
	opLinkat:        {"linkat", 0b1010, kPlain},
	opSymlink:       {"symlink", 0b11, kPlain},
	opSymlinkat:     {"symlinkat", 0b101, kPlain},
	opReadlink:      {"readlink", 0b11, kPlain},
	opReadlinkat:    {"readlinkat", 0b110, kPlain},
	opRename:        {"rename", 0b11, kPlain},
	opRenameat:      {"renameat", 0b1010, kPlain},
	opRenameat2:     {"renameat2", 0b1010, kPlain},
	opMknod:         {"mknod", 0b1, kPlain},
	opMknodat:       {"mknodat", 0b10, kPlain},
	opChmod:         {"chmod", 0b1, kPlain},
	opFchmod:        {"fchmod", 0, kPlain},
	opFchmodat:      {"fchmodat", 0b10, kPlain},
	opChown:         {"chown", 0b1, kPlain},
	opLchown:        {"lchown", 0b1, kPlain},
	opFchown:        {"fchown", 0, kPlain},
	opFchownat:      {"fchownat", 0b10, kPlain},
	opUtimensat:     {"utimensat", 0b110, kPlain},
	opAccess:        {"access", 0b1, kPlain},
	opFaccessat:     {"faccessat", 0b10, kPlain},
	opFaccessat2:    {"faccessat2", 0b10, kPlain},
	opFlock:         {"flock", 0, kPlain},
	opUmask:         {"umask", 0, kPlain},
	opMemfdCreate:   {"memfd_create", 0b1, kPlain},
	opSetxattr:      {"setxattr", 0b111, kPlain},
	opLsetxattr:     {"lsetxattr", 0b111, kPlain},
	opFsetxattr:     {"fsetxattr", 0b110, kPlain},
	opGetxattr:      {"getxattr", 0b111, kPlain},
	opLgetxattr:     {"lgetxattr", 0b111, kPlain},
	opFgetxattr:     {"fgetxattr", 0b110, kPlain},
	opListxattr:     {"listxattr", 0b11, kPlain},
	opLlistxattr:    {"llistxattr", 0b11, kPlain},
	opFlistxattr:    {"flistxattr", 0b10, kPlain},
	opRemovexattr:   {"removexattr", 0b11, kPlain},
	opLremovexattr:  {"lremovexattr", 0b11, kPlain},
	opFremovexattr:  {"fremovexattr", 0b10, kPlain},
	opCopyFileRange: {"copy_file_range", 0b1010, kPlain},
	opSendfile:      {"sendfile", 0b0100, kPlain},
	opSplice:        {"splice", 0b1010, kPlain},
	opTee:           {"tee", 0, kPlain},
	opVmsplice:      {"vmsplice", 0b10, kVec},

	opPipe:            {"pipe", 0b1, kPlain},
	opPipe2:           {"pipe2", 0b1, kPlain},
	opEventfd:         {"eventfd", 0, kPlain},
	opEventfd2:        {"eventfd2", 0, kPlain},
	opPoll:            {"poll", 0b1, kPlain},
	opPpoll:           {"ppoll", 0b1101, kPlain},
	opSelect:          {"select", 0b11110, kPlain},
	opPselect6:        {"pselect6", 0b111110, kPsel},
	opEpollCreate:     {"epoll_create", 0, kPlain},
	opEpollCreate1:    {"epoll_create1", 0, kPlain},
	opEpollCtl:        {"epoll_ctl", 0b1000, kPlain},
	opEpollWait:       {"epoll_wait", 0b10, kPlain},
	opEpollPwait:      {"epoll_pwait", 0b10010, kPlain},
	opEpollPwait2:     {"epoll_pwait2", 0b11010, kPlain},
	opSignalfd:        {"signalfd", 0b10, kPlain},
	opSignalfd4:       {"signalfd4", 0b10, kPlain},
	opRtSigprocmask:   {"rt_sigprocmask", 0b110, kPlain},
	opRtSigpending:    {"rt_sigpending", 0b1, kPlain},
	opKill:            {"kill", 0, kPlain},
	opTkill:           {"tkill", 0, kPlain},
	opTgkill:          {"tgkill", 0, kPlain},
	opInotifyInit:     {"inotify_init", 0, kPlain},
	opInotifyInit1:    {"inotify_init1", 0, kPlain},
	opInotifyAddWatch: {"inotify_add_watch", 0b10, kPlain},
	opInotifyRmWatch:  {"inotify_rm_watch", 0, kPlain},
	opTimerfdCreate:   {"timerfd_create", 0, kPlain},
	opTimerfdSettime:  {"timerfd_settime", 0b1100, kPlain},
	opTimerfdGettime:  {"timerfd_gettime", 0b10, kPlain},

	opClockGettime:    {"clock_gettime", 0b10, kPlain},
	opClockGetres:     {"clock_getres", 0b10, kPlain},
	opClockSettime:    {"clock_settime", 0b10, kPlain},
	opClockNanosleep:  {"clock_nanosleep", 0b1100, kPlain},
	opNanosleep:       {"nanosleep", 0b11, kPlain},
	opGettimeofday:    {"gettimeofday", 0b11, kPlain},
	opTime:            {"time", 0b1, kPlain},
	opTimes:           {"times", 0b1, kPlain},
	opTimerCreate:     {"timer_create", 0b110, kPlain},
	opTimerSettime:    {"timer_settime", 0b1100, kPlain},
	opTimerGettime:    {"timer_gettime", 0b10, kPlain},
	opTimerGetoverrun: {"timer_getoverrun", 0, kPlain},
	opTimerDelete:     {"timer_delete", 0, kPlain},
	opGetitimer:       {"getitimer", 0b10, kPlain},
	opSetitimer:       {"setitimer", 0b110, kPlain},

	opGetpid:     {"getpid", 0, kPlain},
	opGettid:     {"gettid", 0, kPlain},
	opGetppid:    {"getppid", 0, kPlain},
	opGetuid:     {"getuid", 0, kPlain},
	opGeteuid:    {"geteuid", 0, kPlain},
	opGetgid:     {"getgid", 0, kPlain},
	opGetegid:    {"getegid", 0, kPlain},
	opGetpgrp:    {"getpgrp", 0, kPlain},
	opGetpgid:    {"getpgid", 0, kPlain},
	opGetsid:     {"getsid", 0, kPlain},
	opSetpgid:    {"setpgid", 0, kPlain},
	opSetsid:     {"setsid", 0, kPlain},
	opUname:      {"uname", 0b1, kPlain},
	opGetrandom:  {"getrandom", 0b1, kPlain},
	opSchedYield: {"sched_yield", 0, kPlain},
	opExitGroup:  {"exit_group", 0, kPlain},
}

// maxNr bounds the Linux syscall numbers the dispatch array covers.
const maxNr = 512

// opOf maps a Linux syscall number to the op serving it (opNone: ENOSYS).
var opOf [maxNr]op

// mustNr returns the number of a call the platform must have.
func mustNr(t *abi.Table, name string) uintptr {
	nr, ok := t.Syscall(name)
	if !ok {
		panic("xen: the ABI table lacks " + name)
	}
	return nr
}

func initOps(t *abi.Table) {
	for o := op(1); o < numOps; o++ {
		nr := mustNr(t, opInfo[o].name)
		if nr >= maxNr {
			panic("xen: syscall number of " + opInfo[o].name + " beyond the dispatch array")
		}
		opOf[nr] = o
	}
}
