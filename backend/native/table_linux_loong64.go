package native

import host "github.com/anykernel/anykernel/abi/linux/loong64"

var hostTable = host.Table
