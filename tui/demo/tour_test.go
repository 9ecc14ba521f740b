package demo

import (
	"strconv"
	"strings"
	"testing"

	"github.com/pushsim/pushsim/tui/style"
	"github.com/pushsim/pushsim/tui/tour"
)

// TestTourOnlyEnter runs the guided tour from the first step to the last
// pressing nothing but Enter: every step happens, and every HTTP call it
// made, the tour's and the phone's, succeeded.
func TestTourOnlyEnter(t *testing.T) {
	r := startDemo(t, Options{Tour: startStage(t)}, 140, 45)
	steps := len(r.until("the introduction", func(s demoSnapshot) bool { return len(s.tour.Steps) > 0 }).tour.Steps)
	for step := 1; step <= steps; step++ {
		r.keys("enter")
		s := r.until("step "+strconv.Itoa(step), func(s demoSnapshot) bool {
			return s.tour.At == step && s.tour.Steps[step-1] != tour.StepRunning && s.tour.Steps[step-1] != tour.StepWaiting
		})
		if s.tour.Steps[step-1] != tour.StepDone {
			t.Fatalf("step %d did not succeed:\n%s", step, s.left)
		}
	}
	r.keys("enter")
	s := r.until("the end", func(s demoSnapshot) bool { return s.tour.At == steps+1 })
	if !strings.Contains(s.left, "That is the whole quickstart") {
		t.Fatalf("the last screen:\n%s", s.left)
	}

	// What each step showed on the wire, in order.
	var calls []string
	for _, e := range s.tour.Exchanges {
		if e.Err != nil || e.StatusCode >= 300 {
			t.Errorf("%s %s: %d %v", e.Method, e.URL, e.StatusCode, e.Err)
		}
		calls = append(calls, e.Method+" "+callName(e.URL))
	}
	want := []string{
		"POST Services",
		"POST AccessTokens",
		"POST access-token", "POST Factors",
		"POST Factor",
		"POST Webhooks",
		"POST Challenges", "GET Challenge",
		"GET Challenge", "POST Challenge", "GET Challenge",
		"GET events", "GET Challenge",
	}
	if strings.Join(calls, ", ") != strings.Join(want, ", ") {
		t.Fatalf("the tour showed\n  %s\nwant\n  %s", strings.Join(calls, ", "), strings.Join(want, ", "))
	}
	approved := false
	for _, e := range r.srv.srv.Backend().Events() {
		approved = approved || (e.Type == "challenge.approved" && e.Valid)
	}
	if !approved {
		t.Fatal("the backend's sink has no signed challenge.approved")
	}
}

// callName names the resource a URL is about: the last path segment, a
// SID standing for its collection's singular.
func callName(raw string) string {
	path := strings.Split(style.RequestPath(raw), "?")[0]
	parts := strings.Split(strings.Trim(path, "/"), "/")
	last := parts[len(parts)-1]
	if len(parts) > 1 && len(last) == 34 {
		return strings.TrimSuffix(parts[len(parts)-2], "s")
	}
	return last
}
