// Command hello is the unikernel demo: a stock Go program that, booted
// under the anykernel shim (QEMU microvm or a Xen PVH domU), prints, reads
// its command line and environment, runs goroutines, sleeps, spins
// without system calls (the shim's timer must preempt it), churns through
// several times the guest's memory (the GC must give it back) and exits
// with a status the host sees.
//
// Arguments: words of the form key=value set parameters (exit=N sets the
// exit status, churn=MiB the total allocation, spin=duration the spin
// time, soak=duration runs a mixed workload for that long); "quick" exits
// at once after the greeting; "fault" dereferences nil; "quiet-hang"
// sleeps forever without a word.
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	start := time.Now()
	params := map[string]string{"exit": "0", "churn": "512", "spin": "300ms", "soak": "0"}
	quick := false
	for _, a := range os.Args[1:] {
		if k, v, ok := strings.Cut(a, "="); ok {
			params[k] = v
		} else if a == "quick" {
			quick = true
		} else if a == "quiet-hang" {
			// Never print, never exit: what a hung boot looks like to
			// the runner, which boots such a guest once more.
			for {
				time.Sleep(time.Hour)
			}
		} else if a == "fault" {
			// A nil dereference: the shim must report the fault.
			var p *int
			*p = 1
		}
	}
	fmt.Printf("hello from Go %s on %s/%s, %d CPU\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	if quick {
		os.Exit(atoi(params["exit"]))
	}
	fmt.Printf("args: %q\n", os.Args[1:])
	fmt.Printf("env HELLO_GREETING=%q\n", os.Getenv("HELLO_GREETING"))
	fmt.Printf("wall clock: %s\n", start.UTC().Format(time.RFC3339))

	// Goroutines talking over channels, with a WaitGroup.
	var wg sync.WaitGroup
	results := make(chan int, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			time.Sleep(time.Duration(i) * time.Millisecond)
			results <- i * i
		}(i)
	}
	wg.Wait()
	close(results)
	sum := 0
	for r := range results {
		sum += r
	}
	fmt.Printf("goroutines: 8 done, sum of squares %d\n", sum)

	// Sleep: the monotonic clock must advance by about as much.
	t0 := time.Now()
	time.Sleep(50 * time.Millisecond)
	fmt.Printf("slept 50ms: %v\n", okDur(time.Since(t0), 50*time.Millisecond))

	// Spin without system calls until a goroutine that sleeps on the same
	// (single) P tells us to stop: it only runs if the shim's timer
	// preempts this thread so that sysmon can preempt this goroutine.
	spin, _ := time.ParseDuration(params["spin"])
	var stop atomic.Bool
	t0 = time.Now()
	go func() {
		time.Sleep(spin)
		stop.Store(true)
	}()
	n := 0
	for !stop.Load() {
		n = work(n)
	}
	fmt.Printf("spun %v without system calls (%d rounds): preempted %s\n", spin, n, okDur(time.Since(t0), spin))

	// The same in a loop without calls: only the runtime's asynchronous
	// preemption (a signal, which the shim delivers) can stop it.
	stop.Store(false)
	t0 = time.Now()
	go func() {
		time.Sleep(spin)
		stop.Store(true)
	}()
	for !stop.Load() {
	}
	fmt.Printf("spun %v in a loop without calls: preempted %s\n", spin, okDur(time.Since(t0), spin))

	// Allocate and drop far more than the guest has: the GC at work.
	churn := atoi(params["churn"])
	debug.SetGCPercent(50)
	var keep [][]byte
	for i := 0; i < churn; i++ {
		b := make([]byte, 1<<20)
		b[len(b)-1] = byte(i)
		keep = append(keep, b)
		if len(keep) > 8 {
			keep = keep[1:]
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("allocated %d MiB in total, %d GCs, heap now %d MiB\n", ms.TotalAlloc>>20, ms.NumGC, ms.HeapAlloc>>20)

	if d, _ := time.ParseDuration(params["soak"]); d > 0 {
		soak(d)
	}
	code := atoi(params["exit"])
	fmt.Printf("bye after %v, exit status %d\n", time.Since(start).Round(time.Millisecond), code)
	os.Exit(code)
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bad number %q\n", s)
		os.Exit(2)
	}
	return n
}

func okDur(got, want time.Duration) string {
	if got >= want && got < want+500*time.Millisecond {
		return "ok"
	}
	return fmt.Sprintf("WRONG (%v)", got)
}

// work is a round of arithmetic. It is not inlined and not a leaf (leaf
// functions with small frames get no stack check), so calling it is a
// point where the Go scheduler can preempt the loop.
//
//go:noinline
func work(n int) int {
	x := n
	for i := 0; i < 1<<12; i++ {
		x = x*1103515245 + 12345
	}
	mixed.Store(int64(mix(x)))
	return n + 1
}

// mixed keeps work's arithmetic from being optimised away.
var mixed atomic.Int64

//go:noinline
func mix(x int) int { return x ^ x>>7 }

// soak runs goroutines that mix timers, channels and allocation for d and
// reports that every worker made progress.
func soak(d time.Duration) {
	const workers = 16
	var progress [workers]atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	ch := make(chan []byte, 4)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for time.Now().Before(deadline) {
				switch w % 4 {
				case 0:
					time.Sleep(time.Duration(w%5+1) * time.Millisecond)
				case 1:
					select {
					case ch <- make([]byte, 64<<10):
					case <-time.After(5 * time.Millisecond):
					}
				case 2:
					select {
					case b := <-ch:
						_ = b[0]
					case <-time.After(5 * time.Millisecond):
					}
				case 3:
					m := map[int][]byte{}
					for i := 0; i < 100; i++ {
						m[i] = make([]byte, 1024)
					}
				}
				progress[w].Add(1)
			}
		}(w)
	}
	last := time.Now()
	for time.Now().Before(deadline) {
		time.Sleep(time.Second)
		if time.Since(last) >= 10*time.Second && time.Until(deadline) > 0 {
			last = time.Now()
			fmt.Printf("soak: %v left\n", time.Until(deadline).Round(time.Second))
		}
	}
	wg.Wait()
	min := progress[0].Load()
	for i := range progress {
		min = mint(min, progress[i].Load())
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("soak: %v done, every worker progressed: %v, %d GCs\n", d, min > 0, ms.NumGC)
}

func mint(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}
