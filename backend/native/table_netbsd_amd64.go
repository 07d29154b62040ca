package native

import host "github.com/anykernel/anykernel/abi/netbsd/amd64"

var hostTable = host.Table
