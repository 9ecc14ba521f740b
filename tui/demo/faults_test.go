package demo

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pushsim/pushsim/internal/backendclient"
	"github.com/pushsim/pushsim/server"
	"github.com/pushsim/pushsim/server/servertest"
)

// The phones in these tests poll once an hour, so that what reaches them
// came by push, or by a poll the test or the demo asked for.
const noPolling = time.Hour

// health is what the server's health check says.
func (s *testServer) health() backendclient.Health {
	s.t.Helper()
	h, err := backendclient.New(s.srv.URL, "", "", http.DefaultClient, nil).Health(context.Background())
	if err != nil {
		s.t.Fatal(err)
	}
	return h
}

// pushState is the state the server's push log gives the push of a
// challenge ("" while there is none).
func (s *testServer) pushState(challengeSid string) string {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.srv.URL+"/_pushsim/pushes", nil)
	if err != nil {
		s.t.Fatal(err)
	}
	req.SetBasicAuth(s.srv.AccountSid, s.srv.Auth)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var log struct {
		Pushes []struct {
			ChallengeSid string `json:"challenge_sid"`
			State        string `json:"state"`
		} `json:"pushes"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&log); err != nil {
		s.t.Fatal(err)
	}
	for _, p := range log.Pushes {
		if p.ChallengeSid == challengeSid {
			return p.State
		}
	}
	return ""
}

// TestDemoPushDropUntilThePhonePolls: with push drop switched on from the
// console, a sign-in's push is dropped by the server and the phone shows
// nothing, until it polls and finds the challenge.
func TestDemoPushDropUntilThePhonePolls(t *testing.T) {
	r := startDemo(t, Options{PollInterval: noPolling}, 80, 24)
	r.enrolled()

	r.action("f", "Server faults")
	r.keys("right", "enter")
	r.until("the drop to be on", func(s demoSnapshot) bool { return s.console.Faults == "push drop (all)" })
	r.keys("esc")
	sid := r.signIn("i", "Sign-in pushed to 1 phone").console.Newest
	// "Pushed" is what Verify did; the console says what the fault does
	// to it, wrapped in the narrow pane.
	r.until("the sign-in's note on the drop", func(s demoSnapshot) bool {
		words := strings.Fields(strings.ReplaceAll(s.left, "┃", " "))
		return strings.Contains(strings.Join(words, " "), "push drop fault on: the phone finds it only by polling")
	})

	deadline := time.Now().Add(10 * time.Second)
	for r.srv.pushState(sid) != "dropped" {
		if time.Now().After(deadline) {
			t.Fatalf("the server never recorded the push of %s as dropped (%q)", sid, r.srv.pushState(sid))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if s := r.probe.now(); s.phones[0].NewestPending != "" || s.phones[0].Badge != 0 {
		t.Fatalf("the push was dropped, yet the phone shows %s:\n%s", s.phones[0].NewestPending, s.phones[0].frame)
	}

	if err := r.probe.phones[0].Device().PollNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.until("the phone to find the challenge by polling", func(s demoSnapshot) bool { return s.phones[0].NewestPending == sid })
}

// TestDemoRestartAndReset: after a restart from the console the phone's
// push socket is back (a sign-in reaches it without a poll); after a
// reset the phone, polling as its socket reconnects, shows the server's
// refusal of the factor it no longer knows, as the console says.
func TestDemoRestartAndReset(t *testing.T) {
	// A server on disk, as the demo's own: one in memory loses its data
	// when it restarts.
	srv := &testServer{t: t, srv: servertest.Start(t, servertest.Options{Config: server.Config{DataDir: t.TempDir()}})}
	r := runDemo(t, srv, Options{PollInterval: noPolling}, 80, 24)
	r.enrolled()

	r.action("f", "Server faults")
	r.keys("G", "up", "enter")
	r.until("the server to come back", func(s demoSnapshot) bool {
		return !s.console.Restarting && strings.Contains(s.left, "Server restarted: back as")
	})
	if h := srv.health(); h.Generation != 2 {
		t.Fatalf("the server is at generation %d after one restart", h.Generation)
	}
	r.keys("esc")
	sid := r.signIn("i", "Sign-in pushed to 1 phone").console.Newest
	r.until("the push to reach the phone", func(s demoSnapshot) bool { return s.phones[0].NewestPending == sid })

	r.action("f", "Server faults")
	r.keys("G", "enter")
	r.until("the question", func(s demoSnapshot) bool { return strings.Contains(s.left, "Reset the server?") })
	r.keys("y")
	r.until("the server to come back empty", func(s demoSnapshot) bool {
		return !s.console.Restarting && strings.Contains(s.left, "Server reset: back as")
	})
	if h := srv.health(); h.Generation != 3 {
		t.Fatalf("the server is at generation %d after a restart and a reset", h.Generation)
	}
	r.until("the phone to be refused", func(s demoSnapshot) bool { return strings.Contains(s.phones[0].frame, "HTTP 401") })
}
