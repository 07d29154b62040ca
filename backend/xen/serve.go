//go:build xen

package xen

import (
	"runtime"
	"unsafe"
)

// serve answers one call. a holds the arguments as numbers, p the ones
// that are addresses as pointers (nil otherwise), x the iovec bases the
// entry converted for the vectored calls.
func (k *kernel) serve(o op, a [6]uintptr, p [6]unsafe.Pointer, x *iovPtrs) (uintptr, Errno) {
	r, e := k.dispatch(o, a, p, x)
	k.deliver()
	return r, e
}

func (k *kernel) dispatch(o op, a [6]uintptr, p [6]unsafe.Pointer, x *iovPtrs) (uintptr, Errno) {
	switch o {
	// files: I/O
	case opRead:
		return k.readWrite(a[0], p[1], a[2], 0, false, false)
	case opWrite:
		return k.readWrite(a[0], p[1], a[2], 0, true, false)
	case opPread64:
		return k.readWrite(a[0], p[1], a[2], int64(a[3]), false, true)
	case opPwrite64:
		return k.readWrite(a[0], p[1], a[2], int64(a[3]), true, true)
	case opReadv, opWritev, opPreadv, opPwritev, opPreadv2, opPwritev2, opVmsplice:
		return k.vecCall(o, a, p, x)
	// opening and closing
	case opOpen:
		return k.openat(fdcwd, p[0], a[1], a[2], 0)
	case opOpenat:
		return k.openat(a[0], p[1], a[2], a[3], 0)
	case opOpenat2:
		return k.openat2(a[0], p[1], p[2], a[3])
	case opCreat:
		return k.openat(fdcwd, p[0], 0o1101, a[1], 0) // O_CREAT|O_WRONLY|O_TRUNC
	case opClose:
		return 0, k.close(a[0])
	// status
	case opFstat:
		return k.fstat(a[0], p[1])
	case opStat:
		return k.fstatat(fdcwd, p[0], p[1], 0)
	case opLstat:
		return k.fstatat(fdcwd, p[0], p[1], atSymlinkNofollow)
	case opNewfstatat:
		return k.fstatat(a[0], p[1], p[2], a[3])
	case opStatx:
		return k.statx(a[0], p[1], a[2], a[3], p[4])
	case opStatfs:
		return k.statfs(p[0], p[1])
	case opFstatfs:
		return k.fstatfs(a[0], p[1])
	// descriptors
	case opLseek:
		return k.lseek(a[0], int64(a[1]), a[2])
	case opDup:
		return k.dupMin(a[0], 0, false)
	case opDup2:
		return k.dup2(a[0], a[1])
	case opDup3:
		return k.dup3(a[0], a[1], a[2])
	case opFcntl:
		return k.fcntl(a[0], a[1], a[2], p[2])
	case opIoctl:
		return k.ioctl(a[0], a[1], p[2])
	case opTruncate:
		return k.truncate(p[0], int64(a[1]))
	case opFtruncate:
		return k.ftruncate(a[0], int64(a[1]))
	case opFallocate:
		return k.fallocate(a[0], a[1], int64(a[2]), int64(a[3]))
	case opFsync, opFdatasync:
		return k.fsync(a[0], false)
	case opSyncfs:
		return k.fsync(a[0], true)
	case opSync:
		return 0, 0
	case opGetdents64:
		return k.getdents(a[0], p[1], a[2])
	// directories and names
	case opChdir:
		return k.chdir(p[0])
	case opFchdir:
		return k.fchdir(a[0])
	case opGetcwd:
		return k.getcwd(p[0], a[1])
	case opMkdir:
		return k.mkdirat(fdcwd, p[0], a[1])
	case opMkdirat:
		return k.mkdirat(a[0], p[1], a[2])
	case opRmdir:
		return k.unlinkat(fdcwd, p[0], atRemovedir)
	case opUnlink:
		return k.unlinkat(fdcwd, p[0], 0)
	case opUnlinkat:
		return k.unlinkat(a[0], p[1], a[2])
	case opLink:
		return k.linkat(fdcwd, p[0], fdcwd, p[1], 0)
	case opLinkat:
		return k.linkat(a[0], p[1], a[2], p[3], a[4])
	case opSymlink:
		return k.symlinkat(p[0], fdcwd, p[1])
	case opSymlinkat:
		return k.symlinkat(p[0], a[1], p[2])
	case opReadlink:
		return k.readlinkat(fdcwd, p[0], p[1], a[2])
	case opReadlinkat:
		return k.readlinkat(a[0], p[1], p[2], a[3])
	case opRename:
		return k.renameat(fdcwd, p[0], fdcwd, p[1], 0)
	case opRenameat:
		return k.renameat(a[0], p[1], a[2], p[3], 0)
	case opRenameat2:
		return k.renameat(a[0], p[1], a[2], p[3], a[4])
	case opMknod:
		return k.mknodat(fdcwd, p[0], a[1], a[2])
	case opMknodat:
		return k.mknodat(a[0], p[1], a[2], a[3])
	// metadata
	case opChmod:
		return k.fchmodat(fdcwd, p[0], a[1], true)
	case opFchmod:
		return k.fchmod(a[0], a[1])
	case opFchmodat:
		return k.fchmodat(a[0], p[1], a[2], true)
	case opChown:
		return k.fchownat(fdcwd, p[0], a[1], a[2], 0)
	case opLchown:
		return k.fchownat(fdcwd, p[0], a[1], a[2], atSymlinkNofollow)
	case opFchown:
		return k.fchown(a[0], a[1], a[2])
	case opFchownat:
		return k.fchownat(a[0], p[1], a[2], a[3], a[4])
	case opUtimensat:
		return k.utimensat(a[0], p[1], p[2], a[3])
	case opAccess:
		return k.faccessat(fdcwd, p[0], a[1], 0)
	case opFaccessat:
		return k.faccessat(a[0], p[1], a[2], 0)
	case opFaccessat2:
		return k.faccessat(a[0], p[1], a[2], a[3])
	case opFlock:
		return k.flock(a[0], a[1])
	case opUmask:
		return k.umaskCall(a[0])
	case opMemfdCreate:
		return k.memfdCreate(p[0], a[1])
	// extended attributes
	case opSetxattr, opLsetxattr:
		ino, e := k.xattrInode(0, p[0], o == opSetxattr, false)
		return k.setxattr(ino, e, p[1], p[2], a[3], a[4])
	case opFsetxattr:
		ino, e := k.xattrInode(a[0], nil, false, true)
		return k.setxattr(ino, e, p[1], p[2], a[3], a[4])
	case opGetxattr, opLgetxattr:
		ino, e := k.xattrInode(0, p[0], o == opGetxattr, false)
		return k.getxattr(ino, e, p[1], p[2], a[3])
	case opFgetxattr:
		ino, e := k.xattrInode(a[0], nil, false, true)
		return k.getxattr(ino, e, p[1], p[2], a[3])
	case opListxattr, opLlistxattr:
		ino, e := k.xattrInode(0, p[0], o == opListxattr, false)
		return k.listxattr(ino, e, p[1], a[2])
	case opFlistxattr:
		ino, e := k.xattrInode(a[0], nil, false, true)
		return k.listxattr(ino, e, p[1], a[2])
	case opRemovexattr, opLremovexattr:
		ino, e := k.xattrInode(0, p[0], o == opRemovexattr, false)
		return k.removexattr(ino, e, p[1])
	case opFremovexattr:
		ino, e := k.xattrInode(a[0], nil, false, true)
		return k.removexattr(ino, e, p[1])
	// copies
	case opCopyFileRange:
		return k.copyFileRange(a[0], p[1], a[2], p[3], a[4], a[5])
	case opSendfile:
		return k.sendfile(a[0], a[1], p[2], a[3])
	case opSplice:
		return k.splice(a[0], p[1], a[2], p[3], a[4], a[5])
	case opTee:
		return k.tee(a[0], a[1], a[2], a[3])

	// pipes and readiness
	case opPipe:
		return k.pipe2(p[0], 0)
	case opPipe2:
		return k.pipe2(p[0], a[1])
	case opEventfd:
		return k.eventfd(a[0], 0)
	case opEventfd2:
		return k.eventfd(a[0], a[1])
	case opPoll:
		return k.poll(p[0], a[1], deadlineMs(int64(int32(a[2]))), nil)
	case opPpoll:
		return k.ppoll(p[0], a[1], p[2], p[3], a[4])
	case opSelect:
		return k.selectTv(int64(int32(a[0])), p[1], p[2], p[3], p[4])
	case opPselect6:
		return k.pselect(int64(int32(a[0])), p[1], p[2], p[3], p[4], p[5], a[5])
	case opEpollCreate:
		if int32(a[0]) <= 0 {
			return 0, EINVAL
		}
		return k.epollCreate(0)
	case opEpollCreate1:
		return k.epollCreate(a[0])
	case opEpollCtl:
		return k.epollCtl(a[0], a[1], a[2], p[3])
	case opEpollWait:
		return k.epollWait(a[0], p[1], int64(int32(a[2])), deadlineMs(int64(int32(a[3]))), nil)
	case opEpollPwait:
		m, e := sigmaskArg(p[4], a[5])
		if e != 0 {
			return 0, e
		}
		return k.epollWait(a[0], p[1], int64(int32(a[2])), deadlineMs(int64(int32(a[3]))), m)
	case opEpollPwait2:
		d, e := deadlineTs(p[3])
		if e != 0 {
			return 0, e
		}
		m, e := sigmaskArg(p[4], a[5])
		if e != 0 {
			return 0, e
		}
		return k.epollWait(a[0], p[1], int64(int32(a[2])), d, m)
	case opSignalfd:
		return k.signalfd(int64(int32(a[0])), p[1], a[2], 0)
	case opSignalfd4:
		return k.signalfd(int64(int32(a[0])), p[1], a[2], a[3])
	case opRtSigprocmask:
		return k.rtSigprocmask(a[0], p[1], p[2], a[3])
	case opRtSigpending:
		return k.rtSigpending(p[0], a[1])
	case opKill:
		return k.kill(int64(int32(a[0])), int64(int32(a[1])))
	case opTkill:
		return k.tgkill(-1, int64(int32(a[0])), int64(int32(a[1])))
	case opTgkill:
		return k.tgkill(int64(int32(a[0])), int64(int32(a[1])), int64(int32(a[2])))
	case opInotifyInit:
		return k.inotifyInit(0)
	case opInotifyInit1:
		return k.inotifyInit(a[0])
	case opInotifyAddWatch:
		return k.inotifyAddWatch(a[0], p[1], a[2])
	case opInotifyRmWatch:
		return k.inotifyRmWatch(a[0], int32(a[1]))
	case opTimerfdCreate:
		return k.timerfdCreate(int64(int32(a[0])), a[1])
	case opTimerfdSettime:
		return k.timerfdSettime(a[0], a[1], p[2], p[3])
	case opTimerfdGettime:
		return k.timerfdGettime(a[0], p[1])

	// time
	case opClockGettime:
		return k.clockGettime(int64(int32(a[0])), p[1])
	case opClockGetres:
		return k.clockGetres(int64(int32(a[0])), p[1])
	case opClockSettime:
		return k.clockSettime(int64(int32(a[0])), p[1])
	case opClockNanosleep:
		return k.clockNanosleep(int64(int32(a[0])), a[1], p[2], p[3])
	case opNanosleep:
		return k.nanosleep(p[0], p[1])
	case opGettimeofday:
		return k.gettimeofday(p[0], p[1])
	case opTime:
		return k.time(p[0])
	case opTimes:
		return k.times(p[0])
	case opTimerCreate:
		return k.timerCreate(int64(int32(a[0])), p[1], p[2])
	case opTimerSettime:
		return k.timerSettime(int32(a[0]), a[1], p[2], p[3])
	case opTimerGettime:
		return k.timerGettime(int32(a[0]), p[1])
	case opTimerGetoverrun:
		return k.timerGetoverrun(int32(a[0]))
	case opTimerDelete:
		return k.timerDelete(int32(a[0]))
	case opGetitimer:
		return k.getitimer(a[0], p[1])
	case opSetitimer:
		return k.setitimer(a[0], p[1], p[2])

	// the process
	case opGetpid:
		return uintptr(k.pid), 0
	case opGettid:
		return uintptr(platformGettid()), 0
	case opGetppid, opGetuid, opGeteuid, opGetgid, opGetegid:
		return 0, 0
	case opGetpgrp:
		return uintptr(k.pid), 0
	case opGetpgid, opGetsid:
		// One process, leading its group and its session.
		if pid := int32(a[0]); pid != 0 && pid != k.pid {
			return 0, ESRCH
		}
		return uintptr(k.pid), 0
	case opSetpgid:
		pid, pg := int32(a[0]), int32(a[1])
		switch {
		case pid < 0 || pg < 0:
			return 0, EINVAL
		case pid != 0 && pid != k.pid:
			return 0, ESRCH
		}
		return 0, EPERM // a session leader keeps its group
	case opSetsid:
		return 0, EPERM // already a group leader
	case opUname:
		return k.uname(p[0])
	case opGetrandom:
		return k.getrandom(p[0], a[1], a[2])
	case opSchedYield:
		runtime.Gosched()
		return 0, 0
	case opExitGroup:
		platformExit(int(a[0] & 0xff))
		return 0, 0
	}
	return 0, ENOSYS
}

// The identity uname reports.
const (
	utsSysname  = "Linux" // the ABI it speaks
	utsNodename = "anykernel"
	utsRelease  = "6.1.0-anykernel-xen"
	utsVersion  = "#1 anykernel library OS"
	utsMachine  = "x86_64"
)

func (k *kernel) uname(p unsafe.Pointer) (uintptr, Errno) {
	if p == nil {
		return 0, EFAULT
	}
	o := newOut(p, "utsname")
	o.str("sysname", utsSysname)
	o.str("nodename", utsNodename)
	o.str("release", utsRelease)
	o.str("version", utsVersion)
	o.str("machine", utsMachine)
	o.str("domainname", "(none)")
	return 0, 0
}
