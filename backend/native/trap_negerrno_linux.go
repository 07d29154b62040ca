//go:build linux && !(mips || mipsle || mips64 || mips64le || ppc64 || ppc64le || riscv64)

package native

// shortTrap: the kernel returns failures as r1 in [-4095, -1], which is
// all SyscallNoError gives back, so short calls may take it.
const shortTrap = true
