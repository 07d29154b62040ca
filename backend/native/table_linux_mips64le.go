package native

import host "github.com/anykernel/anykernel/abi/linux/mips64le"

var hostTable = host.Table
