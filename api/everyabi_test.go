package api_test

import (
	"testing"

	"github.com/anykernel/anykernel/abi"
	"github.com/anykernel/anykernel/abi/all"
	"github.com/anykernel/anykernel/api"
)

// tableOnly is a backend with a table and no kernel behind it. It stands in
// for kernels this host cannot run (NetBSD, darwin, other Linux
// architectures), so that New's resolution of every family is exercised on
// every generated ABI; every call answers ENOSYS.
type tableOnly struct{ t *abi.Table }

func (b tableOnly) Name() string    { return b.t.OS + "/" + b.t.Arch }
func (b tableOnly) ABI() *abi.Table { return b.t }
func (b tableOnly) Syscall(nr, a1, a2, a3, a4, a5, a6 uintptr) (uintptr, uintptr, uintptr) {
	return 0, 0, 38 // ENOSYS on Linux; other ABIs never see a call here
}
func (b tableOnly) RawSyscall(nr, a1, a2, a3, a4, a5, a6 uintptr) (uintptr, uintptr, uintptr) {
	return b.Syscall(nr, a1, a2, a3, a4, a5, a6)
}

// TestNewEveryABI builds a Kernel on every generated table: a family whose
// init cannot cope with an ABI would make New fail for that kernel.
func TestNewEveryABI(t *testing.T) {
	if len(all.Tables) < 20 {
		t.Fatalf("only %d tables in abi/all", len(all.Tables))
	}
	for _, tb := range all.Tables {
		k, err := api.New(tableOnly{tb})
		if err != nil {
			t.Errorf("%s/%s: %v", tb.OS, tb.Arch, err)
			continue
		}
		if k.ABI() != tb {
			t.Errorf("%s/%s: kernel speaks another table", tb.OS, tb.Arch)
		}
		if !k.Has("read") || !k.Has("write") {
			t.Errorf("%s/%s: no read or write syscall in the table", tb.OS, tb.Arch)
		}
	}
}
