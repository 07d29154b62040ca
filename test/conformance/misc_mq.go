package conformance

import (
	"errors"
	"io/fs"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/anykernel/anykernel/api"
)

// The mqueue family: POSIX message queues.

func init() {
	Register(
		Case{Family: "mqueue", Call: "mq_open", Run: testMqOpen},
		Case{Family: "mqueue", Call: "mq_unlink", Run: testMqUnlink},
		Case{Family: "mqueue", Call: "mq_timedsend", Run: testMqPriorities},
		Case{Family: "mqueue", Call: "mq_timedreceive", Run: testMqTimeouts},
		Case{Family: "mqueue", Call: "mq_notify", Run: testMqNotify},
		Case{Family: "mqueue", Call: "mq_getsetattr", Run: testMqGetsetattr},
	)
}

var mqSeq atomic.Int64

// mqName returns a queue name no other test (or run) uses.
func mqName(e *Env) string {
	return "/anykernel-" + strconv.Itoa(e.K.Getpid()) + "-" + strconv.FormatInt(mqSeq.Add(1), 10)
}

// mqCreate creates a small queue that the case removes at the end.
func mqCreate(t T, e *Env, flags api.OpenFlags) (*api.Fd, string) {
	t.Helper()
	name := mqName(e)
	q, err := e.K.MqOpen(name, api.O_RDWR|api.O_CREAT|api.O_EXCL|api.O_CLOEXEC|flags, 0o600,
		&api.MqAttr{Maxmsg: 4, Msgsize: 64})
	NoSys(t, err)
	OK(t, err, "mq_open %s", name)
	t.Cleanup(func() {
		q.Close()
		e.K.MqUnlink(name)
	})
	return q, name
}

func testMqOpen(t T, e *Env) {
	k := e.K
	q, name := mqCreate(t, e, 0)
	a, err := q.MqGetattr()
	OK(t, err)
	Eq(t, a.Maxmsg, int64(4), "maxmsg from the attributes given")
	Eq(t, a.Msgsize, int64(64), "msgsize")
	Eq(t, a.Curmsgs, int64(0), "empty")
	_, err = k.MqOpen(name, api.O_RDWR|api.O_CREAT|api.O_EXCL, 0o600, nil)
	Want(t, err, fs.ErrExist, "O_EXCL on an existing queue")
	// A second descriptor on the same queue sees what the first sends.
	r, err := k.MqOpen(name, api.O_RDONLY|api.O_CLOEXEC, 0, nil)
	OK(t, err, "open existing")
	defer r.Close()
	OK(t, q.MqSend([]byte("via q"), 1))
	buf := make([]byte, 64)
	n, _, err := r.MqReceive(buf)
	OK(t, err)
	Eq(t, string(buf[:n]), "via q")
	_, _, err = r.MqReceive(buf[:10])
	True(t, err != nil, "receive needs room")
	// Defaults when no attributes are given.
	name2 := mqName(e)
	d, err := k.MqOpen(name2, api.O_RDWR|api.O_CREAT|api.O_EXCL|api.O_CLOEXEC, 0o600, nil)
	OK(t, err, "create with default attributes")
	defer k.MqUnlink(name2)
	defer d.Close()
	da, err := d.MqGetattr()
	OK(t, err)
	True(t, da.Maxmsg > 0 && da.Msgsize > 0, "default sizes %+v", da)
	// Bad names and inputs.
	_, err = k.MqOpen("noslash", api.O_RDONLY, 0, nil)
	Want(t, err, api.EINVAL, "name without a leading slash")
	_, err = k.MqOpen("/a/b", api.O_RDONLY, 0, nil)
	Want(t, err, api.EINVAL, "name with two components")
	_, err = k.MqOpen("/a\x00b", api.O_RDONLY, 0, nil)
	Want(t, err, api.EINVAL, "NUL in a name")
	_, err = k.MqOpen(mqName(e), api.O_RDONLY, 0, nil)
	Want(t, err, fs.ErrNotExist, "missing queue")
	var pe *fs.PathError
	True(t, errors.As(err, &pe), "the error names the queue: %v", err)
	_, err = k.MqOpen(mqName(e), api.O_RDWR|api.O_CREAT, 0o600, &api.MqAttr{Maxmsg: -1, Msgsize: 8})
	Want(t, err, api.EINVAL, "negative maxmsg")
	_, err = k.MqOpen(mqName(e), api.O_RDWR|api.O_CREAT, 0o600, &api.MqAttr{Maxmsg: 0, Msgsize: 8})
	Want(t, err, api.EINVAL, "zero maxmsg")
}

func testMqUnlink(t T, e *Env) {
	k := e.K
	q, name := mqCreate(t, e, 0)
	OK(t, k.MqUnlink(name), "mq_unlink")
	// The open descriptor keeps working.
	OK(t, q.MqSend([]byte("still here"), 0))
	buf := make([]byte, 64)
	n, _, err := q.MqReceive(buf)
	OK(t, err)
	Eq(t, string(buf[:n]), "still here")
	_, err = k.MqOpen(name, api.O_RDONLY, 0, nil)
	Want(t, err, fs.ErrNotExist, "open after unlink")
	err = k.MqUnlink(name)
	Want(t, err, fs.ErrNotExist, "second unlink")
	var pe *fs.PathError
	True(t, errors.As(err, &pe) && pe.Path == name, "error names the queue: %v", err)
	Want(t, k.MqUnlink("bad"), api.EINVAL, "bad name")
}

// testMqPriorities sends three messages and receives them by priority.
func testMqPriorities(t T, e *Env) {
	q, _ := mqCreate(t, e, 0)
	OK(t, q.MqSend([]byte("low"), 1), "send")
	OK(t, q.MqTimedsend([]byte("high"), 20, time.Now().Add(time.Second)), "timed send")
	OK(t, q.MqSend([]byte("mid"), 5), "send")
	OK(t, q.MqSend([]byte("mid2"), 5), "same priority: FIFO")
	a, err := q.MqGetattr()
	OK(t, err)
	Eq(t, a.Curmsgs, int64(4), "four queued")
	buf := make([]byte, 64)
	for _, w := range []struct {
		msg  string
		prio uint
	}{{"high", 20}, {"mid", 5}, {"mid2", 5}, {"low", 1}} {
		n, prio, err := q.MqReceive(buf)
		OK(t, err, "receive")
		Eq(t, string(buf[:n]), w.msg, "message order")
		Eq(t, prio, w.prio, "priority of %q", w.msg)
	}
	// Full queue: a timed send times out.
	for i := 0; i < 4; i++ {
		OK(t, q.MqSend([]byte{byte(i)}, 0))
	}
	start := time.Now()
	err = q.MqTimedsend([]byte("x"), 0, time.Now().Add(50*time.Millisecond))
	Want(t, err, api.ETIMEDOUT, "send to a full queue")
	True(t, time.Since(start) >= 40*time.Millisecond, "waited for the deadline")
	Want(t, q.MqSend(make([]byte, 65), 0), api.EMSGSIZE, "message larger than msgsize")
	if big, ok := Wide(40); ok {
		Want(t, q.MqSend([]byte("x"), uint(big)), api.EINVAL, "priority out of range")
	}
	OK(t, q.Close())
	Want(t, q.MqSend([]byte("x"), 0), api.EBADF, "send after close")
}

// testMqTimeouts receives with a deadline and without waiting.
func testMqTimeouts(t T, e *Env) {
	q, _ := mqCreate(t, e, 0)
	buf := make([]byte, 64)
	start := time.Now()
	_, _, err := q.MqTimedreceive(buf, time.Now().Add(50*time.Millisecond))
	Want(t, err, api.ETIMEDOUT, "receive from an empty queue")
	True(t, time.Since(start) >= 40*time.Millisecond, "waited for the deadline")
	// A message sent meanwhile ends the wait.
	go func() {
		time.Sleep(20 * time.Millisecond)
		q.MqSend([]byte("late"), 3)
	}()
	n, prio, err := q.MqTimedreceive(buf, time.Now().Add(2*time.Second))
	OK(t, err, "timed receive")
	Eq(t, string(buf[:n]), "late")
	Eq(t, prio, uint(3))
	// Non-blocking: EAGAIN at once.
	nb, _ := mqCreate(t, e, api.O_NONBLOCK)
	_, _, err = nb.MqReceive(buf)
	Want(t, err, api.EAGAIN, "receive from an empty O_NONBLOCK queue")
	_, _, err = q.MqReceive(buf[:8])
	Want(t, err, api.EMSGSIZE, "buffer smaller than msgsize")
	_, _, err = q.MqTimedreceive(buf, time.Unix(0, -5))
	Want(t, err, api.EINVAL, "deadline before 1970")
	var nilFd *api.Fd
	_, _, err = nilFd.MqReceive(buf)
	Want(t, err, api.EBADF, "nil descriptor")
}

func testMqNotify(t T, e *Env) {
	q, _ := mqCreate(t, e, 0)
	none := &api.Sigevent{Notify: api.SIGEV_NONE}
	OK(t, q.MqNotify(none), "register (SIGEV_NONE)")
	Want(t, q.MqNotify(none), api.EBUSY, "a second registration")
	OK(t, q.MqNotify(nil), "unregister")
	OK(t, q.MqNotify(none), "register again")
	// A message to the empty queue consumes the registration.
	OK(t, q.MqSend([]byte("n"), 0))
	OK(t, q.MqNotify(none), "registration was used up by the message")
	OK(t, q.MqNotify(nil))
	Want(t, q.MqNotify(&api.Sigevent{Notify: api.SIGEV_NONE, ThreadID: 1}), api.EINVAL, "thread id")
	Want(t, q.MqNotify(&api.Sigevent{Notify: api.SigevNotify(99)}), api.EINVAL, "unknown notify kind")
	OK(t, q.Close())
	Want(t, q.MqNotify(none), api.EBADF, "after close")
}

func testMqGetsetattr(t T, e *Env) {
	q, _ := mqCreate(t, e, 0)
	a, err := q.MqGetattr()
	OK(t, err, "getattr")
	Eq(t, a.Flags, api.OpenFlags(0), "blocking")
	old, err := q.MqSetattr(api.MqAttr{Flags: api.O_NONBLOCK})
	OK(t, err, "setattr")
	Eq(t, old, a, "returns the old attributes")
	a, err = q.MqGetattr()
	OK(t, err)
	Eq(t, a.Flags, api.O_NONBLOCK, "now non-blocking")
	Eq(t, a.Maxmsg, int64(4), "sizes do not change")
	_, _, err = q.MqReceive(make([]byte, 64))
	Want(t, err, api.EAGAIN, "the flag applies")
	_, err = q.MqSetattr(api.MqAttr{Flags: api.O_CREAT})
	Want(t, err, api.EINVAL, "only O_NONBLOCK")
	OK(t, q.Close())
	_, err = q.MqGetattr()
	Want(t, err, api.EBADF, "after close")
	f := termNotTTY(t, e)
	_, err = f.MqGetattr()
	Want(t, err, api.EBADF, "not a queue")
}
