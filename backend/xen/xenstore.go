//go:build xen

package xen

import "github.com/anykernel/anykernel/hypercall"

// Xenstore is the typed xenstore API of the library OS: the domain's
// xenstore connection, spoken from Go over the shared ring (package
// hypercall). Paths are absolute or relative to the domain's home
// (/local/domain/<id>); errors are *fs.PathError values holding
// api.Errno values (ENOENT, EACCES, EAGAIN for a conflicting
// transaction, ETIMEDOUT, ...).
//
//	xs, err := xen.OpenXenstore()
//	name, err := xs.Name()
//	err = xs.Write("data/greeting", "hello")
//	err = xs.Transaction(func(tx *xen.XenstoreTx) error { ... })
//	w, err := xs.Watch("data/greeting")
//	path, err := w.Next(time.Second)
type Xenstore = hypercall.Xenstore

// XenstoreTx is a xenstore transaction (Xenstore.Begin, Xenstore.Transaction).
type XenstoreTx = hypercall.Tx

// XenstoreWatch delivers changes below a watched path (Xenstore.Watch).
type XenstoreWatch = hypercall.Watch

// XenstorePerm is one entry of a node's permission list.
type XenstorePerm = hypercall.Perm

// DomID is a Xen domain id.
type DomID = hypercall.DomID

// OpenXenstore returns the domain's xenstore client; every call returns
// the same one (the ring has room for one). Where there is no Xen (plain
// QEMU, a host process under go test -tags xen) it fails with an error
// that unwraps to api.ENOSYS (hypercall.ErrNoXen).
func OpenXenstore() (*Xenstore, error) {
	x, err := hypercall.Open()
	if err != nil {
		return nil, err
	}
	return x.Xenstore()
}
