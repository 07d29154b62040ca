package native

import host "github.com/anykernel/anykernel/abi/linux/s390x"

var hostTable = host.Table
