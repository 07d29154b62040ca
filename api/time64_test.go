package api_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/anykernel/anykernel/api"
)

// Times past 2038 (more than 2^31 seconds after 1970) go through the
// kernel intact on every target: on 32-bit Linux only the *_time64 calls
// with the 64-bit struct __kernel_timespec can carry them.
var after2038 = time.Date(2100, 1, 2, 3, 4, 5, 6000, time.UTC)

func TestUtimensatAfter2038(t *testing.T) {
	k := host(t)
	p := filepath.Join(t.TempDir(), "future")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ts := api.TimeToTimespec(after2038)
	if err := k.Utimensat(nil, p, ts, ts, 0); err != nil {
		t.Fatalf("utimensat to %v: %v", after2038, err)
	}
	// statx, whose times are 64-bit everywhere (os.Stat on 386 reads
	// struct stat64, whose are not).
	var st api.Statx
	if err := k.Statx(nil, p, 0, api.STATX_MTIME, &st); err != nil {
		t.Fatal(err)
	}
	if got := st.Mtime.Time(); !got.Equal(after2038) {
		t.Fatalf("mtime is %v, want %v", got.UTC(), after2038)
	}
}

func TestTimerfdAfter2038(t *testing.T) {
	k := host(t)
	tf, err := k.TimerfdCreate(api.CLOCK_REALTIME, api.TFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer tf.Close()
	v := api.Itimerspec{Value: api.TimeToTimespec(after2038)}
	if _, err := tf.Settime(api.TFD_TIMER_ABSTIME, v); err != nil {
		t.Fatalf("timerfd_settime to %v: %v", after2038, err)
	}
	got, err := tf.Gettime()
	if err != nil {
		t.Fatal(err)
	}
	// The time left, about 74 years, is itself beyond 2^31 seconds.
	left := time.Until(after2038)
	if d := got.Value.Duration() - left; got.Value.Sec < 1<<31 || d > time.Minute || d < -time.Minute {
		t.Fatalf("timerfd_gettime: %v left, want about %v", got.Value.Duration(), left)
	}
}
