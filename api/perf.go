package api

import (
	"os"
	"runtime"
	"strconv"
	"unsafe"
)

// Performance counters: perf_event_open(2), the PERF_EVENT_IOC_* ioctls and
// reading counts. Only Linux has them; elsewhere the calls answer ENOSYS.

var (
	sysPerfEventOpen = newCall("perf_event_open")
	sysPerfIoctl     = newCall("ioctl")
)

// perfState holds what perf events need from the ABI (part of bpfState).
type perfState struct {
	missing string // why perf answers ENOSYS, "" when it works
	attr    layout
	f       struct {
		typ, size, config, samplePeriod, sampleType, readFormat, flags fieldAt
		wakeupEvents, config1, config2                                 fieldAt
	}
	iocEnable, iocDisable, iocReset, iocFlagGroup uint64
}

// perfAttrBufSize bounds struct perf_event_attr (128 bytes in Linux 6.1's
// headers, PERF_ATTR_SIZE_VER7).
const perfAttrBufSize = 256

func (s *perfState) init(k *Kernel) error {
	s.missing = s.setup(k)
	return nil
}

func (s *perfState) setup(k *Kernel) string {
	if !k.hasCall(sysPerfEventOpen) {
		return "the ABI has no perf_event_open call"
	}
	l, err := k.layoutOf("perf_event_attr")
	if err != nil {
		return err.Error()
	}
	if l.size > perfAttrBufSize {
		return "struct perf_event_attr is larger than 256 bytes"
	}
	s.attr = l
	f := &s.f
	for _, x := range []struct {
		p    *fieldAt
		name string
	}{
		{&f.typ, "type"}, {&f.size, "size"}, {&f.config, "config"}, {&f.samplePeriod, "sample_period"},
		{&f.sampleType, "sample_type"}, {&f.readFormat, "read_format"}, {&f.flags, "flags"},
		{&f.wakeupEvents, "wakeup_events"}, {&f.config1, "config1"}, {&f.config2, "config2"},
	} {
		if *x.p, err = l.must(x.name); err != nil {
			return err.Error()
		}
	}
	if f.flags.size != 8 {
		return "perf_event_attr's flag bits are not one 64-bit word"
	}
	for _, x := range []struct {
		p    *uint64
		name string
	}{
		{&s.iocEnable, "PERF_EVENT_IOC_ENABLE"}, {&s.iocDisable, "PERF_EVENT_IOC_DISABLE"},
		{&s.iocReset, "PERF_EVENT_IOC_RESET"}, {&s.iocFlagGroup, "PERF_IOC_FLAG_GROUP"},
	} {
		v, ok := k.table.Const(x.name)
		if !ok {
			return "the ABI table lacks " + x.name
		}
		*x.p = v
	}
	return ""
}

// PerfEventAttr describes a counter to open (struct perf_event_attr, the
// counting part of it).
type PerfEventAttr struct {
	Type PerfType
	// Config picks the event: a PerfSwConfig for PERF_TYPE_SOFTWARE, a
	// PerfHwConfig for PERF_TYPE_HARDWARE (both translated to the
	// kernel's numbering), else the kernel's raw value.
	Config       uint64
	SamplePeriod uint64 // events between samples (sample frequency with Freq)
	SampleType   PerfSampleType
	ReadFormat   PerfReadFormat // what Read returns beside the value
	WakeupEvents uint32
	Config1      uint64
	Config2      uint64

	// The flag bits.
	Disabled      bool // start disabled: Enable starts counting
	Inherit       bool // count in children created after the open, too
	Pinned        bool // always on the PMU, or in error state
	Exclusive     bool // alone on the PMU while it counts
	ExcludeUser   bool // leave user space out
	ExcludeKernel bool // leave the kernel out (needed without privilege when perf_event_paranoid >= 2)
	ExcludeHV     bool // leave the hypervisor out
	ExcludeIdle   bool // leave the idle task out
	Freq          bool // SamplePeriod is a frequency
	InheritStat   bool // per-task counts for inherited counters
	EnableOnExec  bool // enable at the next exec
}

// perfFlagBits are the bit numbers of PerfEventAttr's flags in the
// bit-field word after read_format, in the order struct perf_event_attr
// declares them (the header gives them no names as numbers). Bit-fields are
// allocated from the low bit on little-endian ABIs, from the high bit on
// big-endian ones.
const (
	perfBitDisabled      = 0
	perfBitInherit       = 1
	perfBitPinned        = 2
	perfBitExclusive     = 3
	perfBitExcludeUser   = 4
	perfBitExcludeKernel = 5
	perfBitExcludeHV     = 6
	perfBitExcludeIdle   = 7
	perfBitFreq          = 10
	perfBitInheritStat   = 11
	perfBitEnableOnExec  = 12
)

func (s *perfState) flagWord(a *PerfEventAttr, be bool) uint64 {
	var w uint64
	set := func(on bool, bit uint) {
		if !on {
			return
		}
		if be {
			w |= 1 << (63 - bit)
		} else {
			w |= 1 << bit
		}
	}
	set(a.Disabled, perfBitDisabled)
	set(a.Inherit, perfBitInherit)
	set(a.Pinned, perfBitPinned)
	set(a.Exclusive, perfBitExclusive)
	set(a.ExcludeUser, perfBitExcludeUser)
	set(a.ExcludeKernel, perfBitExcludeKernel)
	set(a.ExcludeHV, perfBitExcludeHV)
	set(a.ExcludeIdle, perfBitExcludeIdle)
	set(a.Freq, perfBitFreq)
	set(a.InheritStat, perfBitInheritStat)
	set(a.EnableOnExec, perfBitEnableOnExec)
	return w
}

// PerfEvent is an open counter.
type PerfEvent struct {
	fd         *Fd
	readFormat PerfReadFormat
}

// PerfEventOpen opens a counter (perf_event_open). pid and cpu choose what
// it counts: pid 0 the calling thread (a Go goroutine moves between
// threads: see PerfMeasure), pid > 0 that process or thread, pid -1 with a
// cpu >= 0 everything on that CPU; cpu -1 any CPU. group, when not nil, is
// the leader of the group the counter joins. flags may hold
// PERF_FLAG_FD_CLOEXEC and the other PERF_FLAG_* bits.
//
// Without privilege the kernel applies kernel.perf_event_paranoid: at 2,
// only user-space counting of one's own processes (ExcludeKernel set); at
// 3 and above (some distributions), nothing: EACCES or EPERM.
func (k *Kernel) PerfEventOpen(attr *PerfEventAttr, pid, cpu int, group *PerfEvent, flags PerfFlags) (*PerfEvent, error) {
	const op = "perf_event_open"
	if attr == nil {
		return nil, badArg(op, "nil *PerfEventAttr")
	}
	s := &k.bpf.perf
	if s.missing != "" {
		return nil, callErr(op, ENOSYS)
	}
	if pid < -1 || pid > 1<<31-1 || cpu < -1 || cpu > 1<<31-1 {
		return nil, badArg(op, "pid or cpu out of range")
	}
	if attr.ReadFormat&PERF_FORMAT_GROUP != 0 {
		return nil, badArg(op, "PERF_FORMAT_GROUP is not supported by Read")
	}
	typ, err := k.enumToABI(perfTypeFamily, uint64(attr.Type))
	if err != nil {
		return nil, callErrWrap(op, err)
	}
	config := attr.Config
	switch attr.Type {
	case PERF_TYPE_SOFTWARE:
		if config, err = k.enumToABI(perfSwConfigFamily, attr.Config); err != nil {
			return nil, callErrWrap(op, err)
		}
	case PERF_TYPE_HARDWARE:
		if config, err = k.enumToABI(perfHwConfigFamily, attr.Config); err != nil {
			return nil, callErrWrap(op, err)
		}
	}
	st, err := k.flagsToABI(perfSampleTypeFamily, uint64(attr.SampleType))
	if err != nil {
		return nil, callErrWrap(op, err)
	}
	rf, err := k.flagsToABI(perfReadFormatFamily, uint64(attr.ReadFormat))
	if err != nil {
		return nil, callErrWrap(op, err)
	}
	fl, err := k.flagsToABI(perfFlagsFamily, uint64(flags))
	if err != nil {
		return nil, callErrWrap(op, err)
	}
	if uint64(uintptr(fl)) != fl { // the argument is an unsigned long
		return nil, badArg(op, "flags "+flags.String()+" beyond the word size")
	}
	var raw [perfAttrBufSize]byte
	b, be := raw[:], s.attr.be
	f := &s.f
	f.typ.put(b, be, typ)
	f.size.put(b, be, uint64(s.attr.size))
	f.config.put(b, be, config)
	f.samplePeriod.put(b, be, attr.SamplePeriod)
	f.sampleType.put(b, be, st)
	f.readFormat.put(b, be, rf)
	f.flags.put(b, be, s.flagWord(attr, be))
	f.wakeupEvents.put(b, be, uint64(attr.WakeupEvents))
	f.config1.put(b, be, attr.Config1)
	f.config2.put(b, be, attr.Config2)
	gfd := uintptr(^uint(0)) // -1: no group
	if group != nil {
		if group.fd == nil || group.fd.k != k {
			return nil, callErr(op, EBADF)
		}
		n, e := group.fd.acquire()
		if e != 0 {
			return nil, callErr(op, e)
		}
		defer group.fd.release()
		gfd = n
	}
	r, e := k.syscall(sysPerfEventOpen, uintptr(unsafe.Pointer(&raw)), uintptr(pid), uintptr(cpu), gfd, uintptr(fl), 0)
	if e != 0 {
		return nil, callErr(op, e)
	}
	return &PerfEvent{fd: k.newFd(r), readFormat: attr.ReadFormat}, nil
}

// callErrWrap wraps a translation error with the call's name.
func callErrWrap(op string, err error) error { return os.NewSyscallError(op, err) }

// Fd returns the counter's descriptor.
func (p *PerfEvent) Fd() *Fd {
	if p == nil {
		return nil
	}
	return p.fd
}

// Close releases the counter.
func (p *PerfEvent) Close() error {
	if p == nil {
		return callErr("close", EBADF)
	}
	return p.fd.Close()
}

// perfIoc names the three counter ioctls.
type perfIoc uint8

const (
	perfIocEnable perfIoc = iota
	perfIocDisable
	perfIocReset
)

func (p *PerfEvent) ioctl(which perfIoc, group bool) error {
	const op = "ioctl"
	if p == nil || p.fd == nil {
		return callErr(op, EBADF)
	}
	s := &p.fd.k.bpf.perf
	req := s.iocEnable
	switch which {
	case perfIocDisable:
		req = s.iocDisable
	case perfIocReset:
		req = s.iocReset
	}
	var arg uintptr
	if group {
		arg = uintptr(s.iocFlagGroup)
	}
	n, e := p.fd.acquire()
	if e != 0 {
		return callErr(op, e)
	}
	_, e = p.fd.k.syscall(sysPerfIoctl, n, uintptr(req), arg, 0, 0, 0)
	p.fd.release()
	if e != 0 {
		return callErr(op, e)
	}
	return nil
}

// Enable starts counting (ioctl PERF_EVENT_IOC_ENABLE).
func (p *PerfEvent) Enable() error { return p.ioctl(perfIocEnable, false) }

// Disable stops counting; the count is kept (PERF_EVENT_IOC_DISABLE).
func (p *PerfEvent) Disable() error { return p.ioctl(perfIocDisable, false) }

// Reset sets the count back to zero (PERF_EVENT_IOC_RESET).
func (p *PerfEvent) Reset() error { return p.ioctl(perfIocReset, false) }

// EnableGroup starts the whole group p leads (PERF_IOC_FLAG_GROUP).
func (p *PerfEvent) EnableGroup() error { return p.ioctl(perfIocEnable, true) }

// DisableGroup stops the whole group p leads.
func (p *PerfEvent) DisableGroup() error { return p.ioctl(perfIocDisable, true) }

// ResetGroup zeroes the whole group p leads.
func (p *PerfEvent) ResetGroup() error { return p.ioctl(perfIocReset, true) }

// PerfCount is what reading a counter gives; the fields beyond Value are
// filled when PerfEventAttr.ReadFormat asked for them.
type PerfCount struct {
	Value       uint64
	TimeEnabled uint64 // ns the counter was enabled (PERF_FORMAT_TOTAL_TIME_ENABLED)
	TimeRunning uint64 // ns it was on the PMU (PERF_FORMAT_TOTAL_TIME_RUNNING)
	ID          uint64 // PERF_FORMAT_ID
	Lost        uint64 // PERF_FORMAT_LOST
}

// Scaled estimates the count had the counter run all the time it was
// enabled (the PMU multiplexes counters when it has too few): Value *
// TimeEnabled / TimeRunning. It needs both times in ReadFormat; otherwise,
// or when the counter never ran, it returns Value.
func (c PerfCount) Scaled() uint64 {
	if c.TimeRunning == 0 || c.TimeEnabled == c.TimeRunning {
		return c.Value
	}
	return uint64(float64(c.Value) * float64(c.TimeEnabled) / float64(c.TimeRunning))
}

// Read reads the counter.
func (p *PerfEvent) Read() (PerfCount, error) {
	var c PerfCount
	if p == nil || p.fd == nil {
		return c, callErr("read", EBADF)
	}
	var raw [5 * 8]byte
	want := 8
	for _, b := range []PerfReadFormat{PERF_FORMAT_TOTAL_TIME_ENABLED, PERF_FORMAT_TOTAL_TIME_RUNNING, PERF_FORMAT_ID, PERF_FORMAT_LOST} {
		if p.readFormat&b != 0 {
			want += 8
		}
	}
	n, err := p.fd.Read(raw[:want])
	if err != nil {
		return c, err
	}
	if n != want {
		return c, badArg("read", "perf counter gave "+strconv.Itoa(n)+" bytes, want "+strconv.Itoa(want))
	}
	u := fieldAt{size: 8}
	be := p.fd.k.table.BigEndian
	next := func() uint64 {
		v := u.uint(raw[:], be)
		u.off += 8
		return v
	}
	c.Value = next()
	if p.readFormat&PERF_FORMAT_TOTAL_TIME_ENABLED != 0 {
		c.TimeEnabled = next()
	}
	if p.readFormat&PERF_FORMAT_TOTAL_TIME_RUNNING != 0 {
		c.TimeRunning = next()
	}
	if p.readFormat&PERF_FORMAT_ID != 0 {
		c.ID = next()
	}
	if p.readFormat&PERF_FORMAT_LOST != 0 {
		c.Lost = next()
	}
	return c, nil
}

// PerfMeasure counts event attr while f runs on the calling goroutine: it
// pins the goroutine to its thread (a counter with pid 0 follows one
// thread, and Go would otherwise move the goroutine away from it), opens the
// counter disabled, enables it around f, and returns the count. Work f
// hands to other goroutines is not counted.
func (k *Kernel) PerfMeasure(attr *PerfEventAttr, f func()) (PerfCount, error) {
	if attr == nil || f == nil {
		return PerfCount{}, badArg("perf_event_open", "nil attr or function")
	}
	a := *attr
	a.Disabled = true
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p, err := k.PerfEventOpen(&a, 0, -1, nil, PERF_FLAG_FD_CLOEXEC)
	if err != nil {
		return PerfCount{}, err
	}
	defer p.Close()
	if err := p.Enable(); err != nil {
		return PerfCount{}, err
	}
	f()
	if err := p.Disable(); err != nil {
		return PerfCount{}, err
	}
	return p.Read()
}
