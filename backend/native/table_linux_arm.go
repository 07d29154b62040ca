package native

import host "github.com/anykernel/anykernel/abi/linux/arm"

var hostTable = host.Table
