package demo

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/pushsim/pushsim/internal/testclock"
	"github.com/pushsim/pushsim/tui/internal/tuitest"
	"github.com/pushsim/pushsim/tui/style"
	"github.com/pushsim/pushsim/tui/tour"
)

// TestTourOnlyEnter runs the guided tour from the first step to the last
// pressing nothing but Enter: every step happens, and every HTTP call it
// made, the tour's and the phone's, succeeded. Step 7 says what Enter will
// do before it does anything; step 8 shows the signed webhook POST and
// says the user is in.
func TestTourOnlyEnter(t *testing.T) {
	r := startDemo(t, Options{Tour: startStage(t)}, 140, 45)
	steps := len(r.until("the introduction", func(s demoSnapshot) bool { return len(s.tour.Steps) > 0 }).tour.Steps)
	r.tourThrough(1, 3)
	if s := r.tourEnter(4); !strings.Contains(s.left, "by the tour") {
		t.Fatalf("step 4 does not say the tour held the verification:\n%s", s.left)
	}
	s := r.tourThrough(5, 6)
	sid := s.tour.Challenge

	s = r.tourEnter(7)
	if s.tour.Steps[6] != tour.StepOffering {
		t.Fatalf("step 7 is %v, not offering its choice:\n%s", s.tour.Steps[6], s.left)
	}
	for _, want := range []string{"Your move", "enter Approve for the user ›", "Or tab to the phone, open the challenge and press a to approve or d to deny", "let it expire"} {
		requireWhole(t, s.left, want)
	}
	if !strings.Contains(s.left, "enter approve as the user") {
		t.Fatalf("the footer does not say what Enter does:\n%s", s.left)
	}
	if got := r.challengeStatus(sid); got != "pending" {
		t.Fatalf("the challenge is %s before Enter was pressed at step 7", got)
	}
	r.keys("enter")
	s = r.until("the approval", func(s demoSnapshot) bool { return s.tour.Steps[6] == tour.StepDone })
	requireWhole(t, s.left, "The phone approved "+sid+" and Verify accepted its signed answer.")

	r.tourEnter(8)
	whole := r.tourWhole()
	for _, want := range []string{
		"The webhook arrives",
		"✓ Verify posted challenge.approved to your webhook, and its X-Twilio-Signature checks out under your auth token.",
		"Challenge " + sid + " reads approved: the user is in.",
		"POST /backend/webhook", "X-Twilio-Signature", signatureOf(t, r, sid, "challenge.approved"), "✓ checks out under your auth token",
		"challenge_sid = " + sid,
	} {
		requireWhole(t, whole, want)
	}

	r.keys("enter")
	s = r.until("the end", func(s demoSnapshot) bool { return s.tour.At == steps+1 })
	for _, want := range []string{"That is the whole quickstart", "approved with the factor's signature", "the user is in"} {
		requireWhole(t, s.left, want)
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
		"GET Challenge",
	}
	if strings.Join(calls, ", ") != strings.Join(want, ", ") {
		t.Fatalf("the tour showed\n  %s\nwant\n  %s", strings.Join(calls, ", "), strings.Join(want, ", "))
	}
}

// signatureOf is the X-Twilio-Signature the backend's sink received with
// the challenge's event of type kind, checked.
func signatureOf(t *testing.T, r *demoRun, sid, kind string) string {
	t.Helper()
	for _, e := range r.srv.srv.Backend().Events() {
		if e.Type == kind && e.Params["challenge_sid"] == sid {
			if !e.Valid || e.Signature == "" {
				t.Fatalf("the sink got %s with signature %q, valid %v", kind, e.Signature, e.Valid)
			}
			return e.Signature
		}
	}
	t.Fatalf("the backend's sink has no %s for %s", kind, sid)
	return ""
}

// TestTourDeny: the user denies on the phone while step 7 offers its
// choice; step 7 and 8 say so, and nothing says the user is in.
func TestTourDeny(t *testing.T) {
	r := startDemo(t, Options{Tour: startStage(t)}, 140, 45)
	s := r.tourThrough(1, 6)
	sid := s.tour.Challenge
	r.tourEnter(7)

	r.openPendingChallenge(0)
	r.keys("d")
	s = r.until("the denial", func(s demoSnapshot) bool { return s.tour.Steps[6] == tour.StepDone })
	if s.tour.Answer != "denied" {
		t.Fatalf("step 7 ended as %q", s.tour.Answer)
	}
	requireWhole(t, s.left, "The phone denied "+sid+" and Verify accepted its signed answer.")
	requireWhole(t, s.left, "Next: The webhook arrives")

	r.focus(0)
	r.tourEnter(8)
	whole := r.tourWhole()
	for _, want := range []string{
		"✓ Verify posted challenge.denied to your webhook",
		"Challenge " + sid + " reads denied: the sign-in is refused and the user stays out.",
		"then refuses the sign-in",
		"X-Twilio-Signature", signatureOf(t, r, sid, "challenge.denied"),
		"type = challenge.denied",
	} {
		requireWhole(t, whole, want)
	}
	for _, lie := range []string{"the user is in", "challenge.approved", "lets the user in"} {
		if strings.Contains(whole, lie) {
			t.Fatalf("after a denial the tour says %q:\n%s", lie, whole)
		}
	}
	if got := r.challengeStatus(sid); got != "denied" {
		t.Fatalf("the server has the challenge %s", got)
	}
}

// TestTourExpiry: nobody answers step 7 before the challenge expires, by
// a clock the server, the phone and the tour share. At 80×24, every SID
// and every message the steps show is whole.
func TestTourExpiry(t *testing.T) {
	clock := testclock.New(tuitest.Start)
	r := startTourDemo(t, clock, 80, 24)
	s := r.tourThrough(1, 6)
	sid := s.tour.Challenge
	requireWhole(t, s.left, "Challenge "+sid+" is pending until 2026-03-04 09:46:00Z.")

	s = r.tourEnter(7)
	for _, want := range []string{"Your move · expires in 5:00", "enter Approve for the user ›"} {
		requireWhole(t, s.left, want)
	}
	clock.Advance(5*time.Minute + time.Second)
	s = r.until("the expiry", func(s demoSnapshot) bool { return s.tour.Steps[6] == tour.StepDone })
	if s.tour.Answer != "expired" {
		t.Fatalf("step 7 ended as %q", s.tour.Answer)
	}
	requireWhole(t, s.left, "Nobody answered "+sid+" before it expired at 2026-03-04 09:46:00Z.")
	requireWhole(t, s.left, "Next: No answer, so no webhook")

	s = r.tourEnter(8)
	for _, want := range []string{
		"No webhook: Verify sends none when a challenge expires, so your backend reads the challenge.",
		"Challenge " + sid + " reads expired: nobody answered in time, so the sign-in is refused.",
	} {
		requireWhole(t, s.left, want)
	}
	whole := r.tourWhole()
	requireWhole(t, whole, "/Challenges/"+sid)
	for _, lie := range []string{"the user is in", "The webhook arrives", "POST /backend/webhook"} {
		if strings.Contains(whole, lie) {
			t.Fatalf("after an expiry the tour says %q:\n%s", lie, whole)
		}
	}
	if got := r.challengeStatus(sid); got != "expired" {
		t.Fatalf("the server has the challenge %s", got)
	}
	r.keys("enter")
	s = r.until("the end", func(s demoSnapshot) bool { return s.tour.At == len(s.tour.Steps)+1 })
	requireWhole(t, s.left, "left unanswered until it expired")
}

// TestTourFullSIDAt80x24 draws steps 7 and 8 of each path at 80×24 and
// finds every character of each message, the challenge SID's included, in
// the tour's pane of the frame.
func TestTourFullSIDAt80x24(t *testing.T) {
	notes := map[string][2]string{
		"approved": {"The phone approved " + sampleChallenge + " and Verify accepted its signed answer.",
			"Challenge " + sampleChallenge + " reads approved: the user is in."},
		"denied": {"The phone denied " + sampleChallenge + " and Verify accepted its signed answer.",
			"Challenge " + sampleChallenge + " reads denied: the sign-in is refused and the user stays out."},
		"expired": {"Nobody answered " + sampleChallenge + " before it expired at 2026-03-04 09:45:20Z.",
			"Challenge " + sampleChallenge + " reads expired: nobody answered in time, so the sign-in is refused."},
	}
	for answer, want := range notes {
		t.Run(answer, func(t *testing.T) {
			d, _ := offlineDemo(t, Options{Tour: startStage(t)})
			d.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
			for i, step := range []int{7, 8} {
				d.tour.ShowSample(step, tourSample(t, answer))
				text := paneText(d.render(), d.left)
				requireWhole(t, text, want[i])
				if strings.Contains(text, sampleChallenge[:20]+"…") {
					t.Fatalf("the SID is cut off:\n%s", text)
				}
			}
		})
	}
}

// TestTourHeldTimeIsNotServerTime: the verification the tour held while
// the presenter read step 3 shows the server's time and, apart, the hold.
func TestTourHeldTimeIsNotServerTime(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		d, _ := offlineDemo(t, Options{Tour: startStage(t)})
		d.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		d.tour.ShowSample(4, heldSample(t))
		const want = "→ 200 OK · 6ms · held 8.1 s by the tour"
		for range 30 { // down to the exchange, at 80×24
			if strings.Contains(squeezed(paneText(d.render(), d.left)), squeezed(want)) {
				break
			}
			d.Update(tuitest.Press("down"))
		}
		text := paneText(d.render(), d.left)
		requireWhole(t, text, want)
		if strings.Contains(text, "8.106s") {
			t.Fatalf("%dx%d: the hold is shown as the server's time:\n%s", size[0], size[1], text)
		}
	}
}

// TestTourHelp: ? shows the tour's keys while the tour has the keyboard,
// and ? again goes back to the step; with the phone focused, ? is the
// phone's.
func TestTourHelp(t *testing.T) {
	d, _ := offlineDemo(t, Options{Tour: startStage(t)})
	d.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	d.tour.ShowSample(7, tour.Sample{ChallengeSid: sampleChallenge, Expires: tuitest.Start.Add(4 * time.Minute)})
	left := func() string { return paneText(d.render(), d.left) }
	if !strings.Contains(left(), "? help") {
		t.Fatalf("the footer does not offer help:\n%s", left())
	}
	d.Update(tuitest.Press("?"))
	for _, want := range []string{"Keys of the tour", "enter next step", "← previous step", "Step 7, offering its choice", "enter approve as the user",
		"e whole bodies", "tab next pane", "?/esc close help", "The phone has its own keys: tab to it and press ?."} {
		requireWhole(t, left(), want)
	}
	d.Update(tuitest.Press("?"))
	if text := left(); strings.Contains(text, "Keys of the tour") || !strings.Contains(text, "Your move") {
		t.Fatalf("? did not close the help:\n%s", text)
	}

	d.Update(tuitest.Press("tab"))
	d.Update(tuitest.Press("?"))
	if text := left(); strings.Contains(text, "Keys of the tour") {
		t.Fatalf("? with the phone focused opened the tour's help:\n%s", text)
	}
}

// TestTourAnswerGolden is what a presenter sees at step 7 while it offers
// its choice, and at step 8 after each answer, at 80×24 and 120×40; at
// 80×24 also the webhook POST, scrolled to. Refresh with go test
// ./tui/demo -run TestTourAnswerGolden -update.
func TestTourAnswerGolden(t *testing.T) {
	for _, answer := range []string{"", "approved", "denied", "expired"} {
		for _, size := range [][2]int{{80, 24}, {120, 40}} {
			name := answer
			if name == "" {
				name = "offering"
			}
			t.Run(fmt.Sprintf("%s_%dx%d", name, size[0], size[1]), func(t *testing.T) {
				d, _ := offlineDemo(t, Options{Tour: startStage(t)})
				d.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
				sample := tourSample(t, answer)
				samplePhone(d, sample)
				step := 8
				if answer == "" {
					step = 7
				}
				d.tour.ShowSample(step, sample)
				golden.RequireEqual(t, tuitest.ASCII(d.render()))
			})
		}
	}
	t.Run("approved_webhook_80x24", func(t *testing.T) {
		d, _ := offlineDemo(t, Options{Tour: startStage(t)})
		d.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
		sample := tourSample(t, "approved")
		samplePhone(d, sample)
		d.tour.ShowSample(8, sample)
		top := func() string { return strings.Split(paneText(d.render(), d.left), "\n")[1] }
		for n := 0; !strings.HasPrefix(top(), "On the wire"); n++ {
			if n > 100 {
				t.Fatal("no \"On the wire\" on the step")
			}
			d.Update(tuitest.Press("down"))
		}
		golden.RequireEqual(t, tuitest.ASCII(d.render()))
	})
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
