// Package amd64 is the Linux ABI on x86_64 as data: syscall numbers,
// errnos, constants and struct layouts in Table (ztable.go), generated
// from Debian's linux-libc-dev and libc6-dev headers by build/abigen.
// Where glibc and the kernel disagree the table holds the kernel's value,
// since these numbers go to raw system calls.
//
// Regenerate with: go run ./build/abigen
package amd64
