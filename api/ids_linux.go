package api

import "syscall"

// On Linux, credentials are per thread at the syscall level; the C library
// and Go's syscall package apply them to every thread of the process, so
// for the host kernel api does the same through them.
const hostIdentityPerThread = true

var (
	allThreadsSyscall = syscall.AllThreadsSyscall
	hostSetuid        = syscall.Setuid
	hostSetgid        = syscall.Setgid
	hostSetreuid      = syscall.Setreuid
	hostSetregid      = syscall.Setregid
	hostSetresuid     = syscall.Setresuid
	hostSetresgid     = syscall.Setresgid
	hostSetgroups     = syscall.Setgroups
)
