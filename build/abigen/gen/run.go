package gen

import (
	"bytes"
	"errors"
	"fmt"
	"go/format"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// Targets returns the names ("linux/amd64", ...) of every configured
// target, in report order.
func Targets() []string {
	var ns []string
	for _, t := range targets {
		ns = append(ns, t.name())
	}
	return ns
}

func (t *target) name() string { return t.GOOS + "/" + t.GOARCH }

func targetByName(name string) *target {
	for _, t := range targets {
		if t.name() == name {
			return t
		}
	}
	return nil
}

// Dir returns the output package directory of the named target,
// relative to the module root.
func Dir(name string) string {
	if t := targetByName(name); t != nil {
		return t.Dir
	}
	return ""
}

// Missing returns why the named target's headers or compiler are not on
// this machine, with the apt-get command that installs them, or "".
func Missing(name string) string {
	t := targetByName(name)
	if t == nil {
		return "unknown target " + name
	}
	var missing []string
	for _, cmd := range [][]string{t.CC, t.CheckCC} {
		if len(cmd) > 0 {
			if _, err := exec.LookPath(cmd[0]); err != nil {
				missing = append(missing, cmd[0])
			}
		}
	}
	for _, f := range t.Needs {
		if _, err := os.Stat(f); err != nil {
			missing = append(missing, f)
		}
	}
	if len(missing) == 0 {
		return ""
	}
	return fmt.Sprintf("%s needs %s, not installed (on Debian: apt-get update && apt-get install -y %s)",
		name, strings.Join(missing, ", "), strings.Join(t.Packages, " "))
}

// File is one generated file.
type File struct {
	Name string
	Data []byte
}

// Files generates every file written for the named target.
func Files(name, xsys string) ([]File, *Summary, error) {
	t := targetByName(name)
	if t == nil {
		return nil, nil, fmt.Errorf("unknown target %q", name)
	}
	xsysDir = xsys
	res, err := generate(t)
	if err != nil {
		return nil, nil, err
	}
	src, err := tableSource(t, res)
	if err != nil {
		return nil, nil, err
	}
	files := []File{{"doc.go", []byte(t.Doc)}, {"ztable.go", src}}
	xs, err := xsysTestSource(t, res.Table, xsys)
	if err != nil {
		return nil, nil, err
	}
	if xs != nil {
		files = append(files, File{"zxsys_test.go", xs})
	}
	tb := res.Table
	sum := &Summary{Target: name, Syscalls: len(tb.Syscalls), Errnos: len(tb.Errnos), Consts: len(tb.Consts), Structs: len(tb.Structs),
		Shadowed: res.Shadowed, Skipped: res.Skipped}
	return files, sum, nil
}

// Summary counts what a generated table holds.
type Summary struct {
	Target                            string
	Syscalls, Errnos, Consts, Structs int
	Shadowed, Skipped                 []string
}

// Generate writes the tables of the named targets (all if names is
// empty) under root, several targets at a time, plus abi/all's list of
// every table. Targets whose headers are missing fail.
func Generate(root, xsys string, names []string, verbose bool, log io.Writer) error {
	all := len(names) == 0
	if all {
		names = Targets()
	}
	for _, n := range names {
		if targetByName(n) == nil {
			return fmt.Errorf("unknown target %q (targets: %s)", n, strings.Join(Targets(), " "))
		}
		if m := Missing(n); m != "" {
			return errors.New(m)
		}
	}
	// x/sys is parsed once, before the workers share it.
	xsysDir = xsys
	for _, n := range names {
		t := targetByName(n)
		if _, err := loadXPkg(xsys, t.GOOS, t.GOARCH); err != nil {
			return err
		}
	}
	type out struct {
		files []File
		sum   *Summary
		err   error
	}
	outs := make([]out, len(names))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			f, s, err := Files(n, xsys)
			outs[i] = out{f, s, err}
		}()
	}
	wg.Wait()
	for i, n := range names {
		o := outs[i]
		if o.err != nil {
			return fmt.Errorf("%s: %w", n, o.err)
		}
		dir := filepath.Join(root, filepath.FromSlash(targetByName(n).Dir))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for _, f := range o.files {
			if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
				return err
			}
		}
		s := o.sum
		if verbose {
			for _, x := range s.Shadowed {
				fmt.Fprintf(log, "%s: shadowed: %s\n", n, x)
			}
			for _, x := range s.Skipped {
				fmt.Fprintf(log, "%s: skipped %s\n", n, x)
			}
		}
		fmt.Fprintf(log, "%s: %d syscalls, %d errnos, %d consts, %d structs\n", n, s.Syscalls, s.Errnos, s.Consts, s.Structs)
	}
	if all {
		dir := filepath.Join(root, "abi", "all")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "zall.go"), AllSource(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// AllSource is abi/all/zall.go: every table, by target name.
func AllSource() []byte {
	var b bytes.Buffer
	b.WriteString(header)
	b.WriteString("// Package all lists every generated ABI table, so that tools and tests\n")
	b.WriteString("// can range over them. Importing it links every table in.\n")
	b.WriteString("package all\n\nimport (\n\t\"github.com/anykernel/anykernel/abi\"\n")
	for _, t := range targets {
		fmt.Fprintf(&b, "\t%s \"github.com/anykernel/anykernel/%s\"\n", t.GOOS+t.GOARCH, t.Dir)
	}
	b.WriteString(")\n\n// Tables holds every table by target name (\"linux/amd64\"), in the\n")
	b.WriteString("// generator's order.\nvar Tables = []*abi.Table{\n")
	for _, t := range targets {
		fmt.Fprintf(&b, "\t%s.Table,\n", t.GOOS+t.GOARCH)
	}
	b.WriteString("}\n\n// Names holds the target names of Tables, in the same order.\nvar Names = []string{\n")
	for _, t := range targets {
		fmt.Fprintf(&b, "\t%q,\n", t.name())
	}
	b.WriteString("}\n")
	out, err := format.Source(b.Bytes())
	if err != nil {
		panic(err)
	}
	return out
}

// pkgName is the Go package name of a table directory: its base name,
// except that a name cannot start with a digit (386 -> i386).
func pkgName(base string) string {
	if base != "" && base[0] >= '0' && base[0] <= '9' {
		return "i" + base
	}
	return base
}

// ModuleRoot walks up from the working directory to this module's go.mod.
func ModuleRoot() (string, error) {
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

// XSysSource finds golang.org/x/sys in the module cache, at the version
// go.mod requires.
func XSysSource(root string) (string, error) {
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
