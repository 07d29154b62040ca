package native

import host "github.com/anykernel/anykernel/abi/linux/386"

var hostTable = host.Table
