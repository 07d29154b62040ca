//go:build xen && !amd64

package xen

// hwRandom has no CPU source off amd64: the platform serves.
func hwRandom(p []byte, seed bool) bool { return false }
