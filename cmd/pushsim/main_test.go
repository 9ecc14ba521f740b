package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestServeAndHeadlessPhone runs the README's walkthrough in-process:
// pushsim serve, pushsim device --headless --auto approve, a challenge
// created with the sample backend, an "approved" JSON line.
func TestServeAndHeadlessPhone(t *testing.T) {
	t.Setenv("PUSHSIM_HOME", filepath.Join(t.TempDir(), "home"))
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	serveDone := make(chan int, 1)
	go func() { serveDone <- run(ctx, []string{"serve", "--memory", "--addr", addr}, io.Discard, io.Discard) }()
	base := "http://" + addr
	waitHealthy(t, base)

	out, lines := io.Pipe()
	deviceDone := make(chan int, 1)
	var stderr strings.Builder
	go func() {
		deviceDone <- run(ctx, []string{"device", "--headless", "--server", base, "--identity", "alice", "--auto", "approve"}, lines, &stderr)
		lines.Close()
	}()
	events := make(chan map[string]any, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var e map[string]any
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Errorf("not a JSON line: %q", sc.Text())
				continue
			}
			events <- e
		}
		close(events)
	}()
	expect := func(kind string) map[string]any {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case e, ok := <-events:
				if !ok {
					t.Fatalf("phone stopped before %q: %s", kind, stderr.String())
				}
				if e["event"] == kind {
					return e
				}
			case <-timeout:
				t.Fatalf("no %q line within 10s", kind)
			}
		}
	}
	expect("enrolled")
	resp, err := http.PostForm(base+"/backend/create-challenge", url.Values{"identity": {"alice"}, "message": {"Sign in to Acme?"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create-challenge: %d", resp.StatusCode)
	}
	got := expect("challenge")
	if got["message"] != "Sign in to Acme?" {
		t.Fatalf("challenge line: %v", got)
	}
	if approved := expect("approved"); approved["challenge_sid"] != got["challenge_sid"] {
		t.Fatalf("approved line: %v", approved)
	}
	cancel()
	if code := <-deviceDone; code != 0 {
		t.Fatalf("device exited %d: %s", code, stderr.String())
	}
	if code := <-serveDone; code != 0 {
		t.Fatalf("serve exited %d", code)
	}
}

func waitHealthy(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/_pushsim/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("server never became healthy")
}

func TestCommandErrorsAreOneLine(t *testing.T) {
	t.Setenv("PUSHSIM_HOME", t.TempDir())
	for _, args := range [][]string{
		{"nope"},
		{"device", "--headless"},
		{"device", "--headless", "--identity", "alice", "--auto", "maybe"},
		{"serve", "--addr", "not-an-address"},
		{"serve", "--memory", "--webhook-policy", "lax", "--addr", "127.0.0.1:0"},
	} {
		var stderr strings.Builder
		if code := run(context.Background(), args, io.Discard, &stderr); code == 0 {
			t.Errorf("%v exited 0", args)
		}
		if lines := strings.Count(strings.TrimSpace(stderr.String()), "\n"); lines != 0 || stderr.Len() == 0 {
			t.Errorf("%v: stderr is not one line: %q", args, stderr.String())
		}
	}
}
