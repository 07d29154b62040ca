package native

import host "github.com/anykernel/anykernel/abi/linux/arm64"

var hostTable = host.Table
