//go:build !linux

package runner

import "syscall"

func dieWithParent() *syscall.SysProcAttr { return nil }
