package native

import host "github.com/anykernel/anykernel/abi/linux/amd64"

var hostTable = host.Table
