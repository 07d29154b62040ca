package api

import (
	"strconv"
	"unsafe"
)

// fanotify: file access notification, and permission decisions, for whole
// mounts or file systems as well as for single files and directories.
// Unlike inotify, each event comes with a descriptor of the file, opened
// for the listener, and the pid of the process that acted; permission
// events hold that process until the listener answers. fanotify_init
// needs CAP_SYS_ADMIN (Linux 5.13 lets others use a restricted form:
// FAN_REPORT_FID, no permission events).

var (
	sysFanotifyInit = newCall("fanotify_init")
	sysFanotifyMark = newCall("fanotify_mark")
)

// fanRespBufSize bounds struct fanotify_response (Linux: 8 bytes).
const fanRespBufSize = 16

// fanState is fanotify's per-Kernel state.
type fanState struct {
	ok bool // the event and response layouts and the constants are known

	meta                                layout // struct fanotify_event_metadata
	evLen, vers, metaLen, mask, fd, pid fieldAt
	resp                                layout // struct fanotify_response
	respFd, respResp                    fieldAt
	version                             uint64 // FANOTIFY_METADATA_VERSION
	checkVersion                        bool   // the table has it
	nofd                                uint64 // FAN_NOFD, as the fd field's bits
}

func (s *fanState) init(k *Kernel) error {
	s.meta = k.optLayout("fanotify_event_metadata")
	s.resp = k.optLayout("fanotify_response")
	if s.meta.s == nil || s.resp.s == nil {
		return nil
	}
	if fieldsOf(s.meta, 64, &s.evLen, "event_len", &s.vers, "vers", &s.metaLen, "metadata_len",
		&s.mask, "mask", &s.fd, "fd", &s.pid, "pid") != nil {
		return nil
	}
	if fieldsOf(s.resp, fanRespBufSize, &s.respFd, "fd", &s.respResp, "response") != nil {
		return nil
	}
	nofd, ok := k.table.Const("FAN_NOFD")
	if !ok {
		return nil
	}
	// The version guards against a kernel whose events are laid out
	// differently from the table's struct; a table without the constant
	// is trusted as it is.
	s.version, s.checkVersion = k.table.Const("FANOTIFY_METADATA_VERSION")
	// The fd field is an int32: compare its bits.
	s.nofd = nofd & (1<<(8*uint(s.fd.size)) - 1)
	s.ok = true
	return nil
}

// FanotifyEvent is one event read from a fanotify descriptor.
type FanotifyEvent struct {
	Mask FanEvents
	// Fd is the file the event is about, opened for the listener with
	// the event flags of FanotifyInit; the caller owns it (it closes itself
	// when dropped). Answer a permission event with FanotifyRespond before
	// closing it. nil when the event has no descriptor (FAN_Q_OVERFLOW, or
	// groups that report file handles instead: FAN_REPORT_FID).
	Fd *Fd
	// Pid is the process that caused the event (its thread under
	// FAN_REPORT_TID); 0 when it is not visible in the listener's pid
	// namespace.
	Pid int
	// Info holds the information records that follow the metadata (file
	// handles, names, a pidfd under FAN_REPORT_PIDFD that the caller must
	// close), raw; nil when there are none.
	Info []byte
}

// FanotifyInit creates a fanotify group. flags pick the class
// (FAN_CLASS_NOTIF for notifications only; FAN_CLASS_CONTENT or
// FAN_CLASS_PRE_CONTENT for permission events), FAN_CLOEXEC, FAN_NONBLOCK
// and reporting options; eventFlags are the open flags of the descriptors
// that events carry (O_RDONLY|O_CLOEXEC, typically, with O_LARGEFILE).
func (k *Kernel) FanotifyInit(flags FanInitFlags, eventFlags OpenFlags) (*Fd, error) {
	const op = "fanotify_init"
	fl, err := k.miscBits(op, fanInitFlagsFamily, uint64(flags))
	if err != nil {
		return nil, err
	}
	ef, err := k.miscBits(op, openFlagsFamily, uint64(eventFlags))
	if err != nil {
		return nil, err
	}
	if !k.misc.fan.ok {
		return nil, callErr(op, ENOSYS)
	}
	r, e := k.syscall(sysFanotifyInit, uintptr(fl), uintptr(ef), 0, 0, 0, 0)
	if e != 0 {
		return nil, callErr(op, e)
	}
	return k.newFd(r), nil
}

// FanotifyMark adds, removes or flushes marks of the group f: which events
// (mask) to report for an object. The object is path relative to dir (nil:
// the current directory); an empty path means dir itself. flags say what
// to do (FAN_MARK_ADD, FAN_MARK_REMOVE, FAN_MARK_FLUSH) and the object's
// kind: the inode (default), its whole mount (FAN_MARK_MOUNT) or file
// system (FAN_MARK_FILESYSTEM). Events of a directory's children need
// FAN_EVENT_ON_CHILD in mask.
func (f *Fd) FanotifyMark(flags FanMarkFlags, mask FanEvents, dir *Fd, path string) error {
	const op = "fanotify_mark"
	if f == nil {
		return callErr(op, EBADF)
	}
	k := f.k
	fl, err := k.miscBits(op, fanMarkFlagsFamily, uint64(flags))
	if err != nil {
		return err
	}
	m, err := k.miscBits(op, fanEventsFamily, uint64(mask))
	if err != nil {
		return err
	}
	var pb pathBuf
	p := unsafe.Pointer(nil)
	if path != "" {
		if p, err = pb.cstr(op, path); err != nil {
			return err
		}
	}
	n, e := f.acquire()
	if e != 0 {
		return callErr(op, e)
	}
	d, e := k.dirfd(dir)
	if e != 0 {
		f.release()
		return pathErr(op, path, e)
	}
	// The mask is a u64: two slots on 32-bit targets.
	_, e = k.syscallW(sysFanotifyMark, 2, noArg64, m, 0, n, uintptr(fl), d, uintptr(p), 0)
	k.releaseDir(dir)
	f.release()
	if e != 0 {
		return pathErr(op, path, e)
	}
	return nil
}

// FanotifyRead reads one batch of events from the group f into buf (4 KiB
// holds many; it must hold one event) and appends them to evs. It blocks
// until an event arrives, unless the group is FAN_NONBLOCK (EAGAIN then).
func (f *Fd) FanotifyRead(buf []byte, evs []FanotifyEvent) ([]FanotifyEvent, error) {
	const op = "fanotify_read"
	if f == nil {
		return evs, callErr(op, EBADF)
	}
	k := f.k
	s := &k.misc.fan
	if !s.ok {
		return evs, callErr(op, ENOSYS)
	}
	if len(buf) < s.meta.size {
		return evs, badArg(op, "buffer smaller than one event ("+strconv.Itoa(s.meta.size)+" bytes)")
	}
	n, err := f.Read(buf)
	if err != nil {
		return evs, err
	}
	be := s.meta.be
	b := buf[:n]
	for len(b) >= s.meta.size {
		el := int(s.evLen.uint(b, be))
		ml := int(s.metaLen.uint(b, be))
		if v := s.vers.uint(b, be); s.checkVersion && v != s.version {
			return evs, miscErr(op, errMissing("fanotify metadata version "+strconv.FormatUint(v, 10)+
				" (the table has "+strconv.FormatUint(s.version, 10)+")"))
		}
		if ml < s.meta.size || el < ml || el > len(b) {
			return evs, callErr(op, EIO)
		}
		ev := FanotifyEvent{
			Mask: FanEvents(k.flagsFromABI(fanEventsFamily, s.mask.uint(b, be))),
			Pid:  int(s.pid.int(b, be)),
		}
		if fd := s.fd.uint(b, be); fd != s.nofd && s.fd.int(b, be) >= 0 {
			ev.Fd = k.newFd(uintptr(fd))
		}
		if el > ml {
			ev.Info = append([]byte(nil), b[ml:el]...)
		}
		evs = append(evs, ev)
		b = b[el:]
	}
	return evs, nil
}

// FanotifyRespond answers a permission event (FAN_OPEN_PERM,
// FAN_ACCESS_PERM, FAN_OPEN_EXEC_PERM) of the group f: file is the event's
// Fd, response FAN_ALLOW or FAN_DENY (the process's call then fails with
// EPERM), optionally with FAN_AUDIT.
func (f *Fd) FanotifyRespond(file *Fd, response FanResponse) error {
	const op = "fanotify_response"
	if f == nil || file == nil {
		return callErr(op, EBADF)
	}
	k := f.k
	s := &k.misc.fan
	if !s.ok {
		return callErr(op, ENOSYS)
	}
	if file.k != k {
		return callErr(op, EBADF)
	}
	r, err := k.miscBits(op, fanResponseFamily, uint64(response))
	if err != nil {
		return err
	}
	n, e := file.acquire()
	if e != 0 {
		return callErr(op, e)
	}
	var raw [fanRespBufSize]byte
	s.respFd.put(raw[:], s.resp.be, uint64(n))
	s.respResp.put(raw[:], s.resp.be, r)
	_, err = f.Write(raw[:s.resp.size])
	file.release()
	return err
}
