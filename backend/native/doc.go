// Package native is the backend for the host kernel: calls are raw system
// calls made through golang.org/x/sys/unix, with the ABI table of the host's
// GOOS/GOARCH. Linux is served today.
//
//	k, err := native.New()
//	fd, err := k.Open("/etc/hostname", api.O_RDONLY, 0)
package native
