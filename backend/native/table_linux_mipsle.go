package native

import host "github.com/anykernel/anykernel/abi/linux/mipsle"

var hostTable = host.Table
