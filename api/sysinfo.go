package api

import (
	"time"
	"unsafe"
)

// The system as a whole: uname, host and domain names, sysinfo, getrandom.

var (
	sysUname         = newCall("uname", "__uname")
	sysSethostname   = newCall("sethostname")
	sysSetdomainname = newCall("setdomainname")
	sysSysinfo       = newCall("sysinfo")
	sysGetrandom     = newCall("getrandom")
)

// Buffer bounds: Linux's struct utsname is 390 bytes and its sysinfo 112;
// NetBSD's utsname is 5 fields of 256.
const (
	procUtsnameBufSize = 1536
	procSysinfoBufSize = 256
	procHostNameMax    = 256 // longer names are EINVAL everywhere
)

// Utsname names the kernel and the machine (struct utsname).
type Utsname struct {
	Sysname    string // "Linux"
	Nodename   string // the host name (of the caller's UTS namespace)
	Release    string // "6.1.0-18-amd64"
	Version    string // the build: "#1 SMP PREEMPT_DYNAMIC ..."
	Machine    string // "x86_64"
	Domainname string // the NIS domain name; "" where the kernel has none
}

// Uname fills u with the kernel's names.
func (k *Kernel) Uname(u *Utsname) error {
	if u == nil {
		return badArg("uname", "nil *Utsname")
	}
	s := &k.procs
	if s.utsname.s == nil {
		return callErr("uname", ENOSYS)
	}
	var raw [procUtsnameBufSize]byte
	// Raw syscall: uname copies a few strings and never blocks.
	if _, e := k.rawSyscall(sysUname, uintptr(unsafe.Pointer(&raw[0])), 0, 0, 0, 0, 0); e != 0 {
		return callErr("uname", e)
	}
	str := func(f fieldAt) string {
		if !f.ok() {
			return ""
		}
		return goString(f.bytes(raw[:]))
	}
	*u = Utsname{
		Sysname: str(s.uts[0]), Nodename: str(s.uts[1]), Release: str(s.uts[2]),
		Version: str(s.uts[3]), Machine: str(s.uts[4]), Domainname: str(s.uts[5]),
	}
	return nil
}

// Sethostname sets the host name of the caller's UTS namespace (needs
// privilege there). The namespace is the calling OS thread's: a thread
// that entered a new one (unshare) sees its own.
func (k *Kernel) Sethostname(name string) error {
	return k.setName(sysSethostname, "sethostname", name)
}

// Setdomainname sets the NIS domain name of the caller's UTS namespace.
func (k *Kernel) Setdomainname(name string) error {
	return k.setName(sysSetdomainname, "setdomainname", name)
}

func (k *Kernel) setName(c call, call, name string) error {
	if len(name) > procHostNameMax {
		return badArg(call, "name longer than 256 bytes")
	}
	var b [procHostNameMax]byte
	for i := 0; i < len(name); i++ {
		if name[i] == 0 {
			return badArg(call, "name "+quoteNUL(name)+" contains a NUL byte")
		}
		b[i] = name[i]
	}
	if _, e := k.syscall(c, uintptr(unsafe.Pointer(&b[0])), uintptr(len(name)), 0, 0, 0, 0); e != 0 {
		return callErr(call, e)
	}
	return nil
}

// Sysinfo is overall system statistics (struct sysinfo). Memory sizes are
// in bytes (the kernel's mem_unit already applied).
type Sysinfo struct {
	Uptime    time.Duration
	Loads     [3]float64 // load averages over 1, 5 and 15 minutes
	TotalRAM  uint64
	FreeRAM   uint64
	SharedRAM uint64
	BufferRAM uint64
	TotalSwap uint64
	FreeSwap  uint64
	Procs     int // number of threads
	TotalHigh uint64
	FreeHigh  uint64
}

type procSysinfoFields struct {
	uptime, loads, totalram, freeram, sharedram, bufferram   fieldAt
	totalswap, freeswap, procs, totalhigh, freehigh, memUnit fieldAt
}

// loadScale is 1<<SI_LOAD_SHIFT: loads are fixed-point with 16 fraction
// bits.
const loadScale = 1 << 16

func (s *procState) initSysinfo(k *Kernel) error {
	f := &s.sys
	var err error
	s.sysinfo, err = procStruct(k, "sysinfo", procSysinfoBufSize,
		procField{&f.uptime, "uptime"}, procField{&f.loads, "loads"},
		procField{&f.totalram, "totalram"}, procField{&f.freeram, "freeram"},
		procField{&f.sharedram, "sharedram"}, procField{&f.bufferram, "bufferram"},
		procField{&f.totalswap, "totalswap"}, procField{&f.freeswap, "freeswap"},
		procField{&f.procs, "procs"})
	if err != nil || s.sysinfo.s == nil {
		return err
	}
	if f.loads.size%3 != 0 {
		return errMissing("a struct sysinfo whose loads are 3 longs")
	}
	// Absent on old kernels' layouts: read as zero (mem_unit then 1).
	f.totalhigh = s.sysinfo.field("totalhigh")
	f.freehigh = s.sysinfo.field("freehigh")
	f.memUnit = s.sysinfo.field("mem_unit")
	return nil
}

// Sysinfo fills si with system statistics.
func (k *Kernel) Sysinfo(si *Sysinfo) error {
	if si == nil {
		return badArg("sysinfo", "nil *Sysinfo")
	}
	s := &k.procs
	if s.sysinfo.s == nil {
		return callErr("sysinfo", ENOSYS)
	}
	var raw [procSysinfoBufSize]byte
	// Raw syscall: sysinfo reads counters and never blocks.
	if _, e := k.rawSyscall(sysSysinfo, uintptr(unsafe.Pointer(&raw[0])), 0, 0, 0, 0, 0); e != 0 {
		return callErr("sysinfo", e)
	}
	b, be, f := raw[:], s.sysinfo.be, &s.sys
	unit := f.memUnit.uint(b, be)
	if unit == 0 {
		unit = 1
	}
	mem := func(x fieldAt) uint64 { return x.uint(b, be) * unit }
	*si = Sysinfo{
		Uptime:   time.Duration(f.uptime.int(b, be)) * time.Second,
		TotalRAM: mem(f.totalram), FreeRAM: mem(f.freeram), SharedRAM: mem(f.sharedram),
		BufferRAM: mem(f.bufferram), TotalSwap: mem(f.totalswap), FreeSwap: mem(f.freeswap),
		Procs:     int(f.procs.uint(b, be)),
		TotalHigh: mem(f.totalhigh), FreeHigh: mem(f.freehigh),
	}
	w := f.loads.size / 3
	for i := range si.Loads {
		l := fieldAt{off: f.loads.off + uint16(i)*w, size: w}
		si.Loads[i] = float64(l.uint(b, be)) / loadScale
	}
	return nil
}

// Getrandom fills p with random bytes from the kernel and returns how many
// it wrote: up to 256 bytes are never short once the pool is initialised;
// larger reads may be (and a signal may interrupt them). GRND_NONBLOCK
// fails with EAGAIN instead of waiting for the pool at early boot,
// GRND_RANDOM draws on the blocking pool of old kernels, GRND_INSECURE
// never waits. It does not allocate.
func (k *Kernel) Getrandom(p []byte, flags GrndFlags) (int, error) {
	fl, err := k.procCheckBits("getrandom", grndFlagsFamily, uint64(flags))
	if err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	r, e := k.syscall(sysGetrandom, uintptr(bufPtr(p)), uintptr(len(p)), fl, 0, 0, 0)
	if e != 0 {
		return 0, callErr("getrandom", e)
	}
	return int(r), nil
}
