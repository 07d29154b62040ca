package rumpexamples

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anykernel/anykernel/backend/rump"
)

// examples are the programs and what each must print.
var examples = []struct {
	name   string
	makefs bool // needs Debian's makefs
	want   []string
}{
	{"kernfs", false, []string{"mount -t kernfs kernfs /kern", "kernel version is NetBSD"}},
	{"fsimage", true, []string{"etfs: host file", "read /mnt/README: \"Is that a small file system in your pocket", "umount /mnt"}},
	{"nohost", false, []string{"kernel version is NetBSD", "copied it to a tmpfs in the rump kernel"}},
	{"tmpfs", false, []string{"drwx------ (ta_root_mode)", "(ta_nodes_max)", "(ta_size_max)", "umount /data"}},
	{"ffsedit", true, []string{"holds the appended line", "made-in-rump/hello", "every edit is there"}},
	{"httpd", false, []string{"listening on 127.0.0.1:8080", "GET /req0 through the same kernel: 200 OK Hello 127.0.0.1:", "server shut down"}},
}

// TestExamples builds every program with the rump tag and runs it: each
// must exit 0 and print what it did. Without a rump kernel it skips,
// saying how to get one.
func TestExamples(t *testing.T) {
	prefix := os.Getenv("RUMP_PREFIX")
	if prefix == "" {
		t.Skip("RUMP_PREFIX unset: " + rump.Unavailable)
	}
	if _, err := os.Stat(filepath.Join(prefix, "lib", "librump.so")); err != nil {
		t.Skipf("RUMP_PREFIX=%s holds no lib/librump.so: %s", prefix, rump.Unavailable)
	}
	gocmd := goTool(t)
	bin := t.TempDir()
	args := []string{"build", "-tags", "rump", "-o", bin + string(filepath.Separator)}
	for _, e := range examples {
		args = append(args, "./"+e.name)
	}
	if out, err := exec.Command(gocmd, args...).CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	_, haveMakefs := exec.LookPath("makefs")
	for _, e := range examples {
		t.Run(e.name, func(t *testing.T) {
			if e.makefs && haveMakefs != nil {
				t.Skip("makefs not installed (apt-get install makefs)")
			}
			cmd := exec.Command(filepath.Join(bin, e.name))
			cmd.Env = append(os.Environ(), "RUMP_PREFIX="+prefix)
			done := make(chan struct{})
			var out []byte
			var err error
			go func() {
				out, err = cmd.CombinedOutput()
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(60 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("%s did not finish in 60s:\n%s", e.name, out)
			}
			t.Logf("%s:\n%s", e.name, out)
			if err != nil {
				t.Fatalf("%s: %v", e.name, err)
			}
			for _, w := range e.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("%s's output lacks %q", e.name, w)
				}
			}
		})
	}
}

// TestNohostImports checks that nohost links no host API: neither the
// native backend nor golang.org/x/sys nor os/exec. It needs no rump
// kernel, only the Go tool.
func TestNohostImports(t *testing.T) {
	gocmd := goTool(t)
	out, err := exec.Command(gocmd, "list", "-tags", "rump", "-deps", "./nohost").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 || !contains(deps, "github.com/anykernel/anykernel/backend/rump") {
		t.Fatalf("go list -deps ./nohost: %q", deps)
	}
	for _, bad := range []string{"github.com/anykernel/anykernel/backend/native", "golang.org/x/sys/unix", "os/exec"} {
		if contains(deps, bad) {
			t.Errorf("nohost depends on %s", bad)
		}
	}
}

// goTool finds the go command (go test puts its own first in PATH).
func goTool(t *testing.T) string {
	g, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command in PATH: %v", err)
	}
	return g
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
