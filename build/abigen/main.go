// Command abigen generates the ABI tables in abi/ from the C headers of
// this machine: syscall numbers, errnos (with the C library's messages),
// integer constants and struct layouts, all as computed by the C compiler.
//
// Usage, from anywhere in the module:
//
//	go run ./build/abigen [-target linux/amd64] [-v]
//
// For each target it writes <Dir>/ztable.go and, where golang.org/x/sys/unix
// supports the target, <Dir>/zxsys_test.go, which lists the x/sys/unix
// names and layouts the table is compared with. The configuration (targets,
// headers, constant prefixes, structs) is all in config.go.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func main() {
	root := flag.String("root", "", "module root (default: found from the current directory)")
	only := flag.String("target", "", "generate only this GOOS/GOARCH")
	xsysDir := flag.String("xsys", "", "golang.org/x/sys source directory (default: from go list -m)")
	verbose := flag.Bool("v", false, "log constants where units disagree and skipped members")
	flag.Parse()
	if err := run(*root, *only, *xsysDir, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "abigen:", err)
		os.Exit(1)
	}
}

func run(root, only, xsysDir string, verbose bool) error {
	var err error
	if root == "" {
		if root, err = moduleRoot(); err != nil {
			return err
		}
	}
	if xsysDir == "" {
		if xsysDir, err = xsysSource(root); err != nil {
			return err
		}
	}
	done := false
	for _, t := range targets {
		name := t.GOOS + "/" + t.GOARCH
		if only != "" && only != name {
			continue
		}
		done = true
		files, res, err := generateFiles(t, xsysDir)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if verbose {
			for _, s := range res.Shadowed {
				fmt.Fprintf(os.Stderr, "%s: shadowed: %s\n", name, s)
			}
			for _, s := range res.Skipped {
				fmt.Fprintf(os.Stderr, "%s: skipped member %s\n", name, s)
			}
		}
		dir := filepath.Join(root, filepath.FromSlash(t.Dir))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
				return err
			}
		}
		tb := res.Table
		fmt.Fprintf(os.Stderr, "%s: %d syscalls, %d errnos, %d consts, %d structs\n",
			name, len(tb.Syscalls), len(tb.Errnos), len(tb.Consts), len(tb.Structs))
	}
	if !done {
		return fmt.Errorf("unknown target %q", only)
	}
	return nil
}

type outFile struct {
	name string
	data []byte
}

// generateFiles produces the contents of every file written for t.
func generateFiles(t *target, xsysDir string) ([]outFile, *result, error) {
	res, err := generate(t)
	if err != nil {
		return nil, nil, err
	}
	src, err := tableSource(t, res)
	if err != nil {
		return nil, nil, err
	}
	files := []outFile{{"ztable.go", src}}
	xs, err := xsysTestSource(t, res.Table, xsysDir)
	if err != nil {
		return nil, nil, err
	}
	if xs != nil {
		files = append(files, outFile{"zxsys_test.go", xs})
	}
	return files, res, nil
}

// moduleRoot walks up from the working directory to this module's go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(data, []byte("module github.com/anykernel/anykernel\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside module github.com/anykernel/anykernel (use -root)")
		}
		dir = parent
	}
}

// xsysSource finds golang.org/x/sys in the module cache, at the version
// go.mod requires.
func xsysSource(root string) (string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "golang.org/x/sys")
	cmd.Dir = root
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		return "", fmt.Errorf("cannot find golang.org/x/sys (try go mod download golang.org/x/sys, or -xsys): %v %s", err, errb.String())
	}
	return dir, nil
}
