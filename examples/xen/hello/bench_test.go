package main

import (
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/anykernel/anykernel/build/xenrun/runner"
)

// minimalImage builds the baseline PVH image from build/shim/minimal.
func minimalImage(b *testing.B) string {
	out := filepath.Join(b.TempDir(), "minimal.elf")
	cmd := exec.Command("gcc", "-m32", "-O2", "-ffreestanding", "-fno-pic", "-fno-stack-protector",
		"-nostdlib", "-static", "-no-pie", "-Wl,-Ttext-segment=0x100000", "-Wl,-e,start",
		"-Wl,--build-id=none", "-o", out, "../../../build/shim/minimal/minimal.c")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("gcc: %v\n%s", err, msg)
	}
	return out
}

// bootOnce runs image under QEMU microvm and returns the wall time of the
// whole QEMU process (start to exit), the CPU time it used, and the
// console.
func bootOnce(b *testing.B, image string, args ...string) (wall, cpu time.Duration, console string) {
	start := time.Now()
	cmd := exec.Command("qemu-system-x86_64", runner.QEMUArgs(runner.Options{Image: image, Args: args})...)
	out, _ := cmd.Output()
	wall = time.Since(start)
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		b.Fatalf("%s: qemu exit %d, want 1 (debug exit with 0)\n%s", image, code, out)
	}
	return wall, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), string(out)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

var backedRE = regexp.MustCompile(`backed (\d+) KiB`)

// BenchmarkBootQEMU compares boot-to-exit wall time of the Go hello
// ("quick": print one line, exit) with the minimal PVH image, alternating
// the two in one run; it also reports the guest memory the shim had
// backed at exit.
func BenchmarkBootQEMU(b *testing.B) {
	if err := runner.Missing(runner.QEMUPackages); err != nil {
		b.Skip(err)
	}
	goImg, cImg := image(b), minimalImage(b)
	bootOnce(b, goImg, "quick") // warm the page cache
	bootOnce(b, cImg)
	var goT, cT, goCPU, cCPU []time.Duration
	backed := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, cpu, out := bootOnce(b, goImg, "shim.stats", "quick")
		goT, goCPU = append(goT, d), append(goCPU, cpu)
		m := backedRE.FindStringSubmatch(out)
		if m == nil {
			b.Fatalf("no stats line:\n%s", out)
		}
		backed, _ = strconv.Atoi(m[1])
		d, cpu, _ = bootOnce(b, cImg)
		cT, cCPU = append(cT, d), append(cCPU, cpu)
	}
	// Medians: this machine is shared, and a busy neighbour shows up as
	// outliers in either series. CPU time (QEMU's user+system) is the
	// measure least disturbed by neighbours.
	goM, cM := median(goT), median(cT)
	b.ReportMetric(float64(goM.Microseconds())/1000, "go-median-ms")
	b.ReportMetric(float64(cM.Microseconds())/1000, "c-median-ms")
	b.ReportMetric(float64(goM)/float64(cM), "go/c-ratio")
	b.ReportMetric(float64(median(goCPU))/float64(median(cCPU)), "go/c-cpu-ratio")
	b.ReportMetric(float64(backed)/1024, "MiB-backed")
}

// BenchmarkImageSize reports the image size against the Go binary: the
// overhead is what the image adds to the program's loadable bytes.
func BenchmarkImageSize(b *testing.B) {
	img := image(b)
	bin := filepath.Join(b.TempDir(), "hello")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, msg)
	}
	f, err := elf.Open(bin)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var loadable uint64
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			loadable += p.Filesz
		}
	}
	si, _ := os.Stat(img)
	sb, _ := os.Stat(bin)
	for i := 0; i < b.N; i++ {
	}
	b.ReportMetric(float64(si.Size()), "image-bytes")
	b.ReportMetric(float64(sb.Size()), "go-binary-bytes")
	b.ReportMetric(float64(uint64(si.Size())-loadable)/1024, "KiB-over-loadable")
	b.ReportMetric(float64(si.Size()-sb.Size())/1024, "KiB-over-binary")
}

// BenchmarkXenFirstLine measures, on Xen under QEMU, the time from xl
// create to the guest's first console line, and the whole run (Xen, dom0
// and the guest). Each iteration is a full boot of ~12-16s: run it with
// -benchtime 3x.
func BenchmarkXenFirstLine(b *testing.B) {
	if err := runner.XenMissing(); err != nil {
		b.Skip(err)
	}
	img := image(b)
	var first, total time.Duration
	for i := 0; i < b.N; i++ {
		r, err := runner.Xen(context.Background(), runner.Options{Image: img, Args: []string{"quick"}, Timeout: 150 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		if r.Outcome != runner.Exited || r.Status != 0 || r.FirstLine == 0 {
			b.Fatalf("outcome %v status %d first line %v\n%s", r.Outcome, r.Status, r.FirstLine, r.Console)
		}
		first += r.FirstLine
		total += r.Wall
	}
	b.ReportMetric(first.Seconds()/float64(b.N), "s-to-first-line")
	b.ReportMetric(total.Seconds()/float64(b.N), "s-total")
}
