// Package abi holds the numbers and layouts of kernel ABIs as plain data:
// syscall numbers, errno values, constants and struct layouts, one package
// per target (abi/linux/amd64, abi/netbsd/amd64, ...).
//
// The tables are generated from real C headers by build/abigen and checked
// against C and against golang.org/x/sys/unix. They carry no build
// constraints, so a program on any host can speak any ABI (a Linux process
// talks NetBSD to a rump kernel).
package abi

import "encoding/binary"

// Table describes one target ABI. It is data only; api turns it into the
// dense lookup arrays it needs when a Kernel is created.
type Table struct {
	OS   string // "linux", "netbsd", ...
	Arch string // GOARCH spelling: "amd64", "arm64", ...

	PtrSize   int // bytes in a pointer and in a C long
	BigEndian bool

	// Arg64 is how a 64-bit integer syscall argument (the off_t of
	// pread64, ftruncate64, fallocate, ...) is passed on a 32-bit target.
	// It is Arg64Reg (zero) on 64-bit targets.
	Arg64 Arg64

	Syscalls []Syscall // sorted by name
	Errnos   []Errno   // sorted by number
	Consts   []Const   // sorted by name
	Structs  []Struct  // sorted by name
}

// Arg64 says how a 64-bit syscall argument is split on a 32-bit target.
// A split value takes two argument slots, the high word first on
// big-endian targets and the low word first on little-endian ones (the
// order of the two words in memory).
type Arg64 uint8

const (
	// Arg64Reg: one register holds it (64-bit targets).
	Arg64Reg Arg64 = iota
	// Arg64Pair: the next two argument slots, whatever their position
	// (386).
	Arg64Pair
	// Arg64AlignedPair: an even/odd register pair; when the next slot is
	// odd-numbered (counting from 0) it is skipped and left unused (arm
	// EABI, mips o32, 32-bit powerpc).
	Arg64AlignedPair
)

// Syscall is one system call number.
type Syscall struct {
	Name string // without the SYS_/__NR_ prefix: "openat", "getdents64"
	Nr   uintptr
}

// Errno is one error number with the C library's message for it.
type Errno struct {
	Name string // "ENOENT"
	Nr   uintptr
	Msg  string // "No such file or directory"
}

// Const is one integer constant of the ABI, e.g. O_CREAT or AF_INET.
// Values are stored as uint64 bit patterns; negative C values (AT_FDCWD)
// are sign-extended.
type Const struct {
	Name  string
	Value uint64
}

// Struct is the layout of one C struct.
type Struct struct {
	Name   string // C spelling without "struct ": "stat", "sockaddr_in"
	Size   int
	Align  int
	Fields []Field
}

// Field is one member of a Struct. Arrays have Size equal to the whole array.
type Field struct {
	Name   string
	Offset int
	Size   int
}

// ByteOrder returns the target's byte order.
func (t *Table) ByteOrder() binary.ByteOrder {
	if t.BigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// Syscall returns the number of the named syscall.
func (t *Table) Syscall(name string) (uintptr, bool) {
	lo, hi := 0, len(t.Syscalls)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if t.Syscalls[m].Name < name {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(t.Syscalls) && t.Syscalls[lo].Name == name {
		return t.Syscalls[lo].Nr, true
	}
	return 0, false
}

// Const returns the value of the named constant.
func (t *Table) Const(name string) (uint64, bool) {
	lo, hi := 0, len(t.Consts)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if t.Consts[m].Name < name {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(t.Consts) && t.Consts[lo].Name == name {
		return t.Consts[lo].Value, true
	}
	return 0, false
}

// Struct returns the layout of the named struct.
func (t *Table) Struct(name string) (*Struct, bool) {
	for i := range t.Structs {
		if t.Structs[i].Name == name {
			return &t.Structs[i], true
		}
	}
	return nil, false
}

// Field returns the named field of s.
func (s *Struct) Field(name string) (Field, bool) {
	for _, f := range s.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// Errno returns the errno with the given name.
func (t *Table) ErrnoByName(name string) (Errno, bool) {
	for _, e := range t.Errnos {
		if e.Name == name {
			return e, true
		}
	}
	return Errno{}, false
}
