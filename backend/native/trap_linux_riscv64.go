package native

// shortTrap: x/sys/unix's SyscallNoError on riscv64 loads only a0..a2 and
// leaves a3..a5 as it found them, so a call whose fourth argument is zero
// (utimensat's flags, ...) would hand the kernel garbage there; only
// Syscall6 sets all six registers. (The other SyscallNoError ports zero
// the registers they do not load.)
const shortTrap = false
