package server_test

import (
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/pushsim/pushsim/server"
	"github.com/pushsim/pushsim/server/push"
)

var benchPhones = flag.Int("phones", 1000, "connected phones in BenchmarkCreateToPhone")

// BenchmarkCreateToPhone measures a challenge's trip from the backend's
// create call to the phone's websocket, with many phones connected: the API
// call, the SQLite commit (WAL, synchronous=FULL, on disk), the outbox
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
	phones := make([]*phone, *benchPhones)
	receivers := make([]*receiver, len(phones))
	for i := range phones {
		p := newPhone(h, svc.Sid, fmt.Sprintf("bench-phone-%06d", i))
		if status, body := p.enroll(h.accessToken(svc.Sid, p.identity)); status != http.StatusCreated {
			b.Fatalf("enroll %d: %d %s", i, status, body)
		}
		if status, body := p.verifyFactor(); status != http.StatusOK {
			b.Fatalf("verify %d: %d %s", i, status, body)
		}
		phones[i] = p
		receivers[i], _ = h.connectPush(b, p.pushSecret())
	}
	latencies := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, r := phones[i%len(phones)], receivers[i%len(phones)]
		start := time.Now()
		h.challenge(p, nil)
		if _, ok := r.next(b, 5*time.Second); !ok {
			b.Fatalf("push %d never arrived", i)
		}
		latencies = append(latencies, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds()), "p99-µs")
}

var benchStore = flag.String("store", "disk", "disk (SQLite WAL, synchronous=FULL) or memory")

func benchDataDir(b *testing.B) string {
	if *benchStore == "memory" {
		return ""
	}
	return b.TempDir()
}
