package native

import host "github.com/anykernel/anykernel/abi/openbsd/amd64"

var hostTable = host.Table
