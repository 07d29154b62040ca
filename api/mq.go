package api

import (
	"io/fs"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// POSIX message queues. On Linux a queue descriptor (mqd_t) is a file
// descriptor, so MqOpen returns an *Fd: it closes itself, and it can be
// polled or put in an epoll set (readable when a message waits, writable
// when there is room). The calls work without /dev/mqueue being mounted;
// mounting it (type mqueue) only shows the queues as files.

var (
	sysMqOpen         = newCall("mq_open")
	sysMqUnlink       = newCall("mq_unlink")
	sysMqTimedsend    = newCall("mq_timedsend")
	sysMqTimedreceive = newCall("mq_timedreceive")
	sysMqNotify       = newCall("mq_notify")
	sysMqGetsetattr   = newCall("mq_getsetattr")
)

// mqAttrBufSize bounds struct mq_attr (Linux: 64 bytes).
const mqAttrBufSize = 64

// MqAttr is a queue's attributes (struct mq_attr).
type MqAttr struct {
	Flags   OpenFlags // 0 or O_NONBLOCK: the only flag a queue has
	Maxmsg  int64     // most messages the queue holds
	Msgsize int64     // largest message, bytes
	Curmsgs int64     // messages in the queue now (read only)
}

// mqState is the message queues' per-Kernel state.
type mqState struct {
	attr                      layout // size 0: the ABI has no struct mq_attr (ENOSYS)
	flags, maxmsg, size, curm fieldAt
}

func (s *mqState) init(k *Kernel) error {
	l := k.optLayout("mq_attr")
	if l.s == nil || l.size > mqAttrBufSize {
		return nil
	}
	if fieldsOf(l, mqAttrBufSize, &s.flags, "mq_flags", &s.maxmsg, "mq_maxmsg",
		&s.size, "mq_msgsize", &s.curm, "mq_curmsgs") != nil {
		return nil
	}
	s.attr = l
	return nil
}

func (s *mqState) put(k *Kernel, op string, b []byte, a *MqAttr) error {
	fl, err := k.flagsToABI(openFlagsFamily, uint64(a.Flags))
	if err != nil {
		return miscErr(op, err)
	}
	if a.Maxmsg < 0 || a.Msgsize < 0 {
		return badArg(op, "negative Maxmsg or Msgsize")
	}
	be := s.attr.be
	s.flags.put(b, be, fl)
	s.maxmsg.put(b, be, uint64(a.Maxmsg))
	s.size.put(b, be, uint64(a.Msgsize))
	s.curm.put(b, be, uint64(a.Curmsgs))
	return nil
}

func (s *mqState) get(k *Kernel, b []byte) MqAttr {
	be := s.attr.be
	return MqAttr{
		Flags:   OpenFlags(k.flagsFromABI(openFlagsFamily, s.flags.uint(b, be))),
		Maxmsg:  s.maxmsg.int(b, be),
		Msgsize: s.size.int(b, be),
		Curmsgs: s.curm.int(b, be),
	}
}

// mqName checks a queue name as the C library does ("/name", no other
// slash) and returns it without the slash, which is how the kernel wants it.
func mqName(op, name string) (string, error) {
	if !strings.HasPrefix(name, "/") {
		return "", badArg(op, "queue name "+strconv.Quote(name)+" does not start with /")
	}
	n := name[1:]
	if n == "" || strings.IndexByte(n, '/') >= 0 {
		return "", badArg(op, "queue name "+strconv.Quote(name)+" must be / and one component")
	}
	return n, nil
}

// MqOpen opens the message queue name ("/name"), creating it under
// O_CREAT with mode and attr (nil: the system's defaults, see
// /proc/sys/fs/mqueue). flags hold O_RDONLY, O_WRONLY or O_RDWR and
// O_CREAT, O_EXCL, O_NONBLOCK, O_CLOEXEC.
func (k *Kernel) MqOpen(name string, flags OpenFlags, mode Mode, attr *MqAttr) (*Fd, error) {
	const op = "mq_open"
	n, err := mqName(op, name)
	if err != nil {
		return nil, err
	}
	fl, err := k.flagsToABI(openFlagsFamily, uint64(flags))
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	var raw [mqAttrBufSize]byte
	ap := unsafe.Pointer(nil)
	if attr != nil {
		if k.misc.mq.attr.s == nil {
			return nil, pathErr(op, name, ENOSYS)
		}
		if err := k.misc.mq.put(k, op, raw[:], attr); err != nil {
			return nil, err
		}
		ap = unsafe.Pointer(&raw)
	}
	var pb pathBuf
	p, err := pb.cstr(op, n)
	if err != nil {
		return nil, err
	}
	r, e := k.syscall(sysMqOpen, uintptr(p), uintptr(fl), uintptr(mode), uintptr(ap), 0, 0)
	if e != 0 {
		return nil, pathErr(op, name, e)
	}
	return k.newFd(r), nil
}

// MqUnlink removes the queue name ("/name"); descriptors open on it keep
// working until closed.
func (k *Kernel) MqUnlink(name string) error {
	const op = "mq_unlink"
	n, err := mqName(op, name)
	if err != nil {
		return err
	}
	var pb pathBuf
	p, err := pb.cstr(op, n)
	if err != nil {
		return err
	}
	_, e := k.syscall(sysMqUnlink, uintptr(p), 0, 0, 0, 0, 0)
	if e != 0 {
		return pathErr(op, name, e)
	}
	return nil
}

// mqDeadline encodes an absolute CLOCK_REALTIME deadline as the ABI's
// struct timespec in b.
func (k *Kernel) mqDeadline(b []byte, deadline time.Time) {
	k.timers.putTimespec(b, Timespec{deadline.Unix(), int64(deadline.Nanosecond())})
}

// MqSend adds msg to the queue with priority prio (higher is received
// first; below MQ_PRIO_MAX, 32768 on Linux). On a full queue it waits,
// or fails with EAGAIN when the queue is O_NONBLOCK.
func (f *Fd) MqSend(msg []byte, prio uint) error {
	return f.mqSend(msg, prio, false, time.Time{})
}

// MqTimedsend is MqSend that gives up with ETIMEDOUT at deadline
// (CLOCK_REALTIME, as the kernel measures it).
func (f *Fd) MqTimedsend(msg []byte, prio uint, deadline time.Time) error {
	return f.mqSend(msg, prio, true, deadline)
}

func (f *Fd) mqSend(msg []byte, prio uint, timed bool, deadline time.Time) error {
	const op = "mq_timedsend"
	if uint64(prio) > 1<<31-1 {
		return badArg(op, "priority does not fit 31 bits")
	}
	if f == nil {
		return callErr(op, EBADF)
	}
	var ts [timespecBufSize]byte
	tp := unsafe.Pointer(nil)
	if timed {
		f.k.mqDeadline(ts[:], deadline)
		tp = unsafe.Pointer(&ts)
	}
	n, e := f.acquire()
	if e != 0 {
		return callErr(op, e)
	}
	_, e = f.k.syscall(sysMqTimedsend, n, uintptr(bufPtr(msg)), uintptr(len(msg)), uintptr(prio), uintptr(tp), 0)
	f.release()
	if e != 0 {
		return callErr(op, e)
	}
	return nil
}

// MqReceive takes the oldest message of the highest priority into buf and
// returns its length and priority. buf must hold the queue's Msgsize
// (else EMSGSIZE). On an empty queue it waits, or fails with EAGAIN when
// the queue is O_NONBLOCK.
func (f *Fd) MqReceive(buf []byte) (n int, prio uint, err error) {
	return f.mqReceive(buf, false, time.Time{})
}

// MqTimedreceive is MqReceive that gives up with ETIMEDOUT at deadline
// (CLOCK_REALTIME).
func (f *Fd) MqTimedreceive(buf []byte, deadline time.Time) (n int, prio uint, err error) {
	return f.mqReceive(buf, true, deadline)
}

func (f *Fd) mqReceive(buf []byte, timed bool, deadline time.Time) (int, uint, error) {
	const op = "mq_timedreceive"
	if f == nil {
		return 0, 0, callErr(op, EBADF)
	}
	var ts [timespecBufSize]byte
	tp := unsafe.Pointer(nil)
	if timed {
		f.k.mqDeadline(ts[:], deadline)
		tp = unsafe.Pointer(&ts)
	}
	var prio uint32
	n, e := f.acquire()
	if e != 0 {
		return 0, 0, callErr(op, e)
	}
	r, e := f.k.syscall(sysMqTimedreceive, n, uintptr(bufPtr(buf)), uintptr(len(buf)), uintptr(unsafe.Pointer(&prio)), uintptr(tp), 0)
	f.release()
	if e != 0 {
		return 0, 0, callErr(op, e)
	}
	return int(r), uint(prio), nil
}

// MqNotify asks the kernel to notify this process once when a message
// arrives in the empty queue and no receiver is waiting (mq_notify), as ev
// says: SIGEV_SIGNAL sends ev.Signo with ev.Value, SIGEV_NONE only
// registers (no other process can then register). nil removes this
// process's registration. A second registration is EBUSY.
//
// A Go program rarely wants the signal: the runtime uses signals itself.
// SIGEV_THREAD is a C library construction (a thread started on a
// netlink message) and is not offered.
func (f *Fd) MqNotify(ev *Sigevent) error {
	const op = "mq_notify"
	if f == nil {
		return callErr(op, EBADF)
	}
	k := f.k
	s := &k.timers
	var raw [sigeventBufSize]byte
	p := unsafe.Pointer(nil)
	if ev != nil {
		if s.sev.s == nil {
			return callErr(op, ENOSYS)
		}
		note, err := k.enumToABI(sigevNotifyFamily, uint64(ev.Notify))
		if err != nil {
			return miscErr(op, err)
		}
		var signo uint64
		if ev.Notify != SIGEV_NONE {
			sig, err := k.procSigArg(op, ev.Signo)
			if err != nil {
				return err
			}
			signo = uint64(sig)
		}
		b, be := raw[:], s.sev.be
		s.sevValue.put(b, be, ev.Value)
		s.sevSigno.put(b, be, signo)
		s.sevNote.put(b, be, note)
		if ev.ThreadID != 0 {
			return badArg(op, "a queue notifies a process, not a thread")
		}
		p = unsafe.Pointer(&raw)
	}
	_, err := f.fdBufCall(op, sysMqNotify, p, 0, 0)
	return err
}

// MqGetattr returns the queue's attributes.
func (f *Fd) MqGetattr() (MqAttr, error) {
	const op = "mq_getsetattr"
	if f == nil {
		return MqAttr{}, callErr(op, EBADF)
	}
	s := &f.k.misc.mq
	if s.attr.s == nil {
		return MqAttr{}, callErr(op, ENOSYS)
	}
	var old [mqAttrBufSize]byte
	n, e := f.acquire()
	if e != 0 {
		return MqAttr{}, callErr(op, e)
	}
	_, e = f.k.syscall(sysMqGetsetattr, n, 0, uintptr(unsafe.Pointer(&old)), 0, 0, 0)
	f.release()
	if e != 0 {
		return MqAttr{}, callErr(op, e)
	}
	return s.get(f.k, old[:]), nil
}

// MqSetattr changes the queue's flags to attr.Flags (O_NONBLOCK or 0; the
// sizes cannot change after creation) and returns the attributes it had.
func (f *Fd) MqSetattr(attr MqAttr) (MqAttr, error) {
	const op = "mq_getsetattr"
	if f == nil {
		return MqAttr{}, callErr(op, EBADF)
	}
	s := &f.k.misc.mq
	if s.attr.s == nil {
		return MqAttr{}, callErr(op, ENOSYS)
	}
	if attr.Flags&^O_NONBLOCK != 0 {
		return MqAttr{}, badArg(op, "flags other than O_NONBLOCK: "+(attr.Flags&^O_NONBLOCK).String())
	}
	var nw, old [mqAttrBufSize]byte
	if err := s.put(f.k, op, nw[:], &attr); err != nil {
		return MqAttr{}, err
	}
	n, e := f.acquire()
	if e != 0 {
		return MqAttr{}, callErr(op, e)
	}
	_, e = f.k.syscall(sysMqGetsetattr, n, uintptr(unsafe.Pointer(&nw)), uintptr(unsafe.Pointer(&old)), 0, 0, 0)
	f.release()
	if e != 0 {
		return MqAttr{}, callErr(op, e)
	}
	return s.get(f.k, old[:]), nil
}
