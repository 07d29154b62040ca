package runner

import "syscall"

// dieWithParent makes QEMU end with the process that started it: a test
// binary killed by its timeout must not leave a 1 GiB Xen machine running.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
