package rump

import nb "github.com/anykernel/anykernel/abi/netbsd/amd64"

// table is the NetBSD ABI of a rump kernel built for this host.
var table = nb.Table
