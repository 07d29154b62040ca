//go:build linux && (amd64 || arm64 || loong64 || s390x)

package native

// shortTrap: here the kernel returns failures as r1 in [-4095, -1], which
// is all SyscallNoError gives back, and x/sys's SyscallNoError and
// RawSyscallNoError both zero the argument registers they do not load, so
// short calls may take them (checked against x/sys v0.50.0's assembly).
const shortTrap = true
