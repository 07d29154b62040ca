package native

import linux "github.com/anykernel/anykernel/abi/linux/amd64"

var hostTable = linux.Table
