//go:build linux && amd64

package amd64

import "github.com/anykernel/anykernel/build/abicheck"

// xsysAllow lists every deliberate difference between Table and
// golang.org/x/sys/unix on linux/amd64, with the reason. Table holds what
// the kernel takes and what C computes; x/sys sometimes holds glibc's view
// or a Go-shaped type. TestXSys fails on entries that no longer match.
var xsysAllow = abicheck.Allow{
	"const O_LARGEFILE":                "glibc defines it as 0 on 64-bit (x/sys copies glibc); the kernel's value is 0x8000, which raw open(2) accepts",
	"const MS_NOUSER":                  "the kernel header's (1<<31) is a negative int, stored sign-extended like every negative constant; x/sys keeps the 32-bit pattern",
	"struct epoll_event align":         "the kernel packs epoll_event on x86_64 (align 1); Go cannot pack, x/sys uses an int32-aligned struct of the same size",
	"struct ip_mreq align":             "x/sys spells in_addr as [4]byte (align 1); C's struct in_addr is a uint32_t",
	"struct sockaddr_in align":         "x/sys spells sin_addr as [4]byte (align 2 overall); C's struct in_addr is a uint32_t",
	"struct siginfo align":             "x/sys Siginfo is int32s and a byte array (align 4); C's union holds pointers (align 8)",
	"struct kernel_sigset size":        "the kernel's sigset_t is _NSIG=64 bits; x/sys Sigset_t is glibc's 1024-bit sigset_t",
	"field kernel_sigset.sig size":     "the kernel's sigset_t is _NSIG=64 bits; x/sys Sigset_t is glibc's 1024-bit sigset_t",
	"struct linux_dirent64 size":       "the kernel's d_name is a flexible array; x/sys Dirent gives it 256 bytes",
	"field linux_dirent64.d_name size": "the kernel's d_name is a flexible array (size 0); x/sys Dirent gives it 256 bytes",
	"struct tcp_info size":             "x/sys is generated from newer kernel headers, whose tcp_info has grown past linux-libc-dev 6.1's 232 bytes",
}
