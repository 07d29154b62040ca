//go:build !linux

package nsexec

import (
	"fmt"
	"syscall"

	"github.com/anykernel/anykernel/api"
)

// sysProcAttr: only Linux starts processes in new namespaces.
func sysProcAttr(opts *Options) (*syscall.SysProcAttr, error) {
	if opts.Namespaces != 0 || opts.UidMap != nil || opts.GidMap != nil {
		return nil, fmt.Errorf("nsexec: namespaces are Linux's: %w", api.ENOSYS)
	}
	return &syscall.SysProcAttr{}, nil
}
