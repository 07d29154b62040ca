//go:build rump && !cgo

package rump

import (
	"errors"

	"github.com/anykernel/anykernel/api"
)

// errNoCgo is every entry's error when the rump tag is set without cgo.
var errNoCgo = errors.New("rump: the rump backend needs cgo (CGO_ENABLED=1 and a C compiler); " + Unavailable)

// New needs cgo; without it, it says so.
func New(Options) (*api.Kernel, error) { return nil, errNoCgo }

// Dial needs cgo; without it, it says so.
func Dial(string) (*api.Kernel, error) { return nil, errNoCgo }

// Rfork needs cgo; without it, it says so.
func Rfork(*api.Kernel, RforkFlags) (*api.Kernel, error) { return nil, errNoCgo }

// Release needs cgo; without it, it says so.
func Release(*api.Kernel) error { return errNoCgo }

// Register needs cgo; without it, it says so.
func Register(key, hostPath string, kind EtfsType, offset, size uint64) error { return errNoCgo }

// Remove needs cgo; without it, it says so.
func Remove(key string) error { return errNoCgo }

// LWP is an lwp of a rump process (see the cgo build).
type LWP struct{}

// NewLWP needs cgo; without it, it says so.
func NewLWP(*api.Kernel) (*LWP, error) { return nil, errNoCgo }

// SwitchLWP needs cgo; without it there are no lwps.
func SwitchLWP(*LWP) *api.Kernel { return nil }

// ReleaseLWP needs cgo; without it, it says so.
func ReleaseLWP(*LWP) error { return errNoCgo }

// CurLWP needs cgo; without it there are no lwps.
func CurLWP(*api.Kernel) *LWP { return nil }

// CLoop needs cgo; without it, it says so.
func CLoop(*api.Kernel, string, int, int) error { return errNoCgo }
