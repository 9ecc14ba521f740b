package push

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pushsim/pushsim/device/pushclient"
)

var (
	benchPhones = flag.Int("phones", 100, "phones connected in BenchmarkSendToPhone and BenchmarkFanOut")
	benchIdle   = flag.Int("idle", 1000, "idle connections held in BenchmarkIdleConnectionMemory")
)

// connectPhones starts n phones whose OnMessage signals on their channel.
func connectPhones(b *testing.B, tg *testGateway, n int) []chan time.Time {
	b.Helper()
	got := make([]chan time.Time, n)
	for i := range n {
		ch := make(chan time.Time, 16)
		got[i] = ch
		startPhone(b, tg.url, secretFor(i), phoneOptions{
			seed:  uint64(i),
			onMsg: func(pushclient.Message) { ch <- time.Now() },
		})
	}
	waitFor(b, "phones connected", func() bool { return tg.Stats().Connected == n })
	return got
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds())
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

// BenchmarkSendToPhone measures one push from Send to the phone's OnMessage
// over loopback while -phones phones are connected, one message at a time.
func BenchmarkSendToPhone(b *testing.B) {
	n := *benchPhones
	tg := startGateway(b, Config{MaxConnsPerAddr: n})
	got := connectPhones(b, tg, n)
	expires := time.Now().Add(time.Hour)
	var lat []time.Duration
	i := 0
	for b.Loop() {
		p := i % n
		start := time.Now()
		if err := tg.Send(Message{ID: strconv.Itoa(i), Token: tokenFor(p), Data: challengeData("YC1"), ExpiresAt: expires}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, (<-got[p]).Sub(start))
		i++
	}
	reportLatency(b, lat)
}

// BenchmarkFanOut sends one push to each of -phones phones per iteration and
// measures each one's Send-to-OnMessage latency.
func BenchmarkFanOut(b *testing.B) {
	n := *benchPhones
	tg := startGateway(b, Config{MaxConnsPerAddr: n})
	got := connectPhones(b, tg, n)
	expires := time.Now().Add(time.Hour)
	sentAt := make([]time.Time, n)
	var lat []time.Duration
	round := 0
	for b.Loop() {
		for p := range n {
			sentAt[p] = time.Now()
			if err := tg.Send(Message{ID: fmt.Sprintf("%d-%d", round, p), Token: tokenFor(p), Data: challengeData("YC1"), ExpiresAt: expires}); err != nil {
				b.Fatal(err)
			}
		}
		for p := range n {
			lat = append(lat, (<-got[p]).Sub(sentAt[p]))
		}
		round++
	}
	b.ReportMetric(float64(n*round)/b.Elapsed().Seconds(), "msgs/s")
	reportLatency(b, lat)
}

// BenchmarkIdleConnectionMemory holds -idle connections that a child process
// opens (so the clients' memory is not counted) and reports what the
// gateway's process grew by per connection. The loop itself measures Stats
// with that many connections, as a health check would call it.
func BenchmarkIdleConnectionMemory(b *testing.B) {
	n := *benchIdle
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < uint64(n)+200 {
		b.Skipf("open-file limit %d is too low for %d connections; raise ulimit -n", lim.Cur, n)
	}
	g := NewGateway(Config{MaxConnsPerAddr: n})
	srv := httptest.NewServer(g)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		g.Shutdown(ctx)
		srv.Close()
	})
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/push/connect"

	before := memSnapshot()
	child := exec.Command(os.Args[0], "-test.run=^TestIdleClientsHelper$")
	child.Env = append(os.Environ(), "PUSHSIM_IDLE_URL="+url, "PUSHSIM_IDLE_COUNT="+strconv.Itoa(n))
	child.Stderr = os.Stderr
	hold, err := child.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := child.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := child.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		hold.Close()
		child.Wait()
	}()
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "ready") || strings.HasPrefix(sc.Text(), "failed") {
				ready <- sc.Text()
			}
		}
		close(ready)
		io.Copy(io.Discard, out)
	}()
	if line := <-ready; !strings.HasPrefix(line, "ready") {
		b.Fatalf("client process: %q", line)
	}
	waitFor(b, "connections registered", func() bool { return g.Stats().Connected == n })
	after := memSnapshot()

	goroutines := runtime.NumGoroutine()
	for b.Loop() {
		if g.Stats().Connected != n {
			b.Fatal("connections dropped while idle")
		}
	}
	// Reported after the loop, which resets metrics when it starts.
	b.ReportMetric(float64(after.heapStack-before.heapStack)/float64(n), "heap+stack-B/conn")
	if before.rss > 0 && after.rss > 0 {
		b.ReportMetric(float64(after.rss-before.rss)/float64(n), "rss-B/conn")
	}
	b.ReportMetric(float64(goroutines)/float64(n), "goroutines/conn")
}

type memUse struct{ heapStack, rss int64 }

func memSnapshot() memUse {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := memUse{heapStack: int64(ms.HeapInuse + ms.StackInuse)}
	// Resident pages, second field of statm; Linux only, hence optional.
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 1 {
			if pages, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				m.rss = pages * int64(os.Getpagesize())
			}
		}
	}
	return m
}

// TestIdleClientsHelper is BenchmarkIdleConnectionMemory's client process:
// it opens the connections, reports "ready", and holds them until its stdin
// closes. Run directly, it does nothing.
func TestIdleClientsHelper(t *testing.T) {
	url := os.Getenv("PUSHSIM_IDLE_URL")
	if url == "" {
		t.Skip("helper process for BenchmarkIdleConnectionMemory")
	}
	n, _ := strconv.Atoi(os.Getenv("PUSHSIM_IDLE_COUNT"))
	var conns []io.Closer
	for i := range n {
		ws, resp, err := dialRaw(url, secretFor(i), http.Header{})
		if err != nil {
			status := ""
			if resp != nil {
				status = resp.Status
			}
			fmt.Printf("failed after %d connections: %v %s\n", i, err, status)
			return
		}
		conns = append(conns, ws)
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
}
