package rtnl

import (
	linux "github.com/anykernel/anykernel/abi/linux/amd64"
)

// OperState is a link's RFC 2863 operational state (IFLA_OPERSTATE):
// "UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT",
// "UP" (String). The values are Linux's.
//
// The names come from the linux/amd64 table's IF_OPER_* constants at
// init; until the table has them, String prints numbers. (Once it does,
// the family moves to build/rtnlgen/families.spec and gains named constants.)
type OperState uint8

var operStateFamily = familyFromTable("OperState", "IF_OPER_", true,
	"IF_OPER_UNKNOWN", "IF_OPER_NOTPRESENT", "IF_OPER_DOWN", "IF_OPER_LOWERLAYERDOWN",
	"IF_OPER_TESTING", "IF_OPER_DORMANT", "IF_OPER_UP")

// String returns the state's name without IF_OPER_, or the number.
func (v OperState) String() string { return operStateFamily.format(uint64(v)) }

// ParseOperState parses a name such as "UP" (case-insensitive, the
// IF_OPER_ prefix optional) or a number.
func ParseOperState(s string) (OperState, error) {
	v, err := operStateFamily.parse(s, uint64(^OperState(0)))
	return OperState(v), err
}

// familyFromTable builds an enum family from the linux/amd64 table's values
// of the named constants, leaving out the ones it lacks.
func familyFromTable(goType, prefix string, upper bool, names ...string) *family {
	f := &family{goType: goType, prefix: prefix, upper: upper}
	for _, n := range names {
		if v, ok := linux.Table.Const(n); ok {
			f.names = append(f.names, n)
			f.values = append(f.values, v)
		}
	}
	return f
}
