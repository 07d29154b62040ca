package native

import host "github.com/anykernel/anykernel/abi/netbsd/arm64"

var hostTable = host.Table
