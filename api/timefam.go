package api

import "unsafe"

// The time family's per-Kernel state: the layouts of the time structs and
// the constants the clock and timer calls need, resolved once at New.

// Scratch sizes for the time structs, the largest any ABI api serves uses;
// New refuses an ABI whose struct is larger.
const (
	timespecBufSize   = 16 // struct timespec, struct timeval
	itimerspecBufSize = 32 // struct itimerspec, struct itimerval
	sigeventBufSize   = 64 // struct sigevent (the kernel always copies all of it)
	tmsBufSize        = 32 // struct tms
)

// timeState is the time family's per-Kernel state, filled in at New.
type timeState struct {
	ts     layout // struct timespec
	tsSec  fieldAt
	tsNsec fieldAt
	tsLP64 bool // timespec is two little-endian int64s: copy, do not decode
	// nanosleep's struct timespec: ts, except on time64 kernels, where
	// nanosleep (with no _time64 form) keeps the 32-bit one.
	nsTs          layout
	nsSec, nsNsec fieldAt
	tv            layout
	tvSec         fieldAt
	tvUsec        fieldAt
	its           layout // struct itimerspec; size 0 when the ABI lacks it
	itsIntS       fieldAt
	itsIntN       fieldAt
	itsValS       fieldAt
	itsValN       fieldAt
	itv           layout // struct itimerval
	itvIntS       fieldAt
	itvIntU       fieldAt
	itvValS       fieldAt
	itvValU       fieldAt
	sev           layout // struct sigevent
	sevValue      fieldAt
	sevSigno      fieldAt
	sevNote       fieldAt
	sevTid        fieldAt
	tms           layout // struct tms
	tmsU          fieldAt
	tmsS          fieldAt
	tmsCU         fieldAt
	tmsCS         fieldAt

	// itimer holds the ABI's ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF;
	// itimerOK is false when the table lacks them (getitimer and setitimer
	// answer ENOSYS then).
	itimer   [3]uint64
	itimerOK bool
}

// fieldsOf resolves the named fields of l into the places given, or returns
// an error naming the first one missing. A layout the ABI lacks (size 0)
// resolves nothing and is not an error: its calls answer ENOSYS.
func fieldsOf(l layout, max int, fields ...any) error {
	if l.s == nil {
		return nil
	}
	if l.size > max {
		return errMissing("a struct " + l.s.Name + " that fits api's scratch buffer")
	}
	for i := 0; i+1 < len(fields); i += 2 {
		f, err := l.must(fields[i+1].(string))
		if err != nil {
			return err
		}
		*fields[i].(*fieldAt) = f
	}
	return nil
}

func (s *timeState) init(k *Kernel) error {
	var err error
	if s.ts, err = k.layoutOf("timespec"); err != nil {
		return err
	}
	if err = fieldsOf(s.ts, timespecBufSize, &s.tsSec, "tv_sec", &s.tsNsec, "tv_nsec"); err != nil {
		return err
	}
	s.tsLP64 = !s.ts.be && hostLittleEndian() && s.tsSec == fieldAt{0, 8} && s.tsNsec == fieldAt{8, 8}
	s.nsTs, s.nsSec, s.nsNsec = s.ts, s.tsSec, s.tsNsec
	if st, ok := k.table.Struct("timespec"); ok && k.time64 {
		s.nsTs = layout{size: st.Size, be: k.table.BigEndian, s: st}
		if err = fieldsOf(s.nsTs, timespecBufSize, &s.nsSec, "tv_sec", &s.nsNsec, "tv_nsec"); err != nil {
			return err
		}
	}
	s.tv = k.optLayout("timeval")
	if err = fieldsOf(s.tv, timespecBufSize, &s.tvSec, "tv_sec", &s.tvUsec, "tv_usec"); err != nil {
		return err
	}
	s.its = k.optLayout("itimerspec")
	if err = fieldsOf(s.its, itimerspecBufSize,
		&s.itsIntS, "it_interval.tv_sec", &s.itsIntN, "it_interval.tv_nsec",
		&s.itsValS, "it_value.tv_sec", &s.itsValN, "it_value.tv_nsec"); err != nil {
		return err
	}
	s.itv = k.optLayout("itimerval")
	if err = fieldsOf(s.itv, itimerspecBufSize,
		&s.itvIntS, "it_interval.tv_sec", &s.itvIntU, "it_interval.tv_usec",
		&s.itvValS, "it_value.tv_sec", &s.itvValU, "it_value.tv_usec"); err != nil {
		return err
	}
	s.sev = k.optLayout("sigevent")
	if err = fieldsOf(s.sev, sigeventBufSize,
		&s.sevValue, "sigev_value", &s.sevSigno, "sigev_signo", &s.sevNote, "sigev_notify"); err != nil {
		return err
	}
	s.sevTid = s.sev.field("sigev_notify_thread_id") // Linux only
	s.tms = k.optLayout("tms")
	if err = fieldsOf(s.tms, tmsBufSize,
		&s.tmsU, "tms_utime", &s.tmsS, "tms_stime", &s.tmsCU, "tms_cutime", &s.tmsCS, "tms_cstime"); err != nil {
		return err
	}
	s.itimerOK = true
	for i, n := range [...]string{"ITIMER_REAL", "ITIMER_VIRTUAL", "ITIMER_PROF"} {
		v, ok := k.table.Const(n)
		if !ok {
			s.itimerOK = false
			break
		}
		s.itimer[i] = v
	}
	return nil
}

// putTimespec encodes t as the ABI's struct timespec at the start of b.
func (s *timeState) putTimespec(b []byte, t Timespec) {
	if s.tsLP64 {
		*(*[2]int64)(unsafe.Pointer(&b[0])) = [2]int64{t.Sec, t.Nsec}
		return
	}
	s.tsSec.put(b, s.ts.be, uint64(t.Sec))
	s.tsNsec.put(b, s.ts.be, uint64(t.Nsec))
}

// timespec decodes the ABI's struct timespec at the start of b.
func (s *timeState) timespec(b []byte) Timespec {
	if s.tsLP64 {
		r := *(*[2]int64)(unsafe.Pointer(&b[0]))
		return Timespec{r[0], r[1]}
	}
	return Timespec{s.tsSec.int(b, s.ts.be), s.tsNsec.int(b, s.ts.be)}
}

// hostLittleEndian reports whether this process stores integers
// little-endian, which copying a struct instead of decoding it assumes.
func hostLittleEndian() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}
