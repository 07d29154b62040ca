// Package test runs the conformance suite (test/conformance) against every
// backend available on this machine under `go test ./test/...`; the same
// suite runs outside go test as `go run ./test/matrix`.
package test
