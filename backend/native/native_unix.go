//go:build linux || darwin || freebsd || netbsd || openbsd

package native

import (
	"sync"

	"github.com/anykernel/anykernel/abi"
	"github.com/anykernel/anykernel/api"
)

// Backend performs raw syscalls on the host kernel.
type Backend struct{}

var _ api.HostBackend = (*Backend)(nil)

// Name implements api.Backend.
func (*Backend) Name() string { return "native" }

// ABI implements api.Backend.
func (*Backend) ABI() *abi.Table { return hostTable }

// HostDescriptors marks that descriptors are the process's own.
func (*Backend) HostDescriptors() {}

var (
	once sync.Once
	k    *api.Kernel
	kerr error
)

// New returns the Kernel of the host. All callers share one; it holds no
// per-caller state.
func New() (*api.Kernel, error) {
	once.Do(func() { k, kerr = api.New(&Backend{}) })
	return k, kerr
}
