package native

import host "github.com/anykernel/anykernel/abi/freebsd/amd64"

var hostTable = host.Table
