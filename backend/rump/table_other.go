//go:build !amd64 && !arm64

package rump

import "github.com/anykernel/anykernel/abi"

// table is nil where api cannot yet speak the host's NetBSD ABI (32-bit
// targets pass 64-bit arguments in register pairs); New says so.
var table *abi.Table
