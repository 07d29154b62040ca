package native

import host "github.com/anykernel/anykernel/abi/linux/mips64"

var hostTable = host.Table
