// Package examples holds runnable programs built only on anykernel's API;
// each subdirectory is one program (go run ./examples/cat FILE).
package examples
