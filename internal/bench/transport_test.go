package bench

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Requests in turn share one kept-alive connection, carry their bodies and
// headers, and get their answers whole.
func TestLeanTransportKeepsConnectionsAlive(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Echo", r.Header.Get("Authorization"))
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, r.Method+" "+r.URL.Path+" "+string(body)+" "+strings.Repeat("x", 10_000))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	client := &http.Client{Transport: newLeanTransport(http.DefaultTransport)}
	for i := range 3 {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v2/Services", strings.NewReader("FriendlyName=a"))
		req.SetBasicAuth("AC1", "token")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated || resp.Header.Get("X-Echo") == "" ||
			!strings.HasPrefix(string(body), "POST /v2/Services FriendlyName=a ") || len(body) != len("POST /v2/Services FriendlyName=a ")+10_000 {
			t.Fatalf("request %d: %d %q, %d bytes: %.40q…", i, resp.StatusCode, resp.Header.Get("X-Echo"), len(body), body)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("three requests in turn opened %d connections, want 1", n)
	}
}

// A kept connection the server has closed meanwhile costs a request
// nothing: it is sent again on a new one.
func TestLeanTransportRetriesAClosedIdleConnection(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Write(body)
	}))
	defer srv.Close()
	client := &http.Client{Transport: newLeanTransport(http.DefaultTransport)}
	post := func(body string) string {
		t.Helper()
		resp, err := client.Post(srv.URL, "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		got, _ := io.ReadAll(resp.Body)
		return string(got)
	}
	post("first")
	srv.CloseClientConnections()
	if got := post("second"); got != "second" {
		t.Fatalf("after the server closed the kept connection: %q", got)
	}
}

// A request whose context ends while the server has not answered ends
// with the context's error.
func TestLeanTransportEndsWithItsContext(t *testing.T) {
	arrived := make(chan struct{})
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
	}))
	defer srv.Close()
	defer close(release)
	client := &http.Client{Transport: newLeanTransport(http.DefaultTransport)}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	done := make(chan error, 1)
	go func() {
		_, err := client.Do(req)
		done <- err
	}()
	<-arrived
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want the context's end", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the request outlived its context")
	}
}

// BenchmarkRequestFloor is what a request costs before any of pushsim's
// work: the bench's client and net/http's server on loopback, 16 requests
// at once, each with a device token's Authorization and form, answered
// with a challenge's worth of JSON by a handler that does nothing else.
// cpu-µs/request, server and client together, is the floor under each of
// an approval's three requests (docs/BENCHMARKS.md).
func BenchmarkRequestFloor(b *testing.B) {
	answer := []byte(`{"sid":"YC` + strings.Repeat("0", 32) + `",` + strings.Repeat(`"field":"`+strings.Repeat("v", 40)+`",`, 18) + `"status":"pending"}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	}))
	defer srv.Close()
	client := &http.Client{Transport: newLeanTransport(http.DefaultTransport)}
	auth := "Basic " + strings.Repeat("A", 700)
	form := "AuthPayload=" + strings.Repeat("B", 600)
	b.SetParallelism(max(1, 16/cpusUsed()))
	cpu := processCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v2/Services/VA0/Entities/e/Challenges/YC0", strings.NewReader(form))
			req.Header.Set("Authorization", auth)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			if n, _ := io.Copy(io.Discard, resp.Body); n != int64(len(answer)) {
				b.Errorf("answer of %d bytes, want %d", n, len(answer))
			}
			resp.Body.Close()
		}
	})
	b.StopTimer()
	if used := processCPU() - cpu; used > 0 {
		b.ReportMetric(float64(used.Microseconds())/float64(b.N), "cpu-µs/request")
	}
}
