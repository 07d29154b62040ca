// Package native is the backend for the host kernel: calls are raw system
// calls made through golang.org/x/sys/unix, with the ABI table of the host's
// GOOS/GOARCH. Linux is served and tested; the 64-bit Linux architectures,
// FreeBSD, NetBSD, OpenBSD and darwin (amd64, arm64) build with their own
// tables. 32-bit ABIs are not wired yet: api does not yet split 64-bit
// arguments into register pairs (abi.Table.Arg64).
//
//	k, err := native.New()
//	fd, err := k.Open("/etc/hostname", api.O_RDONLY, 0)
package native
