package hypercall_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anykernel/anykernel/build/image/pvh"
	"github.com/anykernel/anykernel/build/xenrun/runner"
)

// The real thing: internal/xenguest exercises the package against the
// hypervisor inside an image, as a Xen PVH domU on Xen-under-QEMU, and
// under plain QEMU, where there is no Xen.

var (
	imgOnce sync.Once
	imgPath string
	imgErr  error
)

func guestImage(t *testing.T) string {
	t.Helper()
	imgOnce.Do(func() {
		dir, err := os.MkdirTemp("", "xenguest-")
		if err != nil {
			imgErr = err
			return
		}
		imgPath = filepath.Join(dir, "xenguest.elf")
		imgErr = pvh.BuildPackage("", "./internal/xenguest", imgPath)
	})
	if imgErr != nil {
		t.Fatalf("building the image: %v", imgErr)
	}
	return imgPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if imgPath != "" {
		os.RemoveAll(filepath.Dir(imgPath))
	}
	os.Exit(code)
}

// The checks the guest must report as "ok".
var guestChecks = []string{
	"open", "xen_version", "hvm_param", "hvm_set_param", "hvm_param_invalid", "frame_global", "frame_heap",
	"pvclock", "pvclock_params", "wallclock",
	"evtchn_alloc_unbound", "evtchn_bind_interdomain", "evtchn_send", "evtchn_take", "evtchn_mask",
	"evtchn_unmask", "sched_poll_pending", "wait_timeout", "wait_notified",
	"wait_upcall", "wait_idle", "wait_idle_poll", "evtchn_close", "evtchn_send_closed",
	"yield", "block",
	"grant_table", "grant_reserved_xenstore", "grant_reserved_console", "grant_access", "grant_end", "grant_end_twice",
	"xenstore_name", "xenstore_domid", "xenstore_domain_path", "xenstore_perms", "xenstore_write_read",
	"xenstore_directory", "xenstore_enoent", "xenstore_eacces", "xenstore_other_domain", "xenstore_transaction",
	"xenstore_abort", "xenstore_watch", "xenstore_watch_event", "xenstore_unwatch", "xenstore_rm",
	"console_write", "console_flush", "console_read",
}

// TestXenImage boots Xen once with two guests: the checks, and one that
// shuts itself down with SCHEDOP_shutdown (so it reports no exit status,
// but must end on its own, not hang).
func TestXenImage(t *testing.T) {
	if testing.Short() {
		t.Skip("Xen under QEMU takes ~30s: skipped with -short")
	}
	if err := runner.XenMissing(); err != nil {
		t.Skip("hypercall:", err)
	}
	img := guestImage(t)
	var log bytes.Buffer // Xen's and dom0's output, shown on failure
	rs, err := runner.XenBatch(context.Background(), []runner.Options{
		{Image: img, Timeout: 120 * time.Second, Log: &log},
		{Image: img, Args: []string{"--", "shutdown"}, Timeout: 30 * time.Second},
	})
	defer func() {
		if t.Failed() {
			t.Logf("Xen and dom0 output:\n%s", log.String())
		}
	}()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("checks", func(t *testing.T) {
		r := rs[0]
		t.Logf("%s after %.1fs:\n%s", r.Outcome, r.Wall.Seconds(), r.Console)
		if r.Outcome != runner.Exited || r.Status != 0 {
			t.Errorf("outcome %v status %d, want exit status 0", r.Outcome, r.Status)
		}
		for _, c := range guestChecks {
			if !regexp.MustCompile(`(?m)^ok ` + c + `: `).MatchString(r.Console) {
				t.Errorf("no \"ok %s\" line", c)
			}
		}
		for _, l := range strings.Split(r.Console, "\n") {
			if strings.HasPrefix(l, "FAIL ") {
				t.Errorf("%s", l)
			}
		}
	})
	t.Run("shutdown", func(t *testing.T) {
		r := rs[1]
		if r.Outcome != runner.NoStatus || !strings.Contains(r.Console, "xenguest: shutting down") || strings.Contains(r.Console, "FAIL") {
			t.Errorf("outcome %v, want a domain that ended by itself without an exit status\n%s", r.Outcome, r.Console)
		}
	})
}

// TestQEMUNoXen: under plain QEMU Open must fail cleanly (ErrNoXen)
// without touching anything privileged.
func TestQEMUNoXen(t *testing.T) {
	if err := runner.Missing(runner.QEMUPackages); err != nil {
		t.Skip("hypercall:", err)
	}
	r, err := runner.QEMU(context.Background(), runner.Options{Image: guestImage(t), Timeout: 60 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if r.Outcome != runner.Exited || r.Status != 69 || !strings.Contains(r.Console, "xenguest: no Xen here") {
		t.Errorf("outcome %v status %d, want exit status 69 and the no-Xen message\n%s", r.Outcome, r.Status, r.Console)
	}
}
