// Package bench measures api against golang.org/x/sys/unix on the same
// operations, in the same run:
//
//	go test -run '^$' -bench Native -benchmem ./test/bench
//
// BenchmarkNative/<op>/api and BenchmarkNative/<op>/xsys are the pairs
// BENCHMARKS.md compares.
package bench
