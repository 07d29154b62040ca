package native

import host "github.com/anykernel/anykernel/abi/openbsd/arm64"

var hostTable = host.Table
