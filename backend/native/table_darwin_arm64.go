package native

import host "github.com/anykernel/anykernel/abi/darwin/arm64"

var hostTable = host.Table
