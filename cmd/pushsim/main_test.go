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

// startServe runs pushsim serve in-process on a free loopback port until
// the test ends, and returns its base URL.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	return startServeAt(t, freeAddr(t), args...)
}

// startServeAt is startServe listening on addr; the base URL it returns
// names 127.0.0.1 when addr's host is 0.0.0.0.
func startServeAt(t *testing.T, addr string, args ...string) string {
	t.Helper()
	t.Setenv("PUSHSIM_HOME", filepath.Join(t.TempDir(), "home"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--memory", "--addr", addr}, args...), io.Discard, io.Discard)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d", code)
		}
	})
	base := "http://" + strings.Replace(addr, "0.0.0.0:", "127.0.0.1:", 1)
	waitHealthy(t, base)
	return base
}

// headless is a pushsim device --headless running in-process, read line
// by line.
type headless struct {
	t      *testing.T
	events chan map[string]any
	stderr *strings.Builder
}

// startHeadless runs pushsim device --headless with args until the test
// ends; it must exit 0 when stopped.
func startHeadless(t *testing.T, args ...string) *headless {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, lines := io.Pipe()
	h := &headless{t: t, events: make(chan map[string]any, 64), stderr: &strings.Builder{}}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"device", "--headless"}, args...), lines, h.stderr)
		lines.Close()
	}()
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var e map[string]any
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Errorf("not a JSON line: %q", sc.Text())
				continue
			}
			h.events <- e
		}
		close(h.events)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("device exited %d: %s", code, h.stderr.String())
		}
	})
	return h
}

// expect waits for the next line of one of the given kinds.
func (h *headless) expect(kinds ...string) map[string]any {
	h.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e, ok := <-h.events:
			if !ok {
				h.t.Fatalf("phone stopped before %q: %s", kinds, h.stderr.String())
			}
			for _, kind := range kinds {
				if e["event"] == kind {
					return e
				}
			}
		case <-timeout:
			h.t.Fatalf("no %q line within 10s", kinds)
		}
	}
}

// TestServeAndHeadlessPhone runs the README's walkthrough in-process:
// pushsim serve, pushsim device --headless --auto approve, a challenge
// created with the sample backend, an "approved" JSON line.
func TestServeAndHeadlessPhone(t *testing.T) {
	base := startServe(t)
	phone := startHeadless(t, "--server", base, "--identity", "alice", "--auto", "approve")
	phone.expect("enrolled")
	resp, err := http.PostForm(base+"/backend/create-challenge", url.Values{"identity": {"alice"}, "message": {"Sign in to Acme?"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create-challenge: %d", resp.StatusCode)
	}
	got := phone.expect("challenge")
	if got["message"] != "Sign in to Acme?" {
		t.Fatalf("challenge line: %v", got)
	}
	if approved := phone.expect("approved"); approved["challenge_sid"] != got["challenge_sid"] {
		t.Fatalf("approved line: %v", approved)
	}
}

// TestOneSignInTwoHeadlessPhones: pushsim serve, two headless phones for
// one user, one create-challenge without factor. Both phones get it; one
// approves; the sample backend withdraws the other's as not_needed on the
// webhook it receives. No console is involved.
func TestOneSignInTwoHeadlessPhones(t *testing.T) {
	base := startServe(t)
	dir := t.TempDir()
	approver := startHeadless(t, "--server", base, "--identity", "alice", "--home", filepath.Join(dir, "a"), "--auto", "approve")
	approver.expect("enrolled")
	other := startHeadless(t, "--server", base, "--identity", "alice", "--home", filepath.Join(dir, "b"))
	other.expect("enrolled")
	approver.expect("push_connected")
	other.expect("push_connected")

	resp, err := http.PostForm(base+"/backend/create-challenge", url.Values{"identity": {"alice"}, "message": {"Sign in to Acme?"}})
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		Identity   string
		Challenges []struct{ Sid string }
	}
	json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(created.Challenges) != 2 {
		t.Fatalf("create-challenge: %d %+v", resp.StatusCode, created)
	}
	approved := approver.expect("approved")["challenge_sid"]
	// The other phone's push may land before the approval (a pending
	// challenge) or after the withdrawal (an expired one): either way it
	// arrived.
	withdrawn := other.expect("challenge", "expired")["challenge_sid"]
	if approved == withdrawn || (approved != created.Challenges[0].Sid && approved != created.Challenges[1].Sid) {
		t.Fatalf("approved %v, other phone got %v, created %+v", approved, withdrawn, created.Challenges)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/backend/challenge-status?" + url.Values{"identity": {created.Identity}, "sid": {withdrawn.(string)}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		var c struct{ Status, RespondedReason string }
		json.NewDecoder(resp.Body).Decode(&c)
		resp.Body.Close()
		if c.Status == "expired" && c.RespondedReason == "not_needed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the other phone's challenge reads %+v, want expired / not_needed", c)
		}
		time.Sleep(20 * time.Millisecond)
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
		{"serve", "--memory", "--conns-per-addr", "-1", "--addr", "127.0.0.1:0"},
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

// TestServeRefusesWhatIsTaken: a second serve on the data directory of a
// running one exits non-zero naming the directory, and one on a busy port
// says to choose another --addr.
func TestServeRefusesWhatIsTaken(t *testing.T) {
	t.Setenv("PUSHSIM_HOME", t.TempDir())
	dir := filepath.Join(t.TempDir(), "data")
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve", "--data", dir, "--addr", addr}, io.Discard, io.Discard) }()
	t.Cleanup(func() { cancel(); <-done })
	waitHealthy(t, "http://"+addr)

	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"serve", "--data", dir, "--addr", "127.0.0.1:0"}, []string{dir, "in use", "--data"}},
		{[]string{"serve", "--memory", "--addr", addr}, []string{addr, "--addr"}},
	} {
		var stderr strings.Builder
		code := run(context.Background(), c.args, io.Discard, &stderr)
		msg := strings.TrimSpace(stderr.String())
		if code == 0 || strings.Contains(msg, "\n") {
			t.Errorf("%v: exit %d, stderr %q", c.args, code, msg)
		}
		for _, w := range c.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%v: %q does not say %q", c.args, msg, w)
			}
		}
	}
}
