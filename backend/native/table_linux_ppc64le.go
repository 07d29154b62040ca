package native

import host "github.com/anykernel/anykernel/abi/linux/ppc64le"

var hostTable = host.Table
