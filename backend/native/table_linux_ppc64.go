package native

import host "github.com/anykernel/anykernel/abi/linux/ppc64"

var hostTable = host.Table
