package api

import (
	"math/bits"
	"strconv"
	"strings"
	"unsafe"
)

// Scheduling: CPU affinity, policies and priorities, nice values, getcpu.
//
// Linux schedules threads: pid 0 in these calls means the calling OS
// thread, and a goroutine runs on whichever thread Go picks unless it is
// locked to one (runtime.LockOSThread). Lock first when the target is "this
// thread", or pass a thread id (Gettid) or a process id.

var (
	sysSchedGetaffinity  = newCall("sched_getaffinity")
	sysSchedSetaffinity  = newCall("sched_setaffinity")
	sysSchedYield        = newCall("sched_yield")
	sysSchedGetscheduler = newCall("sched_getscheduler")
	sysSchedSetscheduler = newCall("sched_setscheduler")
	sysSchedGetparam     = newCall("sched_getparam")
	sysSchedSetparam     = newCall("sched_setparam")
	sysSchedGetPrioMax   = newCall("sched_get_priority_max")
	sysSchedGetPrioMin   = newCall("sched_get_priority_min")
	sysGetpriority       = newCall("getpriority")
	sysSetpriority       = newCall("setpriority")
	sysGetcpu            = newCall("getcpu")
)

// procSchedParamBufSize bounds struct sched_param.
const procSchedParamBufSize = 16

// CPUSetSize is the number of CPUs a CPUSet can name (glibc's
// CPU_SETSIZE).
const CPUSetSize = 1024

// CPUSet is a set of CPUs, numbered from 0, for affinity masks. Its zero
// value is the empty set.
type CPUSet struct {
	bits [CPUSetSize / 64]uint64
}

// Set adds cpu to the set; numbers outside [0, CPUSetSize) are ignored.
func (s *CPUSet) Set(cpu int) {
	if cpu >= 0 && cpu < CPUSetSize {
		s.bits[cpu/64] |= 1 << (cpu % 64)
	}
}

// Clear removes cpu from the set.
func (s *CPUSet) Clear(cpu int) {
	if cpu >= 0 && cpu < CPUSetSize {
		s.bits[cpu/64] &^= 1 << (cpu % 64)
	}
}

// IsSet reports whether cpu is in the set.
func (s *CPUSet) IsSet(cpu int) bool {
	return cpu >= 0 && cpu < CPUSetSize && s.bits[cpu/64]&(1<<(cpu%64)) != 0
}

// Zero empties the set.
func (s *CPUSet) Zero() { s.bits = [CPUSetSize / 64]uint64{} }

// Count returns the number of CPUs in the set.
func (s *CPUSet) Count() int {
	n := 0
	for _, w := range s.bits {
		n += bits.OnesCount64(w)
	}
	return n
}

// CPUs returns the members in increasing order.
func (s *CPUSet) CPUs() []int {
	var out []int
	for i, w := range s.bits {
		for w != 0 {
			b := bits.TrailingZeros64(w)
			out = append(out, i*64+b)
			w &^= 1 << b
		}
	}
	return out
}

// String lists the members as Linux prints them: "0-3,6".
func (s *CPUSet) String() string {
	var b strings.Builder
	cpus := s.CPUs()
	for i := 0; i < len(cpus); {
		j := i
		for j+1 < len(cpus) && cpus[j+1] == cpus[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(cpus[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(cpus[j]))
		}
		i = j + 1
	}
	return b.String()
}

// The kernel's mask is an array of C longs, bit n%width of long n/width
// for CPU n. With 64-bit longs, or little-endian memory, that is exactly
// CPUSet's layout; 32-bit big-endian ABIs would need the halves swapped,
// and api serves none yet.
func (k *Kernel) cpuSetNative() bool { return !k.table.BigEndian || k.table.PtrSize == 8 }

// SchedGetaffinity reads the set of CPUs thread or process pid (0: the
// calling OS thread) may run on.
func (k *Kernel) SchedGetaffinity(pid int, set *CPUSet) error {
	return k.schedAffinity("sched_getaffinity", sysSchedGetaffinity, pid, set)
}

// SchedSetaffinity restricts thread or process pid (0: the calling OS
// thread) to the CPUs in set.
func (k *Kernel) SchedSetaffinity(pid int, set *CPUSet) error {
	return k.schedAffinity("sched_setaffinity", sysSchedSetaffinity, pid, set)
}

func (k *Kernel) schedAffinity(op string, c call, pid int, set *CPUSet) error {
	if set == nil {
		return badArg(op, "nil *CPUSet")
	}
	if err := procCheckID(op, pid); err != nil {
		return err
	}
	if pid < 0 {
		return callErr(op, ESRCH) // Linux's answer, whatever the kernel
	}
	if !k.cpuSetNative() {
		return callErr(op, ENOSYS)
	}
	if c == sysSchedGetaffinity {
		// The kernel fills only the bytes of its own mask and returns
		// their count; the rest stays zero.
		set.Zero()
	}
	if _, e := k.syscall(c, uintptr(pid), unsafe.Sizeof(*set), uintptr(unsafe.Pointer(set)), 0, 0, 0); e != 0 {
		return callErr(op, e)
	}
	return nil
}

// SchedYield gives up the CPU to other runnable threads. Go programs
// usually want runtime.Gosched, which yields to other goroutines.
func (k *Kernel) SchedYield() error {
	return errOnly(k.intCall("sched_yield", sysSchedYield, 0, 0, 0))
}

// SchedParam holds a scheduling policy's parameters (struct sched_param).
type SchedParam struct {
	// Priority is the static priority: 0 for SCHED_OTHER, SCHED_BATCH and
	// SCHED_IDLE, SchedGetPriorityMin..Max for SCHED_FIFO and SCHED_RR.
	Priority int
}

// SchedGetscheduler returns the scheduling policy of thread or process pid
// (0: the calling OS thread). The SCHED_RESET_ON_FORK flag is not part of
// the answer.
func (k *Kernel) SchedGetscheduler(pid int) (SchedPolicy, error) {
	if err := procCheckID("sched_getscheduler", pid); err != nil {
		return 0, err
	}
	if pid < 0 {
		return 0, callErr("sched_getscheduler", EINVAL) // Linux's answer
	}
	r, e := k.rawSyscall(sysSchedGetscheduler, uintptr(pid), 0, 0, 0, 0, 0)
	if e != 0 {
		return 0, callErr("sched_getscheduler", e)
	}
	return SchedPolicy(k.enumFromABI(schedPolicyFamily, uint64(r)&^k.procs.schedResetOnFork)), nil
}

// SchedSetscheduler sets the scheduling policy and parameters of thread or
// process pid (0: the calling OS thread).
func (k *Kernel) SchedSetscheduler(pid int, policy SchedPolicy, param *SchedParam) error {
	if param == nil {
		return badArg("sched_setscheduler", "nil *SchedParam")
	}
	if err := procCheckID("sched_setscheduler", pid); err != nil {
		return err
	}
	p, err := k.enumToABI(schedPolicyFamily, uint64(policy))
	if err != nil {
		return badArg("sched_setscheduler", err.Error())
	}
	s := &k.procs
	if s.schedParam.s == nil {
		return callErr("sched_setscheduler", ENOSYS)
	}
	var raw [procSchedParamBufSize]byte
	s.schedPrio.put(raw[:], s.schedParam.be, uint64(param.Priority))
	if _, e := k.syscall(sysSchedSetscheduler, uintptr(pid), uintptr(p), uintptr(unsafe.Pointer(&raw[0])), 0, 0, 0); e != 0 {
		return callErr("sched_setscheduler", e)
	}
	return nil
}

// SchedGetparam reads the scheduling parameters of thread or process pid
// (0: the calling OS thread).
func (k *Kernel) SchedGetparam(pid int, param *SchedParam) error {
	if err := k.schedParamArgs("sched_getparam", pid, param); err != nil {
		return err
	}
	s := &k.procs
	var raw [procSchedParamBufSize]byte
	if _, e := k.rawSyscall(sysSchedGetparam, uintptr(pid), uintptr(unsafe.Pointer(&raw[0])), 0, 0, 0, 0); e != 0 {
		return callErr("sched_getparam", e)
	}
	param.Priority = int(s.schedPrio.int(raw[:], s.schedParam.be))
	return nil
}

// SchedSetparam sets the scheduling parameters of thread or process pid
// (0: the calling OS thread) under its current policy.
func (k *Kernel) SchedSetparam(pid int, param *SchedParam) error {
	if err := k.schedParamArgs("sched_setparam", pid, param); err != nil {
		return err
	}
	s := &k.procs
	var raw [procSchedParamBufSize]byte
	s.schedPrio.put(raw[:], s.schedParam.be, uint64(param.Priority))
	if _, e := k.syscall(sysSchedSetparam, uintptr(pid), uintptr(unsafe.Pointer(&raw[0])), 0, 0, 0, 0); e != 0 {
		return callErr("sched_setparam", e)
	}
	return nil
}

// schedParamArgs checks what SchedGetparam and SchedSetparam share.
func (k *Kernel) schedParamArgs(op string, pid int, param *SchedParam) error {
	if param == nil {
		return badArg(op, "nil *SchedParam")
	}
	if err := procCheckID(op, pid); err != nil {
		return err
	}
	if pid < 0 {
		return callErr(op, EINVAL) // Linux's answer, whatever the kernel
	}
	if k.procs.schedParam.s == nil {
		return callErr(op, ENOSYS)
	}
	return nil
}

// SchedGetPriorityMax returns the highest static priority of policy.
func (k *Kernel) SchedGetPriorityMax(policy SchedPolicy) (int, error) {
	return k.schedPrioBound(sysSchedGetPrioMax, "sched_get_priority_max", policy)
}

// SchedGetPriorityMin returns the lowest static priority of policy.
func (k *Kernel) SchedGetPriorityMin(policy SchedPolicy) (int, error) {
	return k.schedPrioBound(sysSchedGetPrioMin, "sched_get_priority_min", policy)
}

func (k *Kernel) schedPrioBound(c call, name string, policy SchedPolicy) (int, error) {
	p, err := k.enumToABI(schedPolicyFamily, uint64(policy))
	if err != nil {
		return 0, badArg(name, err.Error())
	}
	// Raw syscall: a constant lookup in the kernel.
	r, e := k.rawSyscall(c, uintptr(p), 0, 0, 0, 0, 0)
	if e != 0 {
		return 0, callErr(name, e)
	}
	return int(int32(r)), nil
}

// Getpriority returns the nice value (-20, most favoured, to 19) of a
// process (PRIO_PROCESS; on Linux a thread, who 0 the calling OS thread),
// a process group (PRIO_PGRP) or a user (PRIO_USER): for a group or user
// the most favoured of its members'.
func (k *Kernel) Getpriority(which PrioWhich, who int) (int, error) {
	if err := procCheckID("getpriority", who); err != nil {
		return 0, err
	}
	if !prioWhichFamily.member(uint64(which)) {
		return 0, badArg("getpriority", "unknown which "+strconv.Itoa(int(which)))
	}
	w, err := k.enumToABI(prioWhichFamily, uint64(which))
	if err != nil {
		return 0, badArg("getpriority", err.Error())
	}
	r, e := k.rawSyscall(sysGetpriority, uintptr(w), uintptr(who), 0, 0, 0, 0)
	if e != 0 {
		return 0, callErr("getpriority", e)
	}
	if k.procs.linuxNice {
		// Linux returns 20-nice so that no success looks like an error.
		return 20 - int(int32(r)), nil
	}
	return int(int32(r)), nil
}

// Setpriority sets the nice value of a process, group or user (see
// Getpriority). Lowering it (more favoured) needs privilege.
func (k *Kernel) Setpriority(which PrioWhich, who, prio int) error {
	if err := procCheckID("setpriority", who); err != nil {
		return err
	}
	if prio != int(int32(prio)) {
		return badArg("setpriority", "priority out of range")
	}
	if !prioWhichFamily.member(uint64(which)) {
		return badArg("setpriority", "unknown which "+strconv.Itoa(int(which)))
	}
	w, err := k.enumToABI(prioWhichFamily, uint64(which))
	if err != nil {
		return badArg("setpriority", err.Error())
	}
	return errOnly(k.intCall("setpriority", sysSetpriority, uintptr(w), uintptr(who), uintptr(prio)))
}

// Getcpu returns the CPU and NUMA node the calling thread is running on
// (already stale when it returns, unless the thread's affinity pins it).
func (k *Kernel) Getcpu() (cpu, node int, err error) {
	var c, n uint32
	// Raw syscall: getcpu only reads where the thread runs.
	if _, e := k.rawSyscall(sysGetcpu, uintptr(unsafe.Pointer(&c)), uintptr(unsafe.Pointer(&n)), 0, 0, 0, 0); e != 0 {
		return -1, -1, callErr("getcpu", e)
	}
	return int(c), int(n), nil
}
