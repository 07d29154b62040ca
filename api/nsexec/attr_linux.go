//go:build linux

package nsexec

import (
	"fmt"
	"os"
	"syscall"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/backend/native"
)

func sysProcAttr(opts *Options) (*syscall.SysProcAttr, error) {
	if extra := opts.Namespaces &^ allNamespaces; extra != 0 {
		return nil, fmt.Errorf("nsexec: %v are not namespaces: %w", extra, api.EINVAL)
	}
	user := opts.Namespaces&api.CLONE_NEWUSER != 0
	if !user && (opts.UidMap != nil || opts.GidMap != nil) {
		return nil, fmt.Errorf("nsexec: id maps without CLONE_NEWUSER: %w", api.EINVAL)
	}
	k, err := native.New()
	if err != nil {
		return nil, err
	}
	fl, err := k.CloneFlagsToABI(opts.Namespaces)
	if err != nil {
		return nil, err
	}
	attr := &syscall.SysProcAttr{Cloneflags: uintptr(fl)}
	if !opts.NoPdeathsig {
		attr.Pdeathsig = syscall.SIGKILL
	}
	if user {
		uids, gids := opts.UidMap, opts.GidMap
		if uids == nil {
			uids = []api.IDMap{{Inside: 0, Outside: os.Geteuid(), Count: 1}}
		}
		if gids == nil {
			gids = []api.IDMap{{Inside: 0, Outside: os.Getegid(), Count: 1}}
		}
		attr.UidMappings = idMaps(uids)
		attr.GidMappings = idMaps(gids)
		// An unprivileged caller may only map its gid with setgroups
		// denied; root keeps setgroups usable inside.
		attr.GidMappingsEnableSetgroups = os.Geteuid() == 0
	}
	return attr, nil
}

func idMaps(m []api.IDMap) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, len(m))
	for i, x := range m {
		out[i] = syscall.SysProcIDMap{ContainerID: x.Inside, HostID: x.Outside, Size: x.Count}
	}
	return out
}
