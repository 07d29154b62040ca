package conformance

import (
	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/backend/native"
)

func init() {
	RegisterTarget(&Target{
		Name: "native",
		Open: native.New,
		Root: IsRoot,
		// The host kernel sees the host's file system, so Go's own temp
		// directories serve.
		TempDir: func(t T, _ *api.Kernel) string { return t.TempDir() },
	})
}
