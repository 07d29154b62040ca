package rump

import (
	"fmt"
	"strings"

	"github.com/anykernel/anykernel/api"
)

// namedBits are the names of a flag type's bits (bit i is names[i]), which
// translate them through a kernel's ABI table by constant name: the
// backend's own flag types (IfFlags, RouteFlags, MountFlags) share it.
type namedBits []string

// toABI translates f; bits without a name, or whose constant the ABI
// lacks, are an error that names them.
func (n namedBits) toABI(k *api.Kernel, op, what string, f uint64) (uint64, error) {
	if rest := f >> len(n) << len(n); rest != 0 {
		return 0, fmt.Errorf("%s: unknown %s flags %#x: %w", op, what, rest, api.EINVAL)
	}
	var out uint64
	for i, name := range n {
		if f&(1<<i) == 0 {
			continue
		}
		v, ok := k.Const(name)
		if !ok {
			return 0, fmt.Errorf("%s: %s is not in the %s ABI table: %w", op, name, k.Name(), api.ENOTSUP)
		}
		out |= v
	}
	return out, nil
}

// fromABI translates the kernel's flags; bits without a name here are
// dropped.
func (n namedBits) fromABI(k *api.Kernel, v uint64) uint64 {
	var f uint64
	for i, name := range n {
		if c, ok := k.Const(name); ok && c != 0 && v&c == c {
			f |= 1 << i
		}
	}
	return f
}

// format names the bits of f without prefix ("UP|LOOPBACK"), unnamed ones
// in hex, "0" for none.
func (n namedBits) format(f uint64, prefix string) string {
	var s []string
	for i, name := range n {
		if f&(1<<i) != 0 {
			s = append(s, strings.TrimPrefix(name, prefix))
		}
	}
	if rest := f >> len(n) << len(n); rest != 0 {
		s = append(s, fmt.Sprintf("%#x", rest))
	}
	if len(s) == 0 {
		return "0"
	}
	return strings.Join(s, "|")
}
