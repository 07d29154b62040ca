// Package sysctl reads and writes kernel parameters through /proc/sys with
// the dotted names sysctl(8) uses: Get(k, "net.ipv4.ip_forward") reads
// /proc/sys/net/ipv4/ip_forward.
//
// As in sysctl(8), a name component that itself holds a dot (the interface
// "eth0.1" of net.ipv4.conf.eth0.1.rp_filter) is written with a slash:
// "net.ipv4.conf.eth0/1.rp_filter"; List prints such names that way too.
// A name may also be given as a path: "net/ipv4/ip_forward" or
// "/proc/sys/net/ipv4/ip_forward".
//
// Parameters under net.* belong to the network namespace of the thread that
// opens them; the others are the machine's (or the UTS/IPC namespace's)
// and writing them changes the host.
package sysctl

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/anykernel/anykernel/api"
	"github.com/anykernel/anykernel/api/fsutil"
)

// Root is where the kernel's parameters are mounted.
const Root = "/proc/sys"

// Path returns the file of parameter name, or an error for a name that is
// empty, has an empty component, or climbs out of Root (".."). As in
// sysctl(8), the first separator in name decides its form: a dot means a
// dotted name (in which a slash stands for a dot), a slash a path relative
// to Root; a name starting with Root+"/" is a path too.
func Path(name string) (string, error) {
	rel := name
	switch {
	case strings.HasPrefix(name, Root+"/"):
		rel = name[len(Root)+1:]
	case strings.HasPrefix(name, "/"):
		return "", &fs.PathError{Op: "sysctl", Path: name, Err: api.EINVAL}
	default:
		if i := strings.IndexAny(name, "./"); i >= 0 && name[i] == '.' {
			rel = swapDots(name)
		}
	}
	if rel == "" {
		return "", &fs.PathError{Op: "sysctl", Path: name, Err: api.EINVAL}
	}
	for _, c := range strings.Split(rel, "/") {
		if c == "" || c == "." || c == ".." {
			return "", &fs.PathError{Op: "sysctl", Path: name, Err: api.EINVAL}
		}
	}
	return Root + "/" + rel, nil
}

// swapDots turns "net.ipv4.conf.eth0/1.rp_filter" into
// "net/ipv4/conf/eth0.1/rp_filter" and back.
func swapDots(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch c {
		case '.':
			b[i] = '/'
		case '/':
			b[i] = '.'
		}
	}
	return string(b)
}

// Name returns the dotted name of a file under Root.
func Name(path string) string {
	return swapDots(strings.TrimPrefix(strings.TrimPrefix(path, Root), "/"))
}

// Get returns the value of parameter name, without the trailing newline.
// Values with several fields (net.ipv4.ip_local_port_range) keep the tabs
// between them; Fields splits them.
func Get(k *api.Kernel, name string) (string, error) {
	p, err := Path(name)
	if err != nil {
		return "", err
	}
	b, err := fsutil.ReadFile(k, p)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}

// GetInt returns the value of an integer parameter.
func GetInt(k *api.Kernel, name string) (int64, error) {
	v, err := Get(k, name)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("sysctl: %s = %q is not an integer: %w", name, v, err)
	}
	return n, nil
}

// Fields returns the whitespace-separated fields of a parameter's value
// ("32768\t60999" gives two).
func Fields(k *api.Kernel, name string) ([]string, error) {
	v, err := Get(k, name)
	if err != nil {
		return nil, err
	}
	return strings.Fields(v), nil
}

// Set writes value to parameter name in one write, as sysctl -w does. The
// kernel parses it: a bad value fails with EINVAL, a read-only parameter
// with EACCES or EPERM.
func Set(k *api.Kernel, name, value string) error {
	p, err := Path(name)
	if err != nil {
		return err
	}
	f, err := k.Open(p, api.O_WRONLY|api.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := f.Write([]byte(value))
	if err == nil && n != len(value) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return fmt.Errorf("sysctl: set %s: %w", name, err)
	}
	return f.Close()
}

// SetInt writes an integer parameter.
func SetInt(k *api.Kernel, name string, v int64) error {
	return Set(k, name, strconv.FormatInt(v, 10))
}

// List returns the dotted names of every parameter under prefix ("" for
// all, "net.ipv4" for a subtree, or one parameter's own name), sorted.
// Directories the caller may not read are left out, as sysctl -a does.
func List(k *api.Kernel, prefix string) ([]string, error) {
	root := Root
	if prefix != "" {
		p, err := Path(prefix)
		if err != nil {
			return nil, err
		}
		root = p
	}
	var names []string
	err := fsutil.WalkDir(k, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			if errors.Is(err, api.EACCES) || errors.Is(err, api.EPERM) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			names = append(names, Name(p))
		}
		return nil
	})
	sort.Strings(names)
	return names, err
}

// All returns every parameter under prefix with its value; parameters that
// cannot be read (write-only ones, those needing privilege) are left out.
func All(k *api.Kernel, prefix string) (map[string]string, error) {
	names, err := List(k, prefix)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(names))
	for _, n := range names {
		v, err := Get(k, n)
		if err != nil {
			continue
		}
		out[n] = v
	}
	return out, nil
}
