package api

import (
	"strings"
	"unsafe"
)

// pathBuf turns a Go string into the NUL-terminated bytes the kernel wants.
// Callers declare it on their stack, so short paths cost no allocation;
// longer ones get a heap copy.
type pathBuf struct {
	b [256]byte
}

// cstr returns the address of a NUL-terminated copy of s, or an error
// naming the problem: a NUL inside the path would silently cut it short.
func (pb *pathBuf) cstr(call, s string) (unsafe.Pointer, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, badArg(call, "path "+quoteNUL(s)+" contains a NUL byte")
	}
	if len(s) < len(pb.b) {
		copy(pb.b[:], s)
		pb.b[len(s)] = 0
		return unsafe.Pointer(&pb.b[0]), nil
	}
	if len(s) >= 1<<20 {
		return nil, badArg(call, "path longer than 1 MiB")
	}
	h := make([]byte, len(s)+1)
	copy(h, s)
	return unsafe.Pointer(&h[0]), nil
}

func quoteNUL(s string) string {
	return "\"" + strings.ReplaceAll(s, "\x00", `\x00`) + "\""
}

// goString converts a NUL-terminated byte array the kernel filled in.
func goString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
