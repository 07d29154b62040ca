//go:build !cgo

package bench

import "errors"

const haveC = false

func cLoop(op string, fd, n int) error {
	return errors.New("the C reference needs cgo (CGO_ENABLED=1 and gcc)")
}
