package native

import host "github.com/anykernel/anykernel/abi/linux/riscv64"

var hostTable = host.Table
