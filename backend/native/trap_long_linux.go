//go:build linux && !(amd64 || arm64 || loong64 || s390x)

package native

// shortTrap is false where x/sys's short entries cannot stand in for
// Syscall6 (x/sys v0.50.0's assembly):
//   - mips, ppc64: the kernel flags a failure in a register (a3, CR0's
//     summary-overflow bit) that SyscallNoError does not return, leaving a
//     positive errno in r1 that looks like success;
//   - riscv64: both entries load a0..a2 and leave a3..a5 as they were
//     (utimensat's zero flags reached the kernel as garbage under
//     qemu-riscv64);
//   - 386: both leave the sixth argument register (ebp) as it was;
//   - arm: RawSyscallNoError leaves r3..r5 as they were.
const shortTrap = false
