package main

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
)

// screen is a terminal for the demo that notes when text first appears
// in what the program wrote.
type screen struct {
	mu      sync.Mutex
	written strings.Builder
	waiting map[string]chan struct{}
}

func newScreen(texts ...string) *screen {
	s := &screen{waiting: map[string]chan struct{}{}}
	for _, t := range texts {
		s.waiting[t] = make(chan struct{})
	}
	return s
}

func (s *screen) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.written.Write(b)
	for text, ch := range s.waiting {
		if strings.Contains(s.written.String(), text) {
			close(ch)
			delete(s.waiting, text)
		}
	}
	return len(b), nil
}

// shown is closed once text has appeared.
func (s *screen) shown(text string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch, ok := s.waiting[text]; ok {
		return ch
	}
	done := make(chan struct{})
	close(done)
	return done
}

// startDemo runs `pushsim demo args...` on s; stop ends it and returns its
// exit code.
func startDemo(tb testing.TB, s *screen, args ...string) (stop func() int) {
	tb.Helper()
	demoTerminal = []tea.ProgramOption{tea.WithInput(nil), tea.WithOutput(s), tea.WithWindowSize(120, 40),
		tea.WithColorProfile(colorprofile.ASCII), tea.WithoutSignals()}
	tb.Cleanup(func() { demoTerminal = nil })
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	var stderr strings.Builder
	go func() { code <- run(ctx, append([]string{"demo"}, args...), io.Discard, &stderr) }()
	return func() int {
		cancel()
		select {
		case c := <-code:
			if c != 0 {
				tb.Logf("stderr: %s", stderr.String())
			}
			return c
		case <-time.After(10 * time.Second):
			tb.Fatal("the demo did not stop")
			return -1
		}
	}
}

// TestDemoCommandNeedsNoFlags runs `pushsim demo` as a new user would:
// no flags, a fresh temporary state, the phone enrolled on screen.
func TestDemoCommandNeedsNoFlags(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	s := newScreen("App backend", "verified")
	start := time.Now()
	stop := startDemo(t, s)
	select {
	case <-s.shown("verified"):
		t.Logf("phone enrolled and drawn %v after start", time.Since(start).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatal("the demo never showed an enrolled phone")
	}
	if code := stop(); code != 0 {
		t.Fatalf("the demo exited %d", code)
	}
}

// BenchmarkDemoStart is `pushsim demo` from the command line to its first
// frame and to the frame with the phone enrolled: server start (SQLite in
// a temporary directory), sample backend set-up, enrolment and push socket
// included.
func BenchmarkDemoStart(b *testing.B) {
	b.Setenv("TMPDIR", b.TempDir())
	var first, ready time.Duration
	for b.Loop() {
		s := newScreen("App backend", "verified")
		start := time.Now()
		stop := startDemo(b, s)
		for _, step := range []struct {
			text string
			took *time.Duration
		}{{"App backend", &first}, {"verified", &ready}} {
			select {
			case <-s.shown(step.text):
				*step.took += time.Since(start)
			case <-time.After(10 * time.Second):
				b.Fatalf("no %q after 10s", step.text)
			}
		}
		if code := stop(); code != 0 {
			b.Fatalf("the demo exited %d", code)
		}
	}
	b.ReportMetric(float64(first.Microseconds())/1000/float64(b.N), "ms/first-frame")
	b.ReportMetric(float64(ready.Microseconds())/1000/float64(b.N), "ms/enrolled")
}

func TestDemoFlagErrorsAreOneLine(t *testing.T) {
	t.Setenv("PUSHSIM_ACCOUNT_SID", "")
	t.Setenv("PUSHSIM_AUTH_TOKEN", "")
	for _, args := range [][]string{
		{"demo", "--phones", "0"},
		{"demo", "--phones", "9"},
		{"demo", "--tour", "--phones", "2"},
		{"demo", "--addr", "0.0.0.0:0"},
		{"demo", "--tour", "--server", "http://127.0.0.1:9"},
		{"demo", "--theme", "neon"},
		{"demo", "extra"},
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
