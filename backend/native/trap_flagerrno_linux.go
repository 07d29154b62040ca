//go:build linux && (mips || mipsle || mips64 || mips64le || ppc64 || ppc64le)

package native

// shortTrap: on mips and powerpc the kernel flags a failure in a register
// (a3, the CR0 summary-overflow bit) that SyscallNoError does not return,
// leaving a positive errno in r1 that looks like success; only Syscall6
// reads the flag.
const shortTrap = false
