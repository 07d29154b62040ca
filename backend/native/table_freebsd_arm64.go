package native

import host "github.com/anykernel/anykernel/abi/freebsd/arm64"

var hostTable = host.Table
