package procfs

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/anykernel/anykernel/api"
)

// Status is /proc/<pid>/status parsed: the fields most programs want, typed,
// and every line as it was in Fields. Memory sizes are in bytes (the file
// says kB); fields an older kernel lacks are zero.
type Status struct {
	Name      string   // command name, unescaped
	Umask     api.Mode // HasUmask says whether the kernel told it
	HasUmask  bool
	State     byte   // 'R', 'S', 'D', 'T', 't', 'Z', 'X', 'I'
	StateName string // "running", "sleeping", ...
	Tgid      int
	Ngid      int
	Pid       int
	PPid      int
	TracerPid int
	Uid       [4]int // real, effective, saved set, file system
	Gid       [4]int
	FDSize    int   // slots allocated in the descriptor table
	Groups    []int // supplementary groups
	NStgid    []int // the pid in each pid namespace, outermost first
	NSpid     []int
	NSpgid    []int
	NSsid     []int

	VmPeak, VmSize, VmLck, VmPin, VmHWM, VmRSS    int64
	RssAnon, RssFile, RssShmem                    int64
	VmData, VmStk, VmExe, VmLib, VmPTE, VmSwap    int64
	HugetlbPages                                  int64
	Threads                                       int
	SigPnd, ShdPnd, SigBlk, SigIgn, SigCgt        uint64 // signal masks, bit n-1 for signal n
	CapInh, CapPrm, CapEff, CapBnd, CapAmb        uint64
	NoNewPrivs                                    bool
	Seccomp                                       int // 0 off, 1 strict, 2 filter
	CpusAllowedList, MemsAllowedList              string
	VoluntaryCtxtSwitches, NonvoluntaryCtxtSwitch uint64

	Fields map[string]string // every "Key: value" line, value trimmed
}

// Status reads and parses /proc/<pid>/status.
func (p Proc) Status() (*Status, error) {
	b, err := p.read("status")
	if err != nil {
		return nil, err
	}
	return ParseStatus(b)
}

// ParseStatus parses the contents of a /proc/<pid>/status file.
func ParseStatus(b []byte) (*Status, error) {
	s := &Status{Fields: map[string]string{}}
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte{'\n'})
		k, v, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			continue
		}
		key := string(k)
		val := strings.TrimSpace(string(v))
		s.Fields[key] = val
		if err := s.set(key, val); err != nil {
			return s, fmt.Errorf("procfs: status %s %q: %w", key, val, err)
		}
	}
	if _, ok := s.Fields["Pid"]; !ok {
		return s, fmt.Errorf("procfs: status without a Pid line")
	}
	return s, nil
}

func (s *Status) set(key, val string) error {
	var err error
	atoi := func(p *int) { *p, err = strconv.Atoi(val) }
	kb := func(p *int64) {
		n, _, _ := strings.Cut(val, " ")
		var v int64
		v, err = strconv.ParseInt(n, 10, 64)
		*p = v * 1024
	}
	hex := func(p *uint64) { *p, err = strconv.ParseUint(val, 16, 64) }
	switch key {
	case "Name":
		s.Name = unescape(val)
	case "Umask":
		var m uint64
		m, err = strconv.ParseUint(val, 8, 32)
		s.Umask, s.HasUmask = api.Mode(m), err == nil
	case "State":
		if val != "" {
			s.State = val[0]
		}
		if i := strings.IndexByte(val, '('); i >= 0 {
			s.StateName = strings.TrimSuffix(val[i+1:], ")")
		}
	case "Tgid":
		atoi(&s.Tgid)
	case "Ngid":
		atoi(&s.Ngid)
	case "Pid":
		atoi(&s.Pid)
	case "PPid":
		atoi(&s.PPid)
	case "TracerPid":
		atoi(&s.TracerPid)
	case "Uid", "Gid":
		var ids []int
		ids, err = ints(val)
		if err == nil && len(ids) != 4 {
			err = fmt.Errorf("want 4 ids")
		}
		if err == nil {
			if key == "Uid" {
				copy(s.Uid[:], ids)
			} else {
				copy(s.Gid[:], ids)
			}
		}
	case "FDSize":
		atoi(&s.FDSize)
	case "Groups":
		s.Groups, err = ints(val)
	case "NStgid":
		s.NStgid, err = ints(val)
	case "NSpid":
		s.NSpid, err = ints(val)
	case "NSpgid":
		s.NSpgid, err = ints(val)
	case "NSsid":
		s.NSsid, err = ints(val)
	case "VmPeak":
		kb(&s.VmPeak)
	case "VmSize":
		kb(&s.VmSize)
	case "VmLck":
		kb(&s.VmLck)
	case "VmPin":
		kb(&s.VmPin)
	case "VmHWM":
		kb(&s.VmHWM)
	case "VmRSS":
		kb(&s.VmRSS)
	case "RssAnon":
		kb(&s.RssAnon)
	case "RssFile":
		kb(&s.RssFile)
	case "RssShmem":
		kb(&s.RssShmem)
	case "VmData":
		kb(&s.VmData)
	case "VmStk":
		kb(&s.VmStk)
	case "VmExe":
		kb(&s.VmExe)
	case "VmLib":
		kb(&s.VmLib)
	case "VmPTE":
		kb(&s.VmPTE)
	case "VmSwap":
		kb(&s.VmSwap)
	case "HugetlbPages":
		kb(&s.HugetlbPages)
	case "Threads":
		atoi(&s.Threads)
	case "SigPnd":
		hex(&s.SigPnd)
	case "ShdPnd":
		hex(&s.ShdPnd)
	case "SigBlk":
		hex(&s.SigBlk)
	case "SigIgn":
		hex(&s.SigIgn)
	case "SigCgt":
		hex(&s.SigCgt)
	case "CapInh":
		hex(&s.CapInh)
	case "CapPrm":
		hex(&s.CapPrm)
	case "CapEff":
		hex(&s.CapEff)
	case "CapBnd":
		hex(&s.CapBnd)
	case "CapAmb":
		hex(&s.CapAmb)
	case "NoNewPrivs":
		s.NoNewPrivs = val == "1"
	case "Seccomp":
		atoi(&s.Seccomp)
	case "Cpus_allowed_list":
		s.CpusAllowedList = val
	case "Mems_allowed_list":
		s.MemsAllowedList = val
	case "voluntary_ctxt_switches":
		s.VoluntaryCtxtSwitches, err = strconv.ParseUint(val, 10, 64)
	case "nonvoluntary_ctxt_switches":
		s.NonvoluntaryCtxtSwitch, err = strconv.ParseUint(val, 10, 64)
	}
	return err
}

func ints(val string) ([]int, error) {
	f := strings.Fields(val)
	out := make([]int, 0, len(f))
	for _, w := range f {
		n, err := strconv.Atoi(w)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// unescape undoes the escapes the kernel writes in names (status's Name:
// "\n", "\\", octal "\ooo").
func unescape(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'v':
			b.WriteByte('\v')
		case 'f':
			b.WriteByte('\f')
		case 'a':
			b.WriteByte('\a')
		case 'e':
			b.WriteByte(0x1b)
		case '0', '1', '2', '3':
			if i+2 < len(s) && isOct(s[i+1]) && isOct(s[i+2]) {
				b.WriteByte((s[i]-'0')<<6 | (s[i+1]-'0')<<3 | (s[i+2] - '0'))
				i += 2
			} else {
				b.WriteByte('\\')
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(s[i]) // "\\" and "\"" stand for themselves
		}
	}
	return b.String()
}

func isOct(c byte) bool { return c >= '0' && c <= '7' }

// Stat is /proc/<pid>/stat parsed (see proc(5)). Times are in clock ticks
// (USER_HZ, 100 per second on Linux whatever the kernel's HZ); Rss is in
// pages.
type Stat struct {
	Pid        int
	Comm       string // may hold spaces and parentheses
	State      byte
	PPid       int
	Pgrp       int
	Session    int
	TtyNr      int
	Tpgid      int
	Flags      uint64
	MinFlt     uint64
	CMinFlt    uint64
	MajFlt     uint64
	CMajFlt    uint64
	Utime      uint64
	Stime      uint64
	CUtime     int64
	CStime     int64
	Priority   int64
	Nice       int64
	NumThreads int64
	StartTime  uint64 // since boot
	VSize      uint64 // bytes
	Rss        int64  // pages
	RssLim     uint64
	ExitSignal int
	Processor  int
	RTPriority uint64
	Policy     uint64
	BlkioTicks uint64
	GuestTime  uint64
	CGuestTime int64
	Rest       []string // every field after Comm, as text: Rest[0] is the state, field 3 of proc(5)
}

// Stat reads and parses /proc/<pid>/stat.
func (p Proc) Stat() (*Stat, error) {
	b, err := p.read("stat")
	if err != nil {
		return nil, err
	}
	return ParseStat(b)
}

// ParseStat parses the contents of a /proc/<pid>/stat file. The command
// name is what lies between the first "(" and the last ")", so names with
// spaces and parentheses come out whole.
func ParseStat(b []byte) (*Stat, error) {
	line := strings.TrimRight(string(b), "\n")
	open := strings.IndexByte(line, '(')
	cl := strings.LastIndexByte(line, ')')
	if open < 0 || cl < open {
		return nil, fmt.Errorf("procfs: stat line without (comm): %q", line)
	}
	s := &Stat{Comm: line[open+1 : cl]}
	var err error
	if s.Pid, err = strconv.Atoi(strings.TrimSpace(line[:open])); err != nil {
		return nil, fmt.Errorf("procfs: stat pid: %w", err)
	}
	s.Rest = strings.Fields(line[cl+1:])
	f := s.Rest
	if len(f) < 42 || len(f[0]) != 1 {
		return nil, fmt.Errorf("procfs: stat has %d fields after comm, want at least 42 (Linux 2.6.24 on)", len(f))
	}
	s.State = f[0][0]
	// field(n) is field n of proc(5), counting pid as 1 and comm as 2.
	u := func(n int) uint64 {
		v, e := strconv.ParseUint(f[n-3], 10, 64)
		if e != nil && err == nil {
			err = fmt.Errorf("procfs: stat field %d %q: %w", n, f[n-3], e)
		}
		return v
	}
	i := func(n int) int64 {
		v, e := strconv.ParseInt(f[n-3], 10, 64)
		if e != nil && err == nil {
			err = fmt.Errorf("procfs: stat field %d %q: %w", n, f[n-3], e)
		}
		return v
	}
	s.PPid = int(i(4))
	s.Pgrp = int(i(5))
	s.Session = int(i(6))
	s.TtyNr = int(i(7))
	s.Tpgid = int(i(8))
	s.Flags = u(9)
	s.MinFlt, s.CMinFlt, s.MajFlt, s.CMajFlt = u(10), u(11), u(12), u(13)
	s.Utime, s.Stime = u(14), u(15)
	s.CUtime, s.CStime = i(16), i(17)
	s.Priority, s.Nice, s.NumThreads = i(18), i(19), i(20)
	s.StartTime = u(22)
	s.VSize = u(23)
	s.Rss = i(24)
	s.RssLim = u(25)
	s.ExitSignal = int(i(38))
	s.Processor = int(i(39))
	s.RTPriority, s.Policy = u(40), u(41)
	s.BlkioTicks = u(42)
	s.GuestTime, s.CGuestTime = u(43), i(44)
	return s, err
}
