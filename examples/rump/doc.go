// Package rumpexamples holds Go ports of the classic rump kernel demos
// (buildrump.sh's tests, as ljsyscall ported them to Lua) and two more,
// each a program in its own directory, built with the rump tag against a
// rump kernel found through RUMP_PREFIX:
//
//	kernfs   mount kernfs and read /kern/version (fstest.c)
//	fsimage  an FFS image made by makefs, registered with etfs, mounted
//	         read-only, its README read (fstest2.c)
//	nohost   the kernfs demo again with no host API linked in: only the
//	         rump kernel serves its calls (fstest3.lua)
//	tmpfs    tmpfs mounted with typed arguments, its limits shown (fstest4.lua)
//	ffsedit  an FFS image edited in place, then checked from the host and
//	         mounted again
//	httpd    an HTTP server on the rump kernel's TCP/IP stack, and a
//	         client in the same stack
//
// Run one with:
//
//	RUMP_PREFIX=/opt/rump go run -tags rump ./examples/rump/kernfs
//
// go test ./examples/rump runs them all (it skips, saying how to get a
// rump kernel, without RUMP_PREFIX).
package rumpexamples
