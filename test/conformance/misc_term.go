package conformance

import (
	"errors"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/anykernel/anykernel/api"
)

// The terminal family: pseudo-terminal pairs, termios and the line
// discipline, window sizes, flushing, the controlling terminal.

func init() {
	Register(
		Case{Family: "terminal", Call: "openpt", Run: testOpenpt},
		Case{Family: "terminal", Call: "grantpt", Run: testGrantpt},
		Case{Family: "terminal", Call: "ioctl_TIOCSPTLCK", Run: testUnlockpt},
		Case{Family: "terminal", Call: "ioctl_TIOCGPTLCK", Run: testPtlocked},
		Case{Family: "terminal", Call: "ioctl_TIOCGPTN", Run: testPtsname},
		Case{Family: "terminal", Call: "ioctl_TIOCGPTPEER", Run: testOpenPeer},
		Case{Family: "terminal", Call: "openpty", Run: testOpenpty},
		Case{Family: "terminal", Call: "ioctl_TCGETS", Run: testTcgetattr},
		Case{Family: "terminal", Call: "ioctl_TCSETS", Run: testTcsetattrEcho},
		Case{Family: "terminal", Call: "ioctl_TCSETSW", Run: testTcsetattrSpeed},
		Case{Family: "terminal", Call: "ioctl_TCSETSF", Run: testTcsetattrFlush},
		Case{Family: "terminal", Call: "ioctl_TCGETS2", Run: testTermios2},
		Case{Family: "terminal", Call: "ioctl_TCSETS2", Run: testTermios2},
		Case{Family: "terminal", Call: "cfmakeraw", Run: testMakeRaw},
		Case{Family: "terminal", Call: "ioctl_TIOCGWINSZ", Run: testWinsize},
		Case{Family: "terminal", Call: "ioctl_TIOCSWINSZ", Run: testWinsize},
		Case{Family: "terminal", Call: "ioctl_TCFLSH", Run: testTcflush},
		Case{Family: "terminal", Call: "ioctl_TCSBRK", Run: testTcdrain},
		Case{Family: "terminal", Call: "ioctl_TCSBRKP", Run: testTcsendbreak},
		Case{Family: "terminal", Call: "ioctl_TCXONC", Run: testTcflow},
		Case{Family: "terminal", Call: "ioctl_TIOCSCTTY", Run: testSetctty},
		Case{Family: "terminal", Call: "ioctl_TIOCGSID", Run: testCttyChild},
		Case{Family: "terminal", Call: "ioctl_TIOCGPGRP", Run: testCttyChild},
		Case{Family: "terminal", Call: "ioctl_TIOCSPGRP", Run: testCttyChild},
		Case{Family: "terminal", Call: "ioctl_TIOCNOTTY", Run: testCttyChild},
		Case{Family: "terminal", Call: "ioctl", Run: testIoctl},
	)
}

// termPair opens a pseudo-terminal pair; both close at the end of the case.
func termPair(t T, e *Env) (master, slave *api.Fd) {
	t.Helper()
	m, s, err := e.K.Openpty()
	termNoPtmx(t, err)
	OK(t, err, "openpty")
	// The master closes first: on NetBSD a last close of the slave
	// waits (seconds) for the master to read output still queued for it.
	t.Cleanup(func() {
		m.Close()
		s.Close()
	})
	return m, s
}

// termNoPtmx skips the case when the kernel's file system has no
// pseudo-terminal multiplexer (a unikernel's library OS has none).
func termNoPtmx(t T, err error) {
	t.Helper()
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("no %s in this kernel's file system: %v", "/dev/ptmx", err)
	}
}

// termRead collects what f delivers until it has n bytes, or 2 s pass.
func termRead(t T, e *Env, f *api.Fd, n int) string {
	t.Helper()
	var got []byte
	buf := make([]byte, 256)
	deadline := time.Now().Add(2 * time.Second)
	for len(got) < n {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		fds := []api.PollFd{{Fd: f, Events: api.POLLIN}}
		r, err := e.K.Poll(fds, int(left/time.Millisecond)+1)
		if errors.Is(err, api.EINTR) {
			continue
		}
		OK(t, err, "poll")
		if r == 0 {
			break
		}
		m, err := f.Read(buf)
		OK(t, err, "read")
		got = append(got, buf[:m]...)
	}
	return string(got)
}

// termDrain reads and drops whatever f has within 100 ms.
func termDrain(e *Env, f *api.Fd) {
	buf := make([]byte, 256)
	for {
		fds := []api.PollFd{{Fd: f, Events: api.POLLIN}}
		if r, err := e.K.Poll(fds, 100); (err != nil && !errors.Is(err, api.EINTR)) || r == 0 {
			return
		}
		if _, err := f.Read(buf); err != nil {
			return
		}
	}
}

// termQuiet checks that nothing arrives on f within 100 ms.
func termQuiet(t T, e *Env, f *api.Fd, what string) {
	t.Helper()
	fds := []api.PollFd{{Fd: f, Events: api.POLLIN}}
	r, err := e.K.Poll(fds, 100)
	if errors.Is(err, api.EINTR) {
		r, err = e.K.Poll(fds, 100)
	}
	OK(t, err, "poll")
	Eq(t, r, 0, "%s: nothing readable", what)
}

func termWrite(t T, f *api.Fd, s string) {
	t.Helper()
	n, err := f.Write([]byte(s))
	OK(t, err, "write %q", s)
	Eq(t, n, len(s))
}

// termNotTTY returns a regular file, on which terminal requests are ENOTTY.
func termNotTTY(t T, e *Env) *api.Fd {
	t.Helper()
	p := CreateFile(t, e, "notatty", []byte("x"))
	f, err := e.K.Open(p, api.O_RDWR|api.O_CLOEXEC, 0)
	OK(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}

func testOpenpt(t T, e *Env) {
	k := e.K
	m, err := k.Openpt(api.O_RDWR | api.O_NOCTTY | api.O_CLOEXEC)
	NoSys(t, err)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("no %s in this kernel's file system", "/dev/ptmx")
	}
	OK(t, err, "posix_openpt")
	defer m.Close()
	True(t, m.Isatty(), "the master is a terminal")
	name, err := m.Ptsname()
	OK(t, err)
	// Linux locks a new slave (TIOCGPTLCK says so, and opens fail);
	// NetBSD has no lock: grantpt makes the slave usable.
	if locked, err := m.Ptlocked(); !errors.Is(err, api.ENOSYS) {
		OK(t, err, "TIOCGPTLCK")
		True(t, locked, "a new slave starts locked")
		_, err = k.Open(name, api.O_RDWR|api.O_NOCTTY|api.O_CLOEXEC, 0)
		Want(t, err, api.EIO, "open of a locked slave")
	}
	// Two masters are two different terminals.
	m2, err := k.Openpt(api.O_RDWR | api.O_NOCTTY | api.O_CLOEXEC)
	OK(t, err)
	defer m2.Close()
	n1, _ := m.Ptsnum()
	n2, err := m2.Ptsnum()
	OK(t, err)
	True(t, n1 != n2, "distinct slave numbers %d, %d", n1, n2)
	name2, err := m2.Ptsname()
	OK(t, err)
	True(t, name != name2, "distinct slave names %q, %q", name, name2)
	_, err = k.Openpt(api.OpenFlags(1 << 40))
	True(t, err != nil, "unknown open flags are an error")
}

func testGrantpt(t T, e *Env) {
	k := e.K
	m, err := k.Openpt(api.O_RDWR | api.O_NOCTTY | api.O_CLOEXEC)
	termNoPtmx(t, err)
	OK(t, err)
	defer m.Close()
	// Grant before the slave is opened: NetBSD's TIOCGRANTPT revokes
	// the slave's open descriptors, as a fresh grant must.
	OK(t, m.Grantpt(), "grantpt on a master")
	OK(t, m.Unlockpt())
	name, err := m.Ptsname()
	OK(t, err)
	s, err := k.Open(name, api.O_RDWR|api.O_NOCTTY|api.O_CLOEXEC, 0)
	OK(t, err, "open %s", name)
	defer s.Close()
	// The slave is ours: Linux's devpts set the owner when the master
	// was opened, NetBSD's grantpt did.
	var st api.Stat
	OK(t, s.Stat(&st), "fstat slave")
	Eq(t, int(st.Uid), k.Getuid(), "slave owner")
	Want(t, termNotTTY(t, e).Grantpt(), api.ENOTTY, "grantpt on a regular file")
	Want(t, s.Grantpt(), api.ENOTTY, "grantpt on a slave")
	var nilFd *api.Fd
	Want(t, nilFd.Grantpt(), api.EBADF, "grantpt on nil")
}

func testUnlockpt(t T, e *Env) {
	k := e.K
	m, err := k.Openpt(api.O_RDWR | api.O_NOCTTY | api.O_CLOEXEC)
	termNoPtmx(t, err)
	OK(t, err)
	defer m.Close()
	name, err := m.Ptsname()
	OK(t, err)
	OK(t, m.Grantpt())
	OK(t, m.Unlockpt(), "unlockpt")
	if _, ok := k.Const("TIOCSPTLCK"); !ok {
		// NetBSD: no lock to take again; unlockpt checks its descriptor.
		s, err := k.Open(name, api.O_RDWR|api.O_NOCTTY|api.O_CLOEXEC, 0)
		OK(t, err, "open unlocked slave")
		s.Close()
		OK(t, m.Close())
		Want(t, m.Unlockpt(), api.EBADF, "unlockpt after close")
		Want(t, termNotTTY(t, e).Unlockpt(), api.ENOTTY, "unlockpt on a file")
		Want(t, m.Lockpt(), api.ENOSYS, "no lockpt on this kernel")
		return
	}
	locked, err := m.Ptlocked()
	OK(t, err)
	True(t, !locked, "unlocked")
	s, err := k.Open(name, api.O_RDWR|api.O_NOCTTY|api.O_CLOEXEC, 0)
	OK(t, err, "open unlocked slave")
	s.Close()
	OK(t, m.Lockpt(), "lock again")
	locked, err = m.Ptlocked()
	OK(t, err)
	True(t, locked, "locked again")
	_, err = k.Open(name, api.O_RDWR|api.O_NOCTTY|api.O_CLOEXEC, 0)
	Want(t, err, api.EIO, "open of a relocked slave")
	OK(t, m.Close())
	Want(t, m.Unlockpt(), api.EBADF, "unlockpt after close")
	Want(t, termNotTTY(t, e).Unlockpt(), api.ENOTTY, "unlockpt on a file")
}

// testPtlocked is testUnlockpt where the kernel can say whether a slave is
// locked (Linux's TIOCGPTLCK; NetBSD has no lock).
func testPtlocked(t T, e *Env) {
	m, err := e.K.Openpt(api.O_RDWR | api.O_NOCTTY | api.O_CLOEXEC)
	termNoPtmx(t, err)
	OK(t, err)
	_, err = m.Ptlocked()
	m.Close()
	NoSys(t, err)
	testUnlockpt(t, e)
}

func testPtsname(t T, e *Env) {
	k := e.K
	m, s := termPair(t, e)
	name, err := m.Ptsname()
	OK(t, err, "ptsname")
	True(t, strings.HasPrefix(name, "/dev/pts/"), "slave path %q", name)
	n, err := m.Ptsnum()
	OK(t, err)
	Eq(t, name, "/dev/pts/"+strconv.Itoa(n))
	// The path and the slave we hold are the same device.
	var byPath, held api.Stat
	OK(t, k.Stat(name, &byPath), "stat %s", name)
	OK(t, s.Stat(&held), "fstat slave")
	Eq(t, byPath.Rdev, held.Rdev, "device of %s", name)
	Eq(t, byPath.Mode.Type(), api.S_IFCHR, "a character device")
	sname, err := s.Ptsname()
	if _, linux := k.Const("TIOCGPTN"); linux {
		Want(t, err, api.ENOTTY, "ptsname of a slave")
	} else {
		// NetBSD's TIOCPTSNAME answers on either side.
		OK(t, err, "ptsname of a slave")
		Eq(t, sname, name, "the slave's name, asked of the slave")
	}
	_, err = termNotTTY(t, e).Ptsname()
	Want(t, err, api.ENOTTY, "ptsname of a file")
}

func testOpenPeer(t T, e *Env) {
	k := e.K
	m, err := k.Openpt(api.O_RDWR | api.O_NOCTTY | api.O_CLOEXEC)
	termNoPtmx(t, err)
	OK(t, err)
	defer m.Close()
	OK(t, m.Unlockpt())
	s, err := m.OpenPeer(api.O_RDWR | api.O_NOCTTY | api.O_CLOEXEC)
	OK(t, err, "TIOCGPTPEER")
	defer s.Close()
	True(t, s.Isatty(), "the peer is a terminal")
	name, _ := m.Ptsname()
	var byPath, peer api.Stat
	OK(t, k.Stat(name, &byPath))
	OK(t, s.Stat(&peer))
	Eq(t, peer.Rdev, byPath.Rdev, "the peer is the slave")
	// Data flows between them.
	termWrite(t, s, "ping\n")
	Eq(t, termRead(t, e, m, 6), "ping\r\n", "slave to master, ONLCR")
	_, err = s.OpenPeer(api.O_RDWR)
	Want(t, err, api.EIO, "TIOCGPTPEER on a slave (Linux: not the multiplexer's)")
	_, err = m.OpenPeer(api.OpenFlags(1 << 40))
	True(t, err != nil, "unknown flags are an error")
}

func testOpenpty(t T, e *Env) {
	m, s := termPair(t, e)
	True(t, m.Isatty() && s.Isatty(), "both ends are terminals")
	termWrite(t, m, "x\n")
	Eq(t, termRead(t, e, s, 2), "x\n", "master to slave")
	True(t, !termNotTTY(t, e).Isatty(), "a file is not a terminal")
}

func testTcgetattr(t T, e *Env) {
	_, s := termPair(t, e)
	var tio api.Termios
	OK(t, s.Tcgetattr(&tio), "tcgetattr")
	// A new pseudo-terminal has the kernel's default settings.
	True(t, tio.Lflag&api.ICANON != 0, "ICANON by default: %v", tio.Lflag)
	True(t, tio.Lflag&api.ECHO != 0, "ECHO by default")
	True(t, tio.Lflag&api.ISIG != 0, "ISIG by default")
	True(t, tio.Oflag&(api.OPOST|api.ONLCR) == api.OPOST|api.ONLCR, "OPOST|ONLCR by default: %v", tio.Oflag)
	True(t, tio.Iflag&api.ICRNL != 0, "ICRNL by default: %v", tio.Iflag)
	Eq(t, tio.Cflag&api.CSIZE, api.CS8, "8-bit characters")
	Eq(t, tio.Cc[api.VINTR], uint8(3), "VINTR is ^C")
	Eq(t, tio.Cc[api.VEOF], uint8(4), "VEOF is ^D")
	Eq(t, tio.Cc[api.VMIN], uint8(1), "VMIN")
	// The kernel's default: Linux's tty_std_termios is B38400, the BSDs'
	// TTYDEF_SPEED 9600.
	defSpeed := uint32(38400)
	if e.K.ABI().OS != "linux" {
		defSpeed = 9600
	}
	Eq(t, tio.Ospeed, defSpeed, "default speed")
	Eq(t, tio.Ispeed, defSpeed, "input speed follows")
	Want(t, termNotTTY(t, e).Tcgetattr(&tio), api.ENOTTY, "tcgetattr on a file")
	Want(t, s.Tcgetattr(nil), api.EINVAL, "nil Termios")
	OK(t, s.Close())
	Want(t, s.Tcgetattr(&tio), api.EBADF, "tcgetattr after close")
	lf, err := api.ParseTermLflag("icanon,echo,~echo")
	OK(t, err)
	Eq(t, lf, api.ICANON)
	_, err = api.ParseTermLflag("icanon,bogus")
	var perr *api.ParseError
	True(t, errors.As(err, &perr) && perr.Word == "bogus", "parse error names the word: %v", err)
}

// testTcsetattrEcho drives the line discipline: canonical input, echo on
// and off, set with TCSANOW (TCSETS).
func testTcsetattrEcho(t T, e *Env) {
	m, s := termPair(t, e)
	// Canonical mode: a partial line is not readable yet.
	termWrite(t, m, "hel")
	termQuiet(t, e, s, "partial line")
	termWrite(t, m, "lo\n")
	Eq(t, termRead(t, e, s, 6), "hello\n", "the whole line")
	// Echo is on: the master sees its input back, "\n" as "\r\n".
	Eq(t, termRead(t, e, m, 7), "hello\r\n", "echo")
	// Line editing: the erase character removes one.
	termWrite(t, m, "abx\x7fc\n")
	Eq(t, termRead(t, e, s, 4), "abc\n", "VERASE edits the line")
	termDrain(e, m) // the echo

	var tio api.Termios
	OK(t, s.Tcgetattr(&tio))
	tio.Lflag &^= api.ECHO
	OK(t, s.Tcsetattr(api.TCSANOW, &tio), "echo off")
	var back api.Termios
	OK(t, s.Tcgetattr(&back))
	Eq(t, back.Lflag&api.ECHO, api.TermLflag(0), "ECHO cleared")
	Eq(t, back, tio, "settings read back")
	termWrite(t, m, "secret\n")
	Eq(t, termRead(t, e, s, 7), "secret\n", "input still arrives")
	termQuiet(t, e, m, "no echo")

	Want(t, s.Tcsetattr(api.TcsetattrWhen(99), &tio), api.EINVAL, "unknown when")
	Want(t, s.Tcsetattr(api.TCSANOW, nil), api.EINVAL, "nil Termios")
	Want(t, termNotTTY(t, e).Tcsetattr(api.TCSANOW, &tio), api.ENOTTY, "tcsetattr on a file")
}

// testTcsetattrSpeed sets a line speed with TCSADRAIN (TCSETSW).
func testTcsetattrSpeed(t T, e *Env) {
	_, s := termPair(t, e)
	var tio api.Termios
	OK(t, s.Tcgetattr(&tio))
	tio.Ospeed, tio.Ispeed = 9600, 9600
	tio.Cflag = tio.Cflag&^api.CSIZE | api.CS7 | api.PARENB | api.CSTOPB | api.CLOCAL
	OK(t, s.Tcsetattr(api.TCSADRAIN, &tio), "tcsetattr TCSADRAIN")
	var back api.Termios
	OK(t, s.Tcgetattr(&back))
	Eq(t, back.Ospeed, uint32(9600), "output speed")
	Eq(t, back.Ispeed, uint32(9600), "input speed")
	True(t, back.Cflag&(api.CSTOPB|api.CLOCAL) == api.CSTOPB|api.CLOCAL, "CSTOPB|CLOCAL: %v", back.Cflag)
	// A pseudo-terminal has no wire: Linux keeps it at 8 bits, no parity;
	// NetBSD keeps what was set.
	if e.K.ABI().OS == "linux" {
		Eq(t, back.Cflag&(api.CSIZE|api.PARENB), api.CS8, "character size of a pseudo-terminal")
	} else {
		Eq(t, back.Cflag&(api.CSIZE|api.PARENB), api.CS7|api.PARENB, "character size and parity read back")
	}
	// Split speeds (CIBAUD).
	tio.Ispeed = 1200
	OK(t, s.Tcsetattr(api.TCSADRAIN, &tio), "split speeds")
	OK(t, s.Tcgetattr(&back))
	Eq(t, back.Ospeed, uint32(9600), "output speed")
	Eq(t, back.Ispeed, uint32(1200), "input speed")
}

// testTcsetattrFlush checks that TCSAFLUSH (TCSETSF) discards unread
// input.
func testTcsetattrFlush(t T, e *Env) {
	m, s := termPair(t, e)
	var tio api.Termios
	OK(t, s.Tcgetattr(&tio))
	tio.Lflag &^= api.ECHO
	OK(t, s.Tcsetattr(api.TCSANOW, &tio))
	termWrite(t, m, "stale\n")
	// Wait until the line has reached the slave, then flush it away.
	fds := []api.PollFd{{Fd: s, Events: api.POLLIN}}
	_, err := e.K.Poll(fds, 2000)
	OK(t, err)
	True(t, fds[0].Revents&api.POLLIN != 0, "line arrived")
	OK(t, s.Tcsetattr(api.TCSAFLUSH, &tio), "tcsetattr TCSAFLUSH")
	termQuiet(t, e, s, "after TCSAFLUSH")
	termWrite(t, m, "fresh\n")
	Eq(t, termRead(t, e, s, 6), "fresh\n", "only new input")
}

// testTermios2 sets a speed no B* constant names, through termios2.
func testTermios2(t T, e *Env) {
	_, s := termPair(t, e)
	var tio api.Termios
	OK(t, s.Tcgetattr(&tio))
	tio.Ospeed, tio.Ispeed = 12345, 12345
	err := s.Tcsetattr(api.TCSANOW, &tio)
	NoSys(t, err)
	OK(t, err, "tcsetattr with an arbitrary speed")
	var back api.Termios
	OK(t, s.Tcgetattr(&back))
	Eq(t, back.Ospeed, uint32(12345), "output speed")
	Eq(t, back.Ispeed, uint32(12345), "input speed")
	// And back to a named one.
	tio.Ospeed, tio.Ispeed = 115200, 115200
	OK(t, s.Tcsetattr(api.TCSANOW, &tio))
	OK(t, s.Tcgetattr(&back))
	Eq(t, back.Ospeed, uint32(115200))
}

func testMakeRaw(t T, e *Env) {
	m, s := termPair(t, e)
	old, err := s.MakeRaw()
	OK(t, err, "MakeRaw")
	True(t, old.Lflag&api.ICANON != 0, "returns the old (canonical) settings")
	var raw api.Termios
	OK(t, s.Tcgetattr(&raw))
	Eq(t, raw.Lflag&(api.ICANON|api.ECHO|api.ISIG|api.IEXTEN), api.TermLflag(0), "no line discipline")
	Eq(t, raw.Oflag&api.OPOST, api.TermOflag(0), "no output processing")
	Eq(t, raw.Cc[api.VMIN], uint8(1))
	Eq(t, raw.Cc[api.VTIME], uint8(0))
	// Bytes pass at once, untranslated, without echo.
	termWrite(t, m, "a")
	Eq(t, termRead(t, e, s, 1), "a", "one byte, no newline needed")
	termWrite(t, m, "\r\x03")
	Eq(t, termRead(t, e, s, 2), "\r\x03", "CR and ^C pass as bytes")
	termQuiet(t, e, m, "no echo in raw mode")
	termWrite(t, s, "\n")
	Eq(t, termRead(t, e, m, 1), "\n", "no ONLCR on output")
	// Restoring brings the line discipline back.
	OK(t, s.Tcsetattr(api.TCSANOW, &old), "restore")
	termWrite(t, m, "b")
	termQuiet(t, e, s, "canonical again")
	// The pure form, as cfmakeraw.
	x := old
	x.MakeRaw()
	Eq(t, x, raw, "Termios.MakeRaw gives what Fd.MakeRaw set")
	_, err = termNotTTY(t, e).MakeRaw()
	Want(t, err, api.ENOTTY, "MakeRaw on a file")
}

func testWinsize(t T, e *Env) {
	m, s := termPair(t, e)
	ws := api.Winsize{Row: 24, Col: 80, Xpixel: 640, Ypixel: 480}
	OK(t, m.SetWinsize(ws), "TIOCSWINSZ on the master")
	got, err := s.GetWinsize()
	OK(t, err, "TIOCGWINSZ on the slave")
	Eq(t, got, ws, "window size")
	OK(t, s.SetWinsize(api.Winsize{Row: 50, Col: 132}))
	got, err = m.GetWinsize()
	OK(t, err)
	Eq(t, got, api.Winsize{Row: 50, Col: 132})
	_, err = termNotTTY(t, e).GetWinsize()
	Want(t, err, api.ENOTTY, "TIOCGWINSZ on a file")
	Want(t, termNotTTY(t, e).SetWinsize(ws), api.ENOTTY, "TIOCSWINSZ on a file")
	OK(t, s.Close())
	_, err = s.GetWinsize()
	Want(t, err, api.EBADF, "after close")
}

func testTcflush(t T, e *Env) {
	m, s := termPair(t, e)
	var tio api.Termios
	OK(t, s.Tcgetattr(&tio))
	tio.MakeRaw()
	OK(t, s.Tcsetattr(api.TCSANOW, &tio))
	termWrite(t, m, "junk")
	fds := []api.PollFd{{Fd: s, Events: api.POLLIN}}
	_, err := e.K.Poll(fds, 2000)
	OK(t, err)
	True(t, fds[0].Revents&api.POLLIN != 0, "input arrived")
	OK(t, s.Tcflush(api.TCIFLUSH), "tcflush TCIFLUSH")
	termQuiet(t, e, s, "after TCIFLUSH")
	termWrite(t, m, "ok")
	Eq(t, termRead(t, e, s, 2), "ok")
	OK(t, s.Tcflush(api.TCIOFLUSH), "tcflush TCIOFLUSH")
	OK(t, s.Tcflush(api.TCOFLUSH), "tcflush TCOFLUSH")
	True(t, s.Tcflush(api.TcflushQueue(99)) != nil, "unknown queue")
	Want(t, termNotTTY(t, e).Tcflush(api.TCIFLUSH), api.ENOTTY, "tcflush on a file")
	q, err := api.ParseTcflushQueue("ioflush")
	OK(t, err)
	Eq(t, q, api.TCIOFLUSH)
}

func testTcdrain(t T, e *Env) {
	m, s := termPair(t, e)
	termWrite(t, s, "out\n")
	// Read first: NetBSD's TIOCDRAIN waits until the master has read
	// the output (Linux's pseudo-terminals return at once).
	Eq(t, termRead(t, e, m, 5), "out\r\n", "output was sent")
	OK(t, s.Tcdrain(), "tcdrain")
	if _, ok := e.K.Const("TCSBRK"); ok {
		start := time.Now()
		OK(t, s.Tcsendbreak(0), "tcsendbreak(0) is TCSBRK 0")
		True(t, time.Since(start) < time.Second, "a pseudo-terminal sends no break")
	}
	Want(t, termNotTTY(t, e).Tcdrain(), api.ENOTTY, "tcdrain on a file")
	var nilFd *api.Fd
	Want(t, nilFd.Tcdrain(), api.EBADF, "tcdrain on nil")
}

func testTcsendbreak(t T, e *Env) {
	_, s := termPair(t, e)
	start := time.Now()
	OK(t, s.Tcsendbreak(300*time.Millisecond), "tcsendbreak TCSBRKP")
	True(t, time.Since(start) < time.Second, "returns at once on a pseudo-terminal")
	Want(t, termNotTTY(t, e).Tcsendbreak(time.Second), api.ENOTTY, "on a file")
	Want(t, s.Tcsendbreak(1<<62), api.EINVAL, "too long a break")
}

func testTcflow(t T, e *Env) {
	m, s := termPair(t, e)
	var tio api.Termios
	OK(t, s.Tcgetattr(&tio))
	// TCIOFF and TCION transmit STOP and START: on a pseudo-terminal
	// slave, to the master.
	OK(t, s.Tcflow(api.TCIOFF), "tcflow TCIOFF")
	Eq(t, termRead(t, e, m, 1), string(rune(tio.Cc[api.VSTOP])), "STOP character sent")
	OK(t, s.Tcflow(api.TCION), "tcflow TCION")
	Eq(t, termRead(t, e, m, 1), string(rune(tio.Cc[api.VSTART])), "START character sent")
	// Suspending and resuming output.
	OK(t, s.Tcflow(api.TCOOFF), "tcflow TCOOFF")
	OK(t, s.Tcflow(api.TCOON), "tcflow TCOON")
	termWrite(t, s, "go\n")
	Eq(t, termRead(t, e, m, 4), "go\r\n", "output flows again")
	True(t, s.Tcflow(api.TcflowAction(99)) != nil, "unknown action")
	Want(t, termNotTTY(t, e).Tcflow(api.TCOON), api.ENOTTY, "on a file")
}

// testSetctty checks what this process can see itself: it is not a
// session leader (go test and the matrix never are), so TIOCSCTTY is
// EPERM; the child of testCttyChild does the rest.
func testSetctty(t T, e *Env) {
	k := e.K
	if c := termForkChild(t, e); c != nil {
		// A child of a kernel's own process (rump): not a session
		// leader until it makes itself one in termCttyForked.
		m, s, err := c.Openpty()
		OK(t, err, "openpty in the child")
		Want(t, s.Setctty(false), api.EPERM, "TIOCSCTTY from outside a session leader")
		m.Close()
		s.Close()
		termCttyForked(t, e, c)
		return
	}
	_, s := termPair(t, e)
	if sid, err := k.Getsid(0); err == nil && sid == k.Getpid() {
		t.Skipf("this process is a session leader: TIOCSCTTY would change its terminal")
	}
	Want(t, s.Setctty(false), api.EPERM, "TIOCSCTTY from outside a session leader")
	Want(t, termNotTTY(t, e).Setctty(false), api.ENOTTY, "TIOCSCTTY on a file")
	procRunChild(t, e, "ctty")
}

// testCttyChild runs a re-exec child that becomes a session leader, takes
// a pseudo-terminal as its controlling terminal and uses it: TIOCSCTTY,
// TIOCGSID, TIOCGPGRP, TIOCSPGRP, TIOCNOTTY. On a kernel with processes of
// its own (rump) the child is one of those.
func testCttyChild(t T, e *Env) {
	if c := termForkChild(t, e); c != nil {
		termCttyForked(t, e, c)
		return
	}
	procRunChild(t, e, "ctty")
}

// termForkChild returns a child process of e's kernel where the target
// makes them (Target.Fork) and the kernel is not the host's; nil
// otherwise. The child is not a session leader: the case checks that.
func termForkChild(t T, e *Env) *api.Kernel {
	t.Helper()
	if procIsHost(e) {
		return nil
	}
	c := procFork(t, e)
	if c == nil {
		return nil
	}
	sid, err := c.Getsid(0)
	OK(t, err, "getsid in the child")
	True(t, sid != c.Getpid(), "the child (pid %d) is not a session leader (sid %d)", c.Getpid(), sid)
	return c
}

// termCttyForked is testCttyChild's child on a kernel with processes of its
// own (rump), under NetBSD's rules: c becomes a session leader with a
// pseudo-terminal as controlling terminal, reached through /dev/tty too.
// TIOCNOTTY is a request of /dev/tty there, refused to the session leader
// (EINVAL): a child of c in its session gives the terminal up.
func termCttyForked(t T, e *Env, c *api.Kernel) {
	pid := c.Getpid()
	_, err := c.Setsid()
	OK(t, err, "setsid in the child")
	m, s, err := c.Openpty()
	OK(t, err, "openpty in the child")
	defer s.Close()
	defer m.Close() // the master first: see termPair
	_, err = s.Tcgetsid()
	Want(t, err, api.ENOTTY, "TIOCGSID before TIOCSCTTY")
	const ttyFl = api.O_RDWR | api.O_NOCTTY | api.O_CLOEXEC
	_, err = c.Open("/dev/tty", ttyFl, 0)
	Want(t, err, api.ENXIO, "/dev/tty without a controlling terminal")
	OK(t, s.Setctty(false), "TIOCSCTTY")
	sid, err := s.Tcgetsid()
	OK(t, err, "TIOCGSID")
	Eq(t, sid, pid, "the terminal's session")
	pg, err := s.Tcgetpgrp()
	OK(t, err, "TIOCGPGRP")
	Eq(t, pg, pid, "the foreground process group")
	OK(t, s.Tcsetpgrp(pid), "TIOCSPGRP")
	err = s.Tcsetpgrp(1 << 22)
	True(t, errors.Is(err, api.ESRCH) || errors.Is(err, api.EPERM), "TIOCSPGRP to a missing group: %v", err)
	tty, err := c.Open("/dev/tty", ttyFl, 0)
	OK(t, err, "the controlling terminal through /dev/tty")
	defer tty.Close()
	Want(t, s.Notty(), api.ENOTTY, "TIOCNOTTY on the terminal itself, not /dev/tty")
	// EINVAL, not ENOTTY: the request reached /dev/tty's TIOCNOTTY.
	Want(t, tty.Notty(), api.EINVAL, "TIOCNOTTY from the session leader")
	g, end, err := e.Target.Fork(c)
	OK(t, err, "a child in the session")
	defer end()
	gsid, err := g.Getsid(0)
	OK(t, err)
	Eq(t, gsid, pid, "the child is in the session")
	gtty, err := g.Open("/dev/tty", ttyFl, 0)
	if errors.Is(err, api.ENXIO) {
		// rump's rfork (lwproc_newproc) clears p_lflag, PL_CONTROLT with
		// it, where NetBSD's fork keeps it: the child has no terminal.
		t.Logf("a rump child process does not inherit its parent's controlling terminal: %v", err)
		return
	}
	OK(t, err, "/dev/tty in the session leader's child")
	defer gtty.Close()
	OK(t, gtty.Notty(), "TIOCNOTTY")
	_, err = g.Open("/dev/tty", ttyFl, 0)
	Want(t, err, api.ENXIO, "/dev/tty after TIOCNOTTY")
}

func miscChildCtty(k *api.Kernel) error {
	pid := k.Getpid()
	if _, err := k.Setsid(); err != nil {
		return err
	}
	m, s, err := k.Openpty()
	if err != nil {
		return err
	}
	defer m.Close()
	defer s.Close()
	if _, err := s.Tcgetsid(); !errors.Is(err, api.ENOTTY) {
		return errors.New("TIOCGSID before TIOCSCTTY: " + errString(err) + ", want ENOTTY")
	}
	if err := s.Setctty(false); err != nil {
		return err
	}
	var st api.Stat
	if err := s.Stat(&st); err != nil {
		return err
	}
	if f, err := procStatFields("/proc/self/stat"); err != nil {
		return err
	} else if f[7] != strconv.FormatUint(st.Rdev, 10) {
		return errors.New("tty_nr " + f[7] + " after TIOCSCTTY, want " + strconv.FormatUint(st.Rdev, 10))
	}
	if sid, err := s.Tcgetsid(); err != nil || sid != pid {
		return errors.New("TIOCGSID = " + strconv.Itoa(sid) + ", " + errString(err))
	}
	if sid, err := m.Tcgetsid(); err != nil || sid != pid {
		return errors.New("TIOCGSID on the master = " + strconv.Itoa(sid) + ", " + errString(err))
	}
	if pg, err := s.Tcgetpgrp(); err != nil || pg != pid {
		return errors.New("TIOCGPGRP = " + strconv.Itoa(pg) + ", " + errString(err))
	}
	if err := s.Tcsetpgrp(pid); err != nil {
		return err
	}
	if err := s.Tcsetpgrp(1 << 22); !errors.Is(err, api.ESRCH) && !errors.Is(err, api.EPERM) {
		return errors.New("TIOCSPGRP to a missing group: " + errString(err))
	}
	// Giving the terminal up as a session leader hangs up the foreground
	// group, which is us: ignore SIGHUP first.
	signal.Ignore(syscall.SIGHUP)
	if err := s.Notty(); err != nil {
		return err
	}
	if f, err := procStatFields("/proc/self/stat"); err != nil {
		return err
	} else if f[7] != "0" {
		return errors.New("tty_nr " + f[7] + " after TIOCNOTTY, want 0")
	}
	if _, err := s.Tcgetsid(); !errors.Is(err, api.ENOTTY) {
		return errors.New("TIOCGSID after TIOCNOTTY: " + errString(err) + ", want ENOTTY")
	}
	return nil
}

func errString(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

// testIoctl exercises the raw ioctl helpers with request numbers from the
// kernel's table.
func testIoctl(t T, e *Env) {
	k := e.K
	m, s := termPair(t, e)
	req, ok := k.Const("TIOCGPTN")
	if !ok {
		testIoctlPtmget(t, e, m, s)
		return
	}
	var n uint32
	_, err := m.IoctlPtr(req, unsafe.Pointer(&n))
	OK(t, err, "ioctl TIOCGPTN")
	var b [4]byte
	_, err = m.IoctlBuf(req, b[:])
	OK(t, err, "ioctl TIOCGPTN into a byte buffer")
	Eq(t, b != [4]byte{}, n != 0, "the byte buffer got the number")
	want, _ := m.Ptsnum()
	Eq(t, int(n), want, "slave number through the raw helper")
	flsh, ok := k.Const("TCFLSH")
	True(t, ok, "TCFLSH in the table")
	iflush, _ := k.Const("TCIFLUSH")
	_, err = s.IoctlInt(flsh, uintptr(iflush))
	OK(t, err, "ioctl TCFLSH")
	_, err = termNotTTY(t, e).IoctlInt(flsh, uintptr(iflush))
	Want(t, err, api.ENOTTY, "terminal request on a file")
	OK(t, s.Close())
	_, err = s.IoctlInt(flsh, 0)
	Want(t, err, api.EBADF, "ioctl after close")
}

// testIoctlPtmget is testIoctl on NetBSD: TIOCPTSNAME into a buffer sized
// by the table's struct ptmget, TIOCFLUSH with an int argument.
func testIoctlPtmget(t T, e *Env, m, s *api.Fd) {
	k := e.K
	req, ok := k.Const("TIOCPTSNAME")
	if !ok {
		t.Skipf("%sthe ABI table has neither TIOCGPTN nor TIOCPTSNAME", NoSysPrefix)
	}
	st, ok := k.ABI().Struct("ptmget")
	True(t, ok, "struct ptmget in the table")
	sfd, ok1 := st.Field("sfd")
	sn, ok2 := st.Field("sn")
	True(t, ok1 && ok2, "ptmget.sfd and ptmget.sn")
	b := make([]byte, st.Size)
	_, err := m.IoctlBuf(req, b)
	OK(t, err, "ioctl TIOCPTSNAME")
	want, err := m.Ptsnum()
	OK(t, err)
	Eq(t, int(k.ABI().ByteOrder().Uint32(b[sfd.Offset:])), want, "slave number through the raw helper")
	name, err := m.Ptsname()
	OK(t, err)
	Eq(t, string(b[sn.Offset:sn.Offset+len(name)]), name, "slave name through the raw helper")
	flush, ok := k.Const("TIOCFLUSH")
	True(t, ok, "TIOCFLUSH in the table")
	fread, _ := k.Const("FREAD")
	v := int32(fread)
	_, err = s.IoctlPtr(flush, unsafe.Pointer(&v))
	OK(t, err, "ioctl TIOCFLUSH")
	_, err = termNotTTY(t, e).IoctlPtr(flush, unsafe.Pointer(&v))
	Want(t, err, api.ENOTTY, "terminal request on a file")
	OK(t, s.Close())
	_, err = s.IoctlPtr(flush, unsafe.Pointer(&v))
	Want(t, err, api.EBADF, "ioctl after close")
}
