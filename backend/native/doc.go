// Package native is the backend for the host kernel: calls are raw system
// calls made through golang.org/x/sys/unix, with the ABI table of the host's
// GOOS/GOARCH. Linux is served and tested on amd64 and 386 (api splits
// 64-bit arguments into register pairs per abi.Table.Arg64); the other
// Linux architectures (arm, mips, mipsle among the 32-bit ones), FreeBSD,
// NetBSD, OpenBSD and darwin (amd64, arm64) build with their own tables.
//
//	k, err := native.New()
//	fd, err := k.Open("/etc/hostname", api.O_RDONLY, 0)
package native
