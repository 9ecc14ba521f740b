package pollsummary_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/server"
	"github.com/pushsim/pushsim/server/servertest"
	"github.com/pushsim/pushsim/workshop/pollsummary"
)

// lines is a log sink safe for the server's goroutines.
type lines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lines) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := strings.TrimSpace(l.buf.String())
	l.buf.Reset()
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// clock is a fixed clock the test moves by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newLogger(level slog.Level) (*pollsummary.Handler, *lines, *clock) {
	out := &lines{}
	clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	text := slog.NewTextHandler(out, &slog.HandlerOptions{Level: level})
	return pollsummary.New(text, pollsummary.Options{Now: clk.Now}), out, clk
}

// request logs what the server logs for one HTTP request.
func request(log *slog.Logger, method, path string, status int) {
	log.Info("request", "method", method, "path", path, "status", status, "duration", 3*time.Millisecond)
}

const (
	alicePoll = "/v2/Services/VA00000000000000000000000000000001/Entities/alice-000/Challenges"
	bobPoll   = "/v2/Services/VA00000000000000000000000000000001/Entities/bob-00000/Challenges"
)

func TestPollsBecomeOneLinePerInterval(t *testing.T) {
	h, out, clk := newLogger(slog.LevelInfo)
	log := slog.New(h).With("component", "http") // derived loggers count into the same summary
	for range 40 {
		request(log, "GET", alicePoll, 200)
	}
	request(log, "GET", bobPoll, 200)
	request(log, "GET", bobPoll, 200)
	request(log, "GET", bobPoll, 401) // a failed poll is news
	request(log, "POST", "/v2/Services/VA00000000000000000000000000000001/Entities/bob-00000/Challenges", 201)
	request(log, "GET", alicePoll+"/YC00000000000000000000000000000001", 200)
	log.Warn("push: queue full")

	got := out.take()
	if len(got) != 4 {
		t.Fatalf("before the summary, want the failed poll, the POST, the single fetch and the warning; got %d lines:\n%s", len(got), strings.Join(got, "\n"))
	}
	for i, want := range []string{"status=401", "method=POST", "YC00000000000000000000000000000001", "queue full"} {
		if !strings.Contains(got[i], want) {
			t.Errorf("line %d = %q, want it to contain %q", i, got[i], want)
		}
	}

	clk.add(30 * time.Second)
	h.Flush(context.Background())
	got = out.take()
	if len(got) != 1 || !strings.Contains(got[0], `msg="42 polls from 2 identities in the last 30s" polls=42 identities=2 interval=30s`) {
		t.Fatalf("summary: %q", got)
	}

	// Nothing polled, nothing said; then the count starts afresh.
	clk.add(30 * time.Second)
	h.Flush(context.Background())
	if got := out.take(); got != nil {
		t.Fatalf("an empty interval printed %q", got)
	}
	request(log, "GET", bobPoll, 200)
	clk.add(30 * time.Second)
	h.Flush(context.Background())
	if got := out.take(); len(got) != 1 || !strings.Contains(got[0], `msg="1 poll from 1 identity in the last 30s"`) {
		t.Fatalf("summary: %q", got)
	}
}

func TestDebugShowsEveryPollAndQuietShowsNone(t *testing.T) {
	h, out, _ := newLogger(slog.LevelDebug)
	request(slog.New(h), "GET", alicePoll, 200)
	h.Flush(context.Background())
	if got := out.take(); len(got) != 1 || !strings.Contains(got[0], "path="+alicePoll) {
		t.Fatalf("at debug: %q", got)
	}

	h, out, _ = newLogger(slog.LevelWarn)
	log := slog.New(h)
	request(log, "GET", alicePoll, 200)
	request(log, "GET", "/_pushsim/health", 200)
	log.Warn("webhook failed")
	h.Flush(context.Background())
	if got := out.take(); len(got) != 1 || !strings.Contains(got[0], "webhook failed") {
		t.Fatalf("at warn: %q", got)
	}
}

func TestEveryFlushesOnStop(t *testing.T) {
	h, out, _ := newLogger(slog.LevelInfo)
	stop := h.Every(time.Hour)
	request(slog.New(h), "GET", alicePoll, 200)
	stop()
	stop()
	if got := out.take(); len(got) != 1 || !strings.Contains(got[0], "1 poll from 1 identity") {
		t.Fatalf("after stop: %q", got)
	}
}

// TestServerPollsAreRecognised runs real phones against a real server, so
// a change to the server's request line that this package no longer
// recognises fails here rather than in a workshop.
func TestServerPollsAreRecognised(t *testing.T) {
	h, out, _ := newLogger(slog.LevelInfo)
	srv := servertest.Start(t, servertest.Options{Config: server.Config{Logger: slog.New(h)}})
	ctx := context.Background()
	for _, name := range []string{"alice", "bob"} {
		d, err := device.New(device.Config{ServerURL: srv.URL, Home: filepath.Join(t.TempDir(), name)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.CreateFactor(ctx, device.EnrollParams{Identity: name}); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if err := d.PollNow(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	before := strings.Join(out.take(), "\n")
	if strings.Contains(before, "/Challenges ") || strings.Contains(before, "/Challenges\"") {
		t.Fatalf("a poll was logged on its own:\n%s", before)
	}
	if !strings.Contains(before, "/Factors") {
		t.Fatalf("other requests are still logged one by one; got:\n%s", before)
	}
	h.Flush(ctx)
	if got := out.take(); len(got) != 1 || !strings.Contains(got[0], "polls=6 identities=2") {
		t.Fatalf("summary: %q", got)
	}
}
