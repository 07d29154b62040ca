package api

import (
	"strconv"
	"time"
	"unsafe"
)

// Terminals: pseudo-terminal pairs and the line settings of a terminal
// (termios), window sizes, flushing and the controlling terminal. Every one
// is an ioctl on a terminal descriptor; the request numbers and the kernel's
// struct termios come from the ABI table (the kernel's struct, not the C
// library's, which on Linux is larger and laid out differently).

// termBufSize bounds the kernel's struct termios, termios2 and winsize in
// every ABI api serves (Linux: 36, 44 and 8 bytes); New leaves terminals
// out (ENOSYS) for an ABI whose structs are larger.
const termBufSize = 64

// ptmBufSize bounds NetBSD's struct ptmget (two ints and two PATH_MAX
// names: 2056 bytes).
const ptmBufSize = 4096

// NCCS is the length of Termios.Cc: one slot for each CcIndex, in api's
// numbering (Linux's VINTR..VEOL2).
const NCCS = int(VEOL2) + 1

// Termios is the line settings of a terminal, whatever the kernel's
// struct termios looks like.
//
// The line speeds are numbers of bits per second in Ispeed and Ospeed; the
// speed bits the kernel keeps inside c_cflag (CBAUD, CIBAUD) are not in
// Cflag. Change a Termios that Tcgetattr filled in rather than building one
// from zero: an Ospeed of 0 asks a real serial line to hang up.
type Termios struct {
	Iflag  TermIflag // input modes: ICRNL, IXON, ...
	Oflag  TermOflag // output modes: OPOST, ONLCR, ...
	Cflag  TermCflag // control modes: CS8, CREAD, ... (no speed bits)
	Lflag  TermLflag // local modes: ICANON, ECHO, ISIG, ...
	Line   uint8     // line discipline (0: N_TTY)
	Cc     [NCCS]uint8
	Ispeed uint32 // input speed, bits per second
	Ospeed uint32 // output speed, bits per second
}

// MakeRaw changes t as cfmakeraw(3) does: input is available byte by byte
// (no line editing, no signals from ^C, no echo), and bytes pass through
// unchanged in both directions, 8 bits each.
func (t *Termios) MakeRaw() {
	t.Iflag &^= IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON
	t.Oflag &^= OPOST
	t.Lflag &^= ECHO | ECHONL | ICANON | ISIG | IEXTEN
	t.Cflag &^= CSIZE | PARENB
	t.Cflag |= CS8
	t.Cc[VMIN] = 1
	t.Cc[VTIME] = 0
}

// Winsize is a terminal's window size (struct winsize).
type Winsize struct {
	Row, Col       uint16 // characters
	Xpixel, Ypixel uint16 // pixels, often 0
}

// termSpeed is one B* speed the ABI names: its rate and its CBAUD bits.
type termSpeed struct {
	rate uint32
	bits uint64
}

// termRates are the line speeds POSIX and Linux name B<rate>; each ABI
// gives its own code for those it has.
var termRates = [...]uint32{0, 50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200,
	38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000,
	2500000, 3000000, 3500000, 4000000}

// termState is the terminals' per-Kernel state.
type termState struct {
	ok bool // TCGETS, TCSETS* (or the BSDs' TIOCGETA, TIOCSETA*) and the kernel's struct termios are known

	// bsd is a BSD struct termios (TIOCGETA, TIOCSETA*): no c_line, and
	// the speeds in c_ispeed and c_ospeed as bits per second.
	bsd            bool
	bsdIsp, bsdOsp fieldAt

	tcgets, tcsets, tcsetsw, tcsetsf     abiConst
	tcgets2, tcsets2, tcsetsw2, tcsetsf2 abiConst
	gwinsz, swinsz                       abiConst
	tcflsh, tcsbrk, tcsbrkp, tcxonc      abiConst
	sctty, notty, gpgrp, spgrp, gsid     abiConst
	gptn, sptlck, gptlck, gptpeer        abiConst

	// The BSD requests for what Linux does otherwise: TIOCFLUSH takes
	// FREAD/FWRITE bits, TIOCSTOP/TIOCSTART suspend and resume output,
	// TIOCDRAIN is tcdrain.
	tiocflush, fread, fwrite abiConst
	tiocstop, tiocstart      abiConst
	tiocdrain                abiConst

	// NetBSD's pseudo-terminals (libc's grantpt, ptsname): TIOCGRANTPT,
	// and TIOCPTSNAME filling a struct ptmget. There is no slave lock.
	grant, ptsname abiConst
	ptm            layout
	ptmSfd, ptmSn  fieldAt

	tios                                 layout
	iflag, oflag, cflag, lflag, line, cc fieldAt

	t2                           bool // termios2 with its speeds, TCGETS2 and TCSETS*2: arbitrary speeds
	tios2                        layout
	t2i, t2o, t2c, t2l, t2line   fieldAt
	t2cc, t2ispeed, t2ospeed     fieldAt
	cbaud, cibaud, bother        uint64 // speed bits of c_cflag; bother 0 when the ABI has no BOTHER
	ibshift                      uint   // CIBAUD = CBAUD << ibshift
	speeds                       []termSpeed
	ccIdx                        [NCCS]int // the ABI's c_cc index of each CcIndex; -1: none
	ws                           layout
	wsRow, wsCol, wsXpix, wsYpix fieldAt
}

func (s *termState) init(k *Kernel) error {
	constsOf(k, &s.gwinsz, "TIOCGWINSZ", &s.swinsz, "TIOCSWINSZ",
		&s.tcflsh, "TCFLSH", &s.tcsbrk, "TCSBRK", &s.tcsbrkp, "TCSBRKP", &s.tcxonc, "TCXONC",
		&s.sctty, "TIOCSCTTY", &s.notty, "TIOCNOTTY", &s.gpgrp, "TIOCGPGRP", &s.spgrp, "TIOCSPGRP",
		&s.gsid, "TIOCGSID", &s.gptn, "TIOCGPTN", &s.sptlck, "TIOCSPTLCK", &s.gptlck, "TIOCGPTLCK",
		&s.gptpeer, "TIOCGPTPEER")
	constsOf(k, &s.tiocflush, "TIOCFLUSH", &s.fread, "FREAD", &s.fwrite, "FWRITE",
		&s.tiocstop, "TIOCSTOP", &s.tiocstart, "TIOCSTART", &s.tiocdrain, "TIOCDRAIN")
	if constsOf(k, &s.grant, "TIOCGRANTPT", &s.ptsname, "TIOCPTSNAME") {
		if l := k.optLayout("ptmget"); l.s != nil && l.size <= ptmBufSize {
			if fieldsOf(l, ptmBufSize, &s.ptmSfd, "sfd", &s.ptmSn, "sn") == nil {
				s.ptm = l
			}
		}
	}
	if l := k.optLayout("winsize"); l.s != nil && l.size <= termBufSize {
		var err error
		if err = fieldsOf(l, termBufSize, &s.wsRow, "ws_row", &s.wsCol, "ws_col",
			&s.wsXpix, "ws_xpixel", &s.wsYpix, "ws_ypixel"); err == nil {
			s.ws = l
		}
	}
	s.initTermios(k)
	return nil
}

// initTermios resolves the kernel's struct termios and the speed codes;
// anything missing leaves s.ok false and the termios calls answer ENOSYS.
func (s *termState) initTermios(k *Kernel) {
	if !constsOf(k, &s.tcgets, "TCGETS", &s.tcsets, "TCSETS", &s.tcsetsw, "TCSETSW", &s.tcsetsf, "TCSETSF") {
		s.initBSD(k)
		return
	}
	l := k.optLayout("termios")
	if l.s == nil || l.size > termBufSize {
		return
	}
	if fieldsOf(l, termBufSize, &s.iflag, "c_iflag", &s.oflag, "c_oflag", &s.cflag, "c_cflag",
		&s.lflag, "c_lflag", &s.line, "c_line", &s.cc, "c_cc") != nil {
		return
	}
	s.tios = l
	for i := range s.ccIdx {
		s.ccIdx[i] = -1
		a, err := k.enumToABI(ccIndexFamily, uint64(i))
		if err == nil && a < uint64(s.cc.size) {
			s.ccIdx[i] = int(a)
		}
	}
	cb, ok1 := k.table.Const("CBAUD")
	if !ok1 || cb == 0 {
		return
	}
	s.cbaud = cb
	if ci, ok := k.table.Const("CIBAUD"); ok && ci != 0 {
		s.cibaud = ci
		for sh := uint(0); sh < 64; sh++ {
			if cb<<sh == ci {
				s.ibshift = sh
				break
			}
		}
		if s.cbaud<<s.ibshift != s.cibaud {
			s.cibaud = 0 // not CBAUD shifted: ignore input speeds
		}
	}
	for _, r := range termRates {
		if v, ok := k.table.Const("B" + strconv.FormatUint(uint64(r), 10)); ok {
			s.speeds = append(s.speeds, termSpeed{r, v})
		}
	}
	s.ok = true
	if b, ok := k.table.Const("BOTHER"); ok {
		s.bother = b
	}
	if s.bother == 0 || !constsOf(k, &s.tcgets2, "TCGETS2", &s.tcsets2, "TCSETS2", &s.tcsetsw2, "TCSETSW2", &s.tcsetsf2, "TCSETSF2") {
		return
	}
	l2 := k.optLayout("termios2")
	if l2.s == nil || l2.size > termBufSize {
		return
	}
	if fieldsOf(l2, termBufSize, &s.t2i, "c_iflag", &s.t2o, "c_oflag", &s.t2c, "c_cflag", &s.t2l, "c_lflag",
		&s.t2line, "c_line", &s.t2cc, "c_cc", &s.t2ispeed, "c_ispeed", &s.t2ospeed, "c_ospeed") != nil {
		return
	}
	s.tios2 = l2
	s.t2 = true
}

// initBSD resolves the BSDs' terminal requests and struct termios
// (sys/termios.h): c_iflag, c_oflag, c_cflag, c_lflag, c_cc, c_ispeed,
// c_ospeed; the speeds are rates, not codes.
func (s *termState) initBSD(k *Kernel) {
	if !constsOf(k, &s.tcgets, "TIOCGETA", &s.tcsets, "TIOCSETA", &s.tcsetsw, "TIOCSETAW", &s.tcsetsf, "TIOCSETAF") {
		return
	}
	l := k.optLayout("termios")
	if l.s == nil || l.size > termBufSize {
		return
	}
	if fieldsOf(l, termBufSize, &s.iflag, "c_iflag", &s.oflag, "c_oflag", &s.cflag, "c_cflag",
		&s.lflag, "c_lflag", &s.cc, "c_cc", &s.bsdIsp, "c_ispeed", &s.bsdOsp, "c_ospeed") != nil {
		return
	}
	s.line = fieldAt{} // none: Line reads 0 and is not written
	s.tios = l
	for i := range s.ccIdx {
		s.ccIdx[i] = -1
		a, err := k.enumToABI(ccIndexFamily, uint64(i))
		if err == nil && a < uint64(s.cc.size) {
			s.ccIdx[i] = int(a)
		}
	}
	s.bsd, s.ok = true, true
}

// rate returns the speed a CBAUD code stands for.
func (s *termState) rate(bits uint64) (uint32, bool) {
	for _, sp := range s.speeds {
		if sp.bits == bits {
			return sp.rate, true
		}
	}
	return 0, false
}

// code returns the CBAUD code of a speed.
func (s *termState) code(rate uint32) (uint64, bool) {
	for _, sp := range s.speeds {
		if sp.rate == rate {
			return sp.bits, true
		}
	}
	return 0, false
}

// decode fills t from a raw struct termios (or termios2, whose first fields
// are the same) with the fields given.
func (s *termState) decode(k *Kernel, b []byte, be bool, fi, fo, fc, fl, fline, fcc fieldAt, t *Termios) (cflagRaw uint64) {
	c := fc.uint(b, be)
	*t = Termios{
		Iflag: TermIflag(k.flagsFromABI(termIflagFamily, fi.uint(b, be))),
		Oflag: TermOflag(k.flagsFromABI(termOflagFamily, fo.uint(b, be))),
		Cflag: TermCflag(k.flagsFromABI(termCflagFamily, c&^(s.cbaud|s.cibaud))),
		Lflag: TermLflag(k.flagsFromABI(termLflagFamily, fl.uint(b, be))),
		Line:  uint8(fline.uint(b, be)),
	}
	cc := fcc.bytes(b)
	for i, a := range s.ccIdx {
		if a >= 0 {
			t.Cc[i] = cc[a]
		}
	}
	return c
}

// encode writes t's flags and characters into a raw struct termios or
// termios2; cflag gets speedBits added.
func (s *termState) encode(k *Kernel, op string, b []byte, be bool, fi, fo, fc, fl, fline, fcc fieldAt, t *Termios, speedBits uint64) error {
	i, err := k.flagsToABI(termIflagFamily, uint64(t.Iflag))
	if err != nil {
		return miscErr(op, err)
	}
	o, err := k.flagsToABI(termOflagFamily, uint64(t.Oflag))
	if err != nil {
		return miscErr(op, err)
	}
	c, err := k.flagsToABI(termCflagFamily, uint64(t.Cflag))
	if err != nil {
		return miscErr(op, err)
	}
	l, err := k.flagsToABI(termLflagFamily, uint64(t.Lflag))
	if err != nil {
		return miscErr(op, err)
	}
	if c&(s.cbaud|s.cibaud) != 0 {
		return badArg(op, "Cflag holds speed bits; set Ispeed and Ospeed instead")
	}
	fi.put(b, be, i)
	fo.put(b, be, o)
	fc.put(b, be, c|speedBits)
	fl.put(b, be, l)
	fline.put(b, be, uint64(t.Line))
	cc := fcc.bytes(b)
	for n, a := range s.ccIdx {
		if a >= 0 {
			cc[a] = t.Cc[n]
		}
	}
	return nil
}

// Tcgetattr fills t with the terminal's settings (TCGETS; TCGETS2 too when
// a speed is not one of the B* rates; TIOCGETA on the BSDs).
func (f *Fd) Tcgetattr(t *Termios) error {
	const op = "tcgetattr"
	if t == nil {
		return badArg(op, "nil *Termios")
	}
	if f == nil {
		return callErr(op, EBADF)
	}
	s := &f.k.misc.term
	if !s.ok {
		return callErr(op, ENOSYS)
	}
	var raw [termBufSize]byte
	if _, err := f.ioctlPtr(op, s.tcgets.v, unsafe.Pointer(&raw)); err != nil {
		return err
	}
	be := s.tios.be
	c := s.decode(f.k, raw[:], be, s.iflag, s.oflag, s.cflag, s.lflag, s.line, s.cc, t)
	if s.bsd {
		t.Ispeed = uint32(s.bsdIsp.uint(raw[:], be))
		t.Ospeed = uint32(s.bsdOsp.uint(raw[:], be))
		return nil
	}
	ob := c & s.cbaud
	ib := ob
	if s.cibaud != 0 {
		if v := (c & s.cibaud) >> s.ibshift; v != 0 {
			ib = v
		}
	}
	if s.t2 && (ob == s.bother || ib == s.bother) {
		var raw2 [termBufSize]byte
		if _, err := f.ioctlPtr(op, s.tcgets2.v, unsafe.Pointer(&raw2)); err != nil {
			return err
		}
		t.Ispeed = uint32(s.t2ispeed.uint(raw2[:], s.tios2.be))
		t.Ospeed = uint32(s.t2ospeed.uint(raw2[:], s.tios2.be))
		return nil
	}
	t.Ospeed, _ = s.rate(ob)
	t.Ispeed, _ = s.rate(ib)
	return nil
}

// Tcsetattr changes the terminal's settings to t: now (TCSANOW), after the
// output written so far has been sent (TCSADRAIN), or after that and with
// unread input discarded (TCSAFLUSH). Speeds that are not B* rates need
// the kernel's termios2 (Linux), else they are EINVAL; the BSDs
// (TIOCSETA, TIOCSETAW, TIOCSETAF) take any rate the driver does.
func (f *Fd) Tcsetattr(when TcsetattrWhen, t *Termios) error {
	const op = "tcsetattr"
	if t == nil {
		return badArg(op, "nil *Termios")
	}
	if f == nil {
		return callErr(op, EBADF)
	}
	s := &f.k.misc.term
	if !s.ok {
		return callErr(op, ENOSYS)
	}
	var req, req2 abiConst
	switch when {
	case TCSANOW:
		req, req2 = s.tcsets, s.tcsets2
	case TCSADRAIN:
		req, req2 = s.tcsetsw, s.tcsetsw2
	case TCSAFLUSH:
		req, req2 = s.tcsetsf, s.tcsetsf2
	default:
		return badArg(op, "unknown TcsetattrWhen "+strconv.Itoa(int(when)))
	}
	if s.bsd {
		var raw [termBufSize]byte
		be := s.tios.be
		if err := s.encode(f.k, op, raw[:], be, s.iflag, s.oflag, s.cflag, s.lflag, s.line, s.cc, t, 0); err != nil {
			return err
		}
		s.bsdIsp.put(raw[:], be, uint64(t.Ispeed))
		s.bsdOsp.put(raw[:], be, uint64(t.Ospeed))
		_, err := f.ioctlPtr(op, req.v, unsafe.Pointer(&raw))
		return err
	}
	oc, ok1 := s.code(t.Ospeed)
	ic, ok2 := s.code(t.Ispeed)
	if ok1 && ok2 {
		var bits uint64
		bits = oc
		if t.Ispeed != t.Ospeed && s.cibaud != 0 {
			bits |= ic << s.ibshift
		}
		var raw [termBufSize]byte
		if err := s.encode(f.k, op, raw[:], s.tios.be, s.iflag, s.oflag, s.cflag, s.lflag, s.line, s.cc, t, bits); err != nil {
			return err
		}
		_, err := f.ioctlPtr(op, req.v, unsafe.Pointer(&raw))
		return err
	}
	if !s.t2 {
		bad := t.Ospeed
		if ok1 {
			bad = t.Ispeed
		}
		return badArg(op, "line speed "+strconv.FormatUint(uint64(bad), 10)+" has no B* code in this ABI")
	}
	var raw [termBufSize]byte
	bits := s.bother
	if s.cibaud != 0 {
		bits |= s.bother << s.ibshift
	}
	be := s.tios2.be
	if err := s.encode(f.k, op, raw[:], be, s.t2i, s.t2o, s.t2c, s.t2l, s.t2line, s.t2cc, t, bits); err != nil {
		return err
	}
	s.t2ispeed.put(raw[:], be, uint64(t.Ispeed))
	s.t2ospeed.put(raw[:], be, uint64(t.Ospeed))
	_, err := f.ioctlPtr(op, req2.v, unsafe.Pointer(&raw))
	return err
}

// MakeRaw puts the terminal in raw mode (Termios.MakeRaw, applied with
// TCSANOW) and returns the settings it had, for Tcsetattr to restore.
func (f *Fd) MakeRaw() (Termios, error) {
	var old Termios
	if err := f.Tcgetattr(&old); err != nil {
		return old, err
	}
	t := old
	t.MakeRaw()
	return old, f.Tcsetattr(TCSANOW, &t)
}

// Isatty reports whether f is a terminal (TCGETS succeeds on it).
func (f *Fd) Isatty() bool {
	var t Termios
	return f.Tcgetattr(&t) == nil
}

// termReq checks that f can make a terminal request the ABI may lack.
func termReq(f *Fd, op string, r abiConst) error {
	if f == nil {
		return callErr(op, EBADF)
	}
	if !r.ok {
		return callErr(op, ENOSYS)
	}
	return nil
}

// GetWinsize returns the terminal's window size (TIOCGWINSZ).
func (f *Fd) GetWinsize() (Winsize, error) {
	const op = "tcgetwinsize"
	if err := termReq(f, op, f.term().gwinsz); err != nil {
		return Winsize{}, err
	}
	s := &f.k.misc.term
	if s.ws.s == nil {
		return Winsize{}, callErr(op, ENOSYS)
	}
	var raw [termBufSize]byte
	if _, err := f.ioctlPtr(op, s.gwinsz.v, unsafe.Pointer(&raw)); err != nil {
		return Winsize{}, err
	}
	b, be := raw[:], s.ws.be
	return Winsize{uint16(s.wsRow.uint(b, be)), uint16(s.wsCol.uint(b, be)),
		uint16(s.wsXpix.uint(b, be)), uint16(s.wsYpix.uint(b, be))}, nil
}

// SetWinsize sets the terminal's window size (TIOCSWINSZ); the foreground
// process group gets SIGWINCH when it changes.
func (f *Fd) SetWinsize(ws Winsize) error {
	const op = "tcsetwinsize"
	if err := termReq(f, op, f.term().swinsz); err != nil {
		return err
	}
	s := &f.k.misc.term
	if s.ws.s == nil {
		return callErr(op, ENOSYS)
	}
	var raw [termBufSize]byte
	b, be := raw[:], s.ws.be
	s.wsRow.put(b, be, uint64(ws.Row))
	s.wsCol.put(b, be, uint64(ws.Col))
	s.wsXpix.put(b, be, uint64(ws.Xpixel))
	s.wsYpix.put(b, be, uint64(ws.Ypixel))
	_, err := f.ioctlPtr(op, s.swinsz.v, unsafe.Pointer(&raw))
	return err
}

// noTerm stands for the terminal state of a nil Fd: every request is
// missing, and the helpers report EBADF before looking.
var noTerm termState

// term returns the terminal state of f's kernel.
func (f *Fd) term() *termState {
	if f == nil {
		return &noTerm
	}
	return &f.k.misc.term
}

// termIntReq makes a terminal request whose argument is an integer.
func (f *Fd) termIntReq(op string, r abiConst, arg uintptr) (uintptr, error) {
	if f == nil {
		return 0, callErr(op, EBADF)
	}
	if !r.ok {
		return 0, callErr(op, ENOSYS)
	}
	return f.ioctlInt(op, r.v, arg)
}

// termInt32Req makes a terminal request whose argument is the address of
// an int (or pid_t, or unsigned int): in gives its value before the call,
// and the value after is returned.
func (f *Fd) termInt32Req(op string, r abiConst, in int32) (int32, error) {
	if f == nil {
		return 0, callErr(op, EBADF)
	}
	if !r.ok {
		return 0, callErr(op, ENOSYS)
	}
	v := in
	_, err := f.ioctlPtr(op, r.v, unsafe.Pointer(&v))
	return v, err
}

// Tcflush discards data written but not yet sent (TCOFLUSH), received but
// not yet read (TCIFLUSH), or both (TCIOFLUSH): TCFLSH, or TIOCFLUSH on
// the BSDs.
func (f *Fd) Tcflush(queue TcflushQueue) error {
	const op = "tcflush"
	if f == nil {
		return callErr(op, EBADF)
	}
	s := &f.k.misc.term
	if !s.tcflsh.ok && s.tiocflush.ok && s.fread.ok && s.fwrite.ok {
		// The BSDs: TIOCFLUSH with the queues as FREAD/FWRITE bits.
		var bits uint64
		switch queue {
		case TCIFLUSH:
			bits = s.fread.v
		case TCOFLUSH:
			bits = s.fwrite.v
		case TCIOFLUSH:
			bits = s.fread.v | s.fwrite.v
		default:
			return badArg(op, "unknown TcflushQueue "+strconv.Itoa(int(queue)))
		}
		_, err := f.termInt32Req(op, s.tiocflush, int32(bits))
		return err
	}
	q, err := f.k.enumToABI(tcflushQueueFamily, uint64(queue))
	if err != nil {
		return miscErr(op, err)
	}
	_, err = f.termIntReq(op, s.tcflsh, uintptr(q))
	return err
}

// Tcflow suspends or restarts output (TCOOFF, TCOON) or sends a STOP or
// START character (TCIOFF, TCION): TCXONC, or on the BSDs TIOCSTOP,
// TIOCSTART and a write of the character.
func (f *Fd) Tcflow(action TcflowAction) error {
	const op = "tcflow"
	if f == nil {
		return callErr(op, EBADF)
	}
	s := &f.k.misc.term
	if !s.tcxonc.ok && s.tiocstop.ok && s.tiocstart.ok {
		return f.tcflowBSD(op, action)
	}
	a, err := f.k.enumToABI(tcflowActionFamily, uint64(action))
	if err != nil {
		return miscErr(op, err)
	}
	_, err = f.termIntReq(op, s.tcxonc, uintptr(a))
	return err
}

// tcflowBSD is tcflow as the BSDs' C libraries make it: TIOCSTOP and
// TIOCSTART suspend and resume output, and the STOP and START characters
// are written to the terminal like any output.
func (f *Fd) tcflowBSD(op string, action TcflowAction) error {
	s := &f.k.misc.term
	var vc CcIndex
	switch action {
	case TCOOFF:
		_, err := f.termIntReq(op, s.tiocstop, 0)
		return err
	case TCOON:
		_, err := f.termIntReq(op, s.tiocstart, 0)
		return err
	case TCIOFF:
		vc = VSTOP
	case TCION:
		vc = VSTART
	default:
		return badArg(op, "unknown TcflowAction "+strconv.Itoa(int(action)))
	}
	var t Termios
	if err := f.Tcgetattr(&t); err != nil {
		return err
	}
	// _POSIX_VDISABLE (0xff on the BSDs) means there is no such character.
	if c := t.Cc[vc]; c != 0xff {
		b := [1]byte{c}
		if _, err := f.Write(b[:]); err != nil {
			return err
		}
	}
	return nil
}

// Tcdrain waits until everything written to the terminal has been sent
// (TCSBRK with a non-zero argument, as the C library does it; TIOCDRAIN
// on the BSDs).
func (f *Fd) Tcdrain() error {
	s := f.term()
	if !s.tcsbrk.ok && s.tiocdrain.ok {
		_, err := f.termIntReq("tcdrain", s.tiocdrain, 0) // the BSDs' request
		return err
	}
	_, err := f.termIntReq("tcdrain", s.tcsbrk, 1)
	return err
}

// Tcsendbreak sends a break: zero bits for d, or for the line's default
// (0.25 to 0.5 s) when d <= 0. Linux counts d in tenths of a second
// (TCSBRKP). Terminals that cannot send a break, pseudo-terminals among
// them, return at once.
func (f *Fd) Tcsendbreak(d time.Duration) error {
	const op = "tcsendbreak"
	if d <= 0 {
		_, err := f.termIntReq(op, f.term().tcsbrk, 0)
		return err
	}
	ds := (d + 100*time.Millisecond - 1) / (100 * time.Millisecond)
	if ds > 1<<31-1 {
		return badArg(op, "break longer than 2^31 tenths of a second")
	}
	_, err := f.termIntReq(op, f.term().tcsbrkp, uintptr(ds))
	return err
}

// Setctty makes f the controlling terminal of the calling process, which
// must be a session leader without one (TIOCSCTTY). force steals a
// terminal that is another session's, which needs CAP_SYS_ADMIN.
func (f *Fd) Setctty(force bool) error {
	var a uintptr
	if force {
		a = 1
	}
	_, err := f.termIntReq("ioctl TIOCSCTTY", f.term().sctty, a)
	return err
}

// Notty gives up f as the calling process's controlling terminal
// (TIOCNOTTY). A session leader doing so sends SIGHUP and SIGCONT to the
// terminal's foreground process group.
func (f *Fd) Notty() error {
	_, err := f.termIntReq("ioctl TIOCNOTTY", f.term().notty, 0)
	return err
}

// Tcgetpgrp returns the terminal's foreground process group (TIOCGPGRP).
// f must be the caller's controlling terminal.
func (f *Fd) Tcgetpgrp() (int, error) {
	v, err := f.termInt32Req("tcgetpgrp", f.term().gpgrp, 0)
	return int(v), err
}

// Tcsetpgrp makes pgid the terminal's foreground process group
// (TIOCSPGRP); pgid must be a group of the caller's session.
func (f *Fd) Tcsetpgrp(pgid int) error {
	if err := procCheckID("tcsetpgrp", pgid); err != nil {
		return err
	}
	_, err := f.termInt32Req("tcsetpgrp", f.term().spgrp, int32(pgid))
	return err
}

// Tcgetsid returns the session the terminal controls (TIOCGSID).
func (f *Fd) Tcgetsid() (int, error) {
	v, err := f.termInt32Req("tcgetsid", f.term().gsid, 0)
	return int(v), err
}

// Pseudo-terminals.

// ptmxPath is the multiplexer every Unix98 pseudo-terminal comes from.
const ptmxPath = "/dev/ptmx"

// Openpt opens a new pseudo-terminal master (posix_openpt): flags are
// open flags, normally O_RDWR|O_NOCTTY|O_CLOEXEC. The slave side is
// locked until Unlockpt; Openpty does all the steps.
func (k *Kernel) Openpt(flags OpenFlags) (*Fd, error) {
	if _, err := k.miscBits("posix_openpt", openFlagsFamily, uint64(flags)); err != nil {
		return nil, err
	}
	return k.Open(ptmxPath, flags, 0)
}

// Grantpt gives the slave of master f to the caller's real uid, as
// grantpt(3) must. On Linux's devpts the kernel already did when the
// master was opened, so this only checks that f is a master (TIOCGPTN);
// NetBSD does it with TIOCGRANTPT.
func (f *Fd) Grantpt() error {
	s := f.term()
	if !s.gptn.ok && s.grant.ok {
		_, err := f.termIntReq("grantpt", s.grant, 0)
		return err
	}
	_, err := f.termInt32Req("grantpt", s.gptn, 0)
	return err
}

// Unlockpt unlocks the slave of master f so that it can be opened
// (TIOCSPTLCK with 0). NetBSD has no lock (Grantpt makes the slave
// openable): there it only checks that f is a pseudo-terminal
// (TIOCPTSNAME), so that a bad descriptor is still EBADF or ENOTTY where
// NetBSD's C library returns 0 for anything.
func (f *Fd) Unlockpt() error {
	const op = "unlockpt"
	s := f.term()
	if !s.sptlck.ok && s.ptm.s != nil {
		var raw [ptmBufSize]byte
		_, err := f.ptmget(op, &raw)
		return err
	}
	_, err := f.termInt32Req(op, s.sptlck, 0)
	return err
}

// ptmget fills raw with NetBSD's struct ptmget for the pseudo-terminal f
// (master or slave) by TIOCPTSNAME, and returns the used part.
func (f *Fd) ptmget(op string, raw *[ptmBufSize]byte) ([]byte, error) {
	s := f.term()
	if f == nil {
		return nil, callErr(op, EBADF)
	}
	if !s.ptsname.ok || s.ptm.s == nil {
		return nil, callErr(op, ENOSYS)
	}
	if _, err := f.ioctlPtr(op, s.ptsname.v, unsafe.Pointer(raw)); err != nil {
		return nil, err
	}
	return raw[:s.ptm.size], nil
}

// Lockpt locks the slave of master f again: opens of it fail with EIO
// (TIOCSPTLCK with 1).
func (f *Fd) Lockpt() error {
	_, err := f.termInt32Req("lockpt", f.term().sptlck, 1)
	return err
}

// Ptlocked reports whether the slave of master f is locked (TIOCGPTLCK).
func (f *Fd) Ptlocked() (bool, error) {
	v, err := f.termInt32Req("ptlocked", f.term().gptlck, 0)
	return v != 0, err
}

// Ptsnum returns the number of the slave of master f (TIOCGPTN; on
// NetBSD the minor number TIOCPTSNAME reports, which names the slave in
// ptyfs).
func (f *Fd) Ptsnum() (int, error) {
	const op = "ptsname"
	s := f.term()
	if !s.gptn.ok && s.ptm.s != nil {
		var raw [ptmBufSize]byte
		b, err := f.ptmget(op, &raw)
		if err != nil {
			return 0, err
		}
		return int(uint32(s.ptmSfd.uint(b, s.ptm.be))), nil
	}
	v, err := f.termInt32Req(op, s.gptn, 0)
	return int(uint32(v)), err
}

// Ptsname returns the path of the slave of master f: /dev/pts/N in the
// devpts the caller sees (OpenPeer avoids the path, and the races of
// another devpts mounted there). On NetBSD the kernel names it
// (TIOCPTSNAME: /dev/pts/N with ptyfs mounted there, else /dev/ttyXY),
// and f may be the slave too.
func (f *Fd) Ptsname() (string, error) {
	const op = "ptsname"
	s := f.term()
	if !s.gptn.ok && s.ptm.s != nil {
		var raw [ptmBufSize]byte
		b, err := f.ptmget(op, &raw)
		if err != nil {
			return "", err
		}
		sn := s.ptmSn.bytes(b)
		for i, c := range sn {
			if c == 0 {
				return string(sn[:i]), nil
			}
		}
		return "", callErr(op, ENAMETOOLONG) // no NUL: not a name the kernel would make
	}
	n, err := f.Ptsnum()
	if err != nil {
		return "", err
	}
	return "/dev/pts/" + strconv.Itoa(n), nil
}

// OpenPeer opens the slave of master f with open flags (normally
// O_RDWR|O_NOCTTY|O_CLOEXEC) without going through a path (TIOCGPTPEER,
// Linux 4.13).
func (f *Fd) OpenPeer(flags OpenFlags) (*Fd, error) {
	const op = "ioctl TIOCGPTPEER"
	if f == nil {
		return nil, callErr(op, EBADF)
	}
	fl, err := f.k.miscBits(op, openFlagsFamily, uint64(flags))
	if err != nil {
		return nil, err
	}
	r, err := f.termIntReq(op, f.k.misc.term.gptpeer, uintptr(fl))
	if err != nil {
		return nil, err
	}
	return f.k.newFd(r), nil
}

// Openpty opens a pseudo-terminal pair, as openpty(3) does: the master
// and the slave, both O_RDWR|O_NOCTTY|O_CLOEXEC, the slave unlocked. It
// uses OpenPeer, or the slave's path on kernels without TIOCGPTPEER
// (NetBSD). Close the master first: NetBSD's last close of a slave waits
// seconds for the master to read the output still queued (echo too).
func (k *Kernel) Openpty() (master, slave *Fd, err error) {
	const fl = O_RDWR | O_NOCTTY | O_CLOEXEC
	m, err := k.Openpt(fl)
	if err != nil {
		return nil, nil, err
	}
	if err := m.Grantpt(); err != nil {
		m.Close()
		return nil, nil, err
	}
	if err := m.Unlockpt(); err != nil {
		m.Close()
		return nil, nil, err
	}
	s, err := m.OpenPeer(fl)
	if err != nil {
		// Before Linux 4.13 the request does not exist: ENOTTY or EINVAL.
		name, err2 := m.Ptsname()
		if err2 != nil {
			m.Close()
			return nil, nil, err
		}
		if s, err = k.Open(name, fl, 0); err != nil {
			m.Close()
			return nil, nil, err
		}
	}
	return m, s, nil
}
