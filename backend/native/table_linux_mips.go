package native

import host "github.com/anykernel/anykernel/abi/linux/mips"

var hostTable = host.Table
