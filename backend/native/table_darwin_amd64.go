package native

import host "github.com/anykernel/anykernel/abi/darwin/amd64"

var hostTable = host.Table
