package runner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/anykernel/anykernel/build/shim"
)

// Paths of the Debian packages the Xen harness assembles its dom0 from.
const (
	xenGz   = "/boot/xen-4.17-amd64.gz"
	xenBin  = "/usr/lib/xen-4.17/bin"
	busybox = "/bin/busybox"
	libgcc  = "/lib/x86_64-linux-gnu/libgcc_s.so.1"
)

// XenPackages are what Xen runs need (linux-image-amd64 is checked by
// findKernel, busybox-static by checkStatic).
var XenPackages = []Package{
	{"qemu-system-x86", "qemu-system-x86_64"},
	{"xen-hypervisor-4.17-amd64", xenGz},
	{"xen-utils-4.17", xenBin + "/xl"},
	{"busybox-static", busybox},
}

var dom0Tools = []string{"xl", "xenstored", "xenconsoled", "xenconsole", "xen-init-dom0"}
var dom0Modules = []string{"xen-evtchn", "xen-gntdev", "xen-gntalloc", "xen-privcmd", "xenfs"}

// XenMissing reports what the Xen harness lacks, naming Debian packages.
func XenMissing() error {
	if err := Missing(XenPackages); err != nil {
		return err
	}
	if _, _, err := findKernel(); err != nil {
		return err
	}
	return checkStatic(busybox)
}

// findKernel returns the newest /boot/vmlinuz-* that has Xen modules.
func findKernel() (vmlinuz, moddir string, err error) {
	ks, _ := filepath.Glob("/boot/vmlinuz-*")
	sort.Sort(sort.Reverse(sort.StringSlice(ks)))
	for _, k := range ks {
		ver := strings.TrimPrefix(filepath.Base(k), "vmlinuz-")
		d := filepath.Join("/lib/modules", ver, "kernel/drivers/xen")
		if _, err := os.Stat(filepath.Join(d, "xen-evtchn.ko")); err == nil {
			return k, d, nil
		}
	}
	return "", "", errors.New("missing Debian package linux-image-amd64 (a dom0 kernel with Xen modules): apt-get install linux-image-amd64")
}

func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w (apt-get install busybox-static)", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked: apt-get install busybox-static", path)
		}
	}
	return nil
}

// dom0Init is the dom0 /init: start the Xen tools, then for each guest
// in /guests create it with its console attached (each under its own
// time limit), print its console log and xl's messages, and power off.
// Lines starting "XENRUN:" are markers for the host.
const dom0Init = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/usr/lib/xen-4.17/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /tmp /var/lock /var/run/xen /var/run/xenstored /var/lib/xenstored /var/lib/xen /var/log/xen/console /run/xen
mount -t devpts devpts /dev/pts
for m in xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs; do insmod /lib/modules/$m.ko; done
mount -t xenfs xenfs /proc/xen
xenstored --pid-file /var/run/xenstored.pid
xen-init-dom0 >/tmp/init-dom0.log 2>&1 || cat /tmp/init-dom0.log
xenconsoled --log=guest --log-dir=/var/log/xen/console
for cfg in /guests/*.cfg; do
	n=$(basename $cfg .cfg)
	echo "XENRUN: create $n"
	timeout -s KILL $(cat /guests/$n.timeout) xl create -c $cfg 2>/tmp/xl-$n.log || true
	echo
	if xl domid $n >/dev/null 2>&1; then
		xl destroy $n
		echo "XENRUN: timeout $n"
	fi
	echo "XENRUN: ended $n"
	sed 's/^/XENXL|/' /tmp/xl-$n.log
	sed 's/^/XENLOG|/' /var/log/xen/console/guest-$n.log
done
echo "XENRUN: done"
poweroff -f
`

// cpio writes a newc archive.
type cpio struct {
	w   *bytes.Buffer
	ino int
}

func (c *cpio) add(name string, mode uint32, data []byte) {
	c.ino++
	fmt.Fprintf(c.w, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)
	c.w.WriteString(name + "\x00")
	for c.w.Len()%4 != 0 {
		c.w.WriteByte(0)
	}
	c.w.Write(data)
	for c.w.Len()%4 != 0 {
		c.w.WriteByte(0)
	}
}

func (c *cpio) dir(name string)               { c.add(name, 0o40755, nil) }
func (c *cpio) file(name string, data []byte) { c.add(name, 0o100755, data) }
func (c *cpio) symlink(name, target string)   { c.add(name, 0o120777, []byte(target)) }
func (c *cpio) trailer()                      { c.add("TRAILER!!!", 0, nil) }
func newCpio() *cpio                          { return &cpio{w: &bytes.Buffer{}} }
func (c *cpio) bytes() []byte                 { return c.w.Bytes() }

var lddRE = regexp.MustCompile(`(/[^ ]+) \(0x`)

// libsOf lists the shared libraries (and the dynamic loader) of bins.
func libsOf(bins []string) ([]string, error) {
	set := map[string]bool{libgcc: true} // xl dlopens libgcc_s at run time
	for _, b := range bins {
		out, err := exec.Command("ldd", b).Output()
		if err != nil {
			return nil, fmt.Errorf("ldd %s: %w", b, err)
		}
		for _, m := range lddRE.FindAllStringSubmatch(string(out), -1) {
			set[m[1]] = true
		}
	}
	var libs []string
	for l := range set {
		libs = append(libs, l)
	}
	sort.Strings(libs)
	return libs, nil
}

// XenFiles are the assembled pieces of the Xen harness.
type XenFiles struct {
	Xen, Kernel, Initrd string
}

// AssembleXen builds (or finds in the cache) the uncompressed hypervisor
// and the dom0 initramfs.
func AssembleXen() (*XenFiles, error) {
	if err := XenMissing(); err != nil {
		return nil, err
	}
	vmlinuz, moddir, _ := findKernel()
	bins := make([]string, len(dom0Tools))
	for i, t := range dom0Tools {
		bins[i] = filepath.Join(xenBin, t)
	}
	libs, err := libsOf(bins)
	if err != nil {
		return nil, err
	}
	inputs := append(append([]string{xenGz, vmlinuz, busybox}, bins...), libs...)
	for _, m := range dom0Modules {
		inputs = append(inputs, modPath(moddir, m))
	}
	h := sha256.New()
	h.Write([]byte(dom0Init))
	for _, p := range inputs {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(h, "%s %d %d\n", p, st.Size(), st.ModTime().UnixNano())
	}
	base, err := shim.CacheDir()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(base, "xen-"+hex.EncodeToString(h.Sum(nil))[:16])
	xf := &XenFiles{Xen: filepath.Join(dir, "xen"), Kernel: vmlinuz, Initrd: filepath.Join(dir, "dom0.cpio")}
	if _, err := os.Stat(xf.Initrd); err == nil {
		return xf, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	// The hypervisor must be uncompressed for QEMU's multiboot loader.
	x, err := exec.Command("zcat", xenGz).Output()
	if err != nil {
		return nil, fmt.Errorf("zcat %s: %w", xenGz, err)
	}
	if err := writeAtomic(xf.Xen, x); err != nil {
		return nil, err
	}
	c := newCpio()
	for _, d := range []string{"bin", "lib", "lib64", "lib/modules", "lib/x86_64-linux-gnu", "usr", "usr/lib",
		"usr/lib/xen-4.17", "usr/lib/xen-4.17/bin", "proc", "sys", "dev", "etc", "etc/xen", "tmp", "var", "run"} {
		c.dir(d)
	}
	add := func(dst, src string) error {
		b, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		c.file(dst, b)
		return nil
	}
	if err := add("bin/busybox", busybox); err != nil {
		return nil, err
	}
	c.symlink("bin/sh", "busybox")
	for i, b := range bins {
		if err := add("usr/lib/xen-4.17/bin/"+dom0Tools[i], b); err != nil {
			return nil, err
		}
	}
	for _, l := range libs {
		real, err := filepath.EvalSymlinks(l)
		if err != nil {
			return nil, err
		}
		if err := add(strings.TrimPrefix(l, "/"), real); err != nil {
			return nil, err
		}
	}
	for _, m := range dom0Modules {
		if err := add("lib/modules/"+m+".ko", modPath(moddir, m)); err != nil {
			return nil, err
		}
	}
	c.file("init", []byte(dom0Init))
	c.add("etc/xen/xl.conf", 0o100644, []byte("# empty: defaults\n"))
	c.trailer()
	if err := writeAtomic(xf.Initrd, c.bytes()); err != nil {
		return nil, err
	}
	return xf, nil
}

func modPath(moddir, m string) string {
	if m == "xenfs" {
		return filepath.Join(moddir, "xenfs", "xenfs.ko")
	}
	return filepath.Join(moddir, m+".ko")
}

func writeAtomic(path string, b []byte) error {
	tmp := path + ".tmp" + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func xlQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// XenArgs returns the QEMU arguments that boot Xen with dom0 files xf and
// initramfs initrd.
func XenArgs(xf *XenFiles, initrd string) []string {
	return []string{
		"-M", "pc", "-accel", "tcg", "-cpu", "max", "-m", "1024", "-smp", "1",
		"-nodefaults", "-no-user-config", "-nographic", "-serial", "stdio", "-no-reboot",
		"-kernel", xf.Xen,
		// SMAP off: Xen under TCG trips over it. No noreboot: a dom0 crash
		// must end the machine rather than hang until the time limit.
		"-append", "console=com1 com1=115200,8n1 dom0_mem=384M,max:384M dom0_max_vcpus=1 smap=0 guest_loglvl=all",
		"-initrd", xf.Kernel + " console=hvc0 quiet loglevel=1 rdinit=/init," + initrd,
	}
}

var e9RE = regexp.MustCompile(`^\(d(\d+)\) (.*)$`)

// Xen boots the image as a PVH domU on Xen inside QEMU.
func Xen(ctx context.Context, o Options) (*Result, error) {
	rs, err := XenBatch(ctx, []Options{o})
	if len(rs) == 0 {
		return nil, err
	}
	return rs[0], err
}

// XenBatch boots Xen once and runs each image in turn as a PVH domU,
// which saves the ~10s that Xen and dom0 take to start. The guests' time
// limits apply to each guest; the whole run is limited by their sum plus
// the start-up. Console and Log of the first Options are used for all.
//
// Xen nested in QEMU's emulation has, rarely, hung at boot without a
// trace: dom0 idle, no guest created or a guest that never printed. Such
// guests are booted once more, in a second batch, and their Results say
// Retried; a guest that printed anything before hanging is not retried.
func XenBatch(ctx context.Context, opts []Options) ([]*Result, error) {
	rs, silent, err := xenBatchOnce(ctx, opts)
	if len(silent) == 0 || ctx.Err() != nil {
		return rs, err
	}
	again := make([]Options, len(silent))
	names := make([]string, len(silent))
	for j, i := range silent {
		again[j] = opts[i]
		names[j] = fmt.Sprintf("g%02d", i)
	}
	again[0].Console, again[0].Log = opts[0].Console, opts[0].Log
	log := opts[0].Log
	if log == nil || log == io.Discard {
		log = os.Stderr
	}
	fmt.Fprintf(log, "xenrun: %s hung without output (Xen under QEMU); booting Xen once more for them\n", strings.Join(names, ", "))
	rs2, _, err2 := xenBatchOnce(ctx, again)
	for j, i := range silent {
		if j < len(rs2) && rs2[j] != nil {
			rs[i] = rs2[j]
			rs[i].Retried = true
		}
	}
	if err2 != nil {
		return rs, err2
	}
	if err != nil && strings.HasPrefix(err.Error(), "xen: no guest was created") {
		err = nil // the second boot created them
	}
	return rs, err
}

// xenBatchOnce is one boot of XenBatch. silent lists the guests that hung
// without any output, or were never created because the boot hung.
func xenBatchOnce(ctx context.Context, opts []Options) (rs []*Result, silent []int, err error) {
	if len(opts) == 0 {
		return nil, nil, errors.New("no guests")
	}
	if len(opts) > 99 {
		return nil, nil, errors.New("at most 99 guests in one batch")
	}
	xf, err := AssembleXen()
	if err != nil {
		return nil, nil, err
	}
	run := newCpio()
	run.dir("guests")
	total := 60 * time.Second // Xen and dom0 start-up
	for i := range opts {
		o := &opts[i]
		o.defaults()
		img, err := os.ReadFile(o.Image)
		if err != nil {
			return nil, nil, err
		}
		name := fmt.Sprintf("g%02d", i)
		cfg := fmt.Sprintf("name = %q\ntype = \"pvh\"\nkernel = \"/guests/%s.elf\"\ncmdline = %s\nmemory = %d\nvcpus = 1\n"+
			"on_poweroff = \"destroy\"\non_crash = \"destroy\"\non_reboot = \"destroy\"\n",
			name, name, xlQuote(cmdline(o.Args)), o.MemMiB)
		run.file("guests/"+name+".elf", img)
		run.file("guests/"+name+".cfg", []byte(cfg))
		run.file("guests/"+name+".timeout", []byte(strconv.Itoa(int(o.Timeout.Seconds()+0.5))))
		total += o.Timeout
	}
	run.trailer()
	tmp, err := os.CreateTemp("", "xenrun-*.cpio")
	if err != nil {
		return nil, nil, err
	}
	defer os.Remove(tmp.Name())
	base, err := os.Open(xf.Initrd)
	if err != nil {
		return nil, nil, err
	}
	_, err = io.Copy(tmp, base)
	base.Close()
	if err == nil {
		_, err = tmp.Write(run.bytes())
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, nil, err
	}

	ctx, cancel := context.WithTimeout(ctx, total)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, "qemu-system-x86_64", XenArgs(xf, tmp.Name())...)
	cmd.SysProcAttr = dieWithParent()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("qemu: %w", err)
	}
	type guest struct {
		live, logged, e9 strings.Builder
		created, ended   time.Time
		timedOut         bool
		r                Result
	}
	gs := make([]guest, len(opts))
	cur := -1 // the guest whose console is live
	done := false
	conOut, logOut := opts[0].Console, opts[0].Log
	scanLines(stdout, func(line string) {
		if logOut != nil && strings.HasPrefix(line, "XENRUN:") {
			fmt.Fprintln(logOut, line)
		}
		// Port 0xE9 output: "(dN) text", domain N is the N-th guest.
		if m := e9RE.FindStringSubmatch(line); m != nil {
			if d, _ := strconv.Atoi(m[1]); d >= 1 && d <= len(gs) {
				gs[d-1].e9.WriteString(m[2] + "\n")
			}
			if logOut != nil {
				fmt.Fprintln(logOut, line)
			}
			return
		}
		if f := strings.Fields(line); len(f) == 3 && f[0] == "XENRUN:" {
			i, err := strconv.Atoi(strings.TrimPrefix(f[2], "g"))
			if err != nil || i < 0 || i >= len(gs) {
				return
			}
			switch f[1] {
			case "create":
				cur = i
				gs[i].created = time.Now()
			case "timeout":
				gs[i].timedOut = true
			case "ended":
				gs[i].ended = time.Now()
				cur = -1
			}
			return
		}
		if line == "XENRUN: done" {
			done = true
			cancel() // dom0 is powering off: no need to wait for it
			return
		}
		if rest, ok := strings.CutPrefix(line, "XENLOG|"); ok {
			if i := lastEnded(gs, func(g *guest) bool { return !g.ended.IsZero() }); i >= 0 {
				gs[i].logged.WriteString(rest + "\n")
			}
			return
		}
		if cur >= 0 && !strings.HasPrefix(line, "(XEN)") {
			g := &gs[cur]
			if g.r.FirstLine == 0 && strings.TrimSpace(line) != "" {
				g.r.FirstLine = time.Since(g.created)
			}
			g.live.WriteString(line + "\n")
			if conOut != nil {
				fmt.Fprintln(conOut, line)
			}
			return
		}
		if logOut != nil {
			fmt.Fprintln(logOut, line)
		}
	})
	werr := cmd.Wait()
	wall := time.Since(start)
	rs = make([]*Result, len(gs))
	for i := range gs {
		g := &gs[i]
		r := &g.r
		rs[i] = r
		r.Console = g.logged.String()
		if r.Console == "" {
			r.Console = g.live.String()
		}
		if !g.created.IsZero() {
			end := g.ended
			if end.IsZero() {
				end = time.Now()
			}
			r.Wall = end.Sub(g.created)
		}
		if len(gs) == 1 {
			r.Wall = wall
		}
		var ok bool
		if r.Outcome, r.Status, ok = parseStatus(r.Console); !ok {
			r.Outcome, r.Status, ok = parseStatus(g.e9.String())
		}
		if !ok {
			switch {
			case g.timedOut, !g.created.IsZero() && g.ended.IsZero() && ctx.Err() != nil && !done:
				r.Outcome = Hung
			default:
				r.Outcome = NoStatus
			}
		}
	}
	if !done && ctx.Err() == nil && werr != nil {
		return rs, nil, fmt.Errorf("qemu: %v: %s", werr, strings.TrimSpace(stderr.String()))
	}
	bootHung := !done && ctx.Err() != nil
	for i := range gs {
		g := &gs[i]
		quiet := strings.TrimSpace(g.live.String()+g.logged.String()+g.e9.String()) == ""
		if quiet && (rs[i].Outcome == Hung || bootHung && g.created.IsZero()) {
			silent = append(silent, i)
		}
	}
	if !done && gs[0].created.IsZero() {
		return rs, silent, fmt.Errorf("xen: no guest was created (dom0 failed?); run with -v")
	}
	return rs, silent, nil
}

// lastEnded returns the index of the last guest for which ok holds.
func lastEnded[T any](gs []T, ok func(*T) bool) int {
	for i := len(gs) - 1; i >= 0; i-- {
		if ok(&gs[i]) {
			return i
		}
	}
	return -1
}
