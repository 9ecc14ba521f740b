package server_test

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pushsim/pushsim/device/pushclient"
	"github.com/pushsim/pushsim/server"
	"github.com/pushsim/pushsim/server/push"
)

var benchPhones = flag.Int("phones", 1000, "connected phones in BenchmarkCreateToPhone")

// BenchmarkCreateToPhone measures a challenge's trip from the backend's
// create call to the phone's websocket, with many phones connected: the API
// call, the SQLite commit (WAL, fsynced, on disk), the outbox
// hand-over and the push frame.
//
//	go test -run '^$' -bench CreateToPhone -benchtime=2000x ./server/ -args -phones=1000 [-store=memory]
func BenchmarkCreateToPhone(b *testing.B) {
	clock := newClock()
	// Every test phone dials from 127.0.0.1: lift the per-address cap.
	h := newHarnessWith(b, server.Config{DataDir: benchDataDir(b), Push: push.Config{MaxConnsPerAddr: 1 << 20}}, clock)
	h.run()
	var svc struct{ Sid string }
	h.account(http.MethodPost, "/v2/Services", url.Values{"FriendlyName": {"bench"}}, http.StatusCreated, &svc)
	phones := enrolledPhones(b, h, svc.Sid, *benchPhones)
	// Each phone notes when its pushes arrive: a push may reach the phone
	// before the create is answered, which waits for the fsync.
	arrivals := make([]chan time.Time, len(phones))
	for i, p := range phones {
		arrived := make(chan time.Time, 4)
		arrivals[i] = arrived
		startPushClient(b, pushclient.Config{
			URL: "ws" + strings.TrimPrefix(h.srv.URL, "http") + "/push/connect", Secret: p.pushSecret(), Now: h.clock.Now,
			OnMessage: func(pushclient.Message) { arrived <- time.Now() },
		})
	}
	latencies := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, arrived := phones[i%len(phones)], arrivals[i%len(phones)]
		start := time.Now()
		h.challenge(p, nil)
		select {
		case at := <-arrived:
			latencies = append(latencies, at.Sub(start))
		case <-time.After(5 * time.Second):
			b.Fatalf("push %d never arrived", i)
		}
	}
	b.StopTimer()
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds()), "p99-µs")
}

var benchStore = flag.String("store", "disk", "disk (SQLite WAL, fsynced) or memory")

func benchDataDir(b *testing.B) string {
	if *benchStore == "memory" {
		return ""
	}
	return b.TempDir()
}

// BenchmarkCreatesConcurrent is the create path alone, from 16 clients at
// once over loopback HTTP, on the configured store, so its CPU profile is
// the create path's:
//
//	go test -run '^$' -bench CreatesConcurrent -benchtime 5s -cpuprofile cpu.prof ./server/ [-args -store=memory]
func BenchmarkCreatesConcurrent(b *testing.B) {
	h := newHarnessWith(b, server.Config{DataDir: benchDataDir(b), MaxPendingPerFactor: -1}, newClock())
	h.run()
	var svc struct{ Sid string }
	h.account(http.MethodPost, "/v2/Services", url.Values{"FriendlyName": {"bench"}}, http.StatusCreated, &svc)
	phones := enrolledPhones(b, h, svc.Sid, 64)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var next atomic.Int64
	b.SetParallelism((16 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p := phones[int(next.Add(1))%len(phones)]
			form := url.Values{"FactorSid": {p.factorSid}, "Details.Message": {"Sign in?"}}
			req, _ := http.NewRequest(http.MethodPost, h.srv.URL+p.entityPath()+"/Challenges", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(h.sid, h.token)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				b.Fatalf("create: %d", resp.StatusCode)
			}
		}
	})
}

// enrolledPhones enrolls and verifies n phones in the service.
func enrolledPhones(b *testing.B, h *harness, serviceSid string, n int) []*phone {
	phones := make([]*phone, n)
	for i := range phones {
		p := newPhone(h, serviceSid, fmt.Sprintf("bench-phone-%06d", i))
		if status, body := p.enroll(h.accessToken(serviceSid, p.identity)); status != http.StatusCreated {
			b.Fatalf("enroll %d: %d %s", i, status, body)
		}
		if status, body := p.verifyFactor(); status != http.StatusOK {
			b.Fatalf("verify %d: %d %s", i, status, body)
		}
		phones[i] = p
	}
	return phones
}
