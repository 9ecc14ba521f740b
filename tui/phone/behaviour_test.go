package phone

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/verifyclient"
	"github.com/pushsim/pushsim/tui/internal/tuitest"
)

// enrolledPhone is a phone with one verified factor for alice, talking to
// an in-process server, with its event stream feeding the pump.
type enrolledPhone struct {
	t      *testing.T
	clock  *testClock
	srv    *testServer
	dev    *device.Device
	phone  *Phone
	pump   *pump
	factor device.Factor
	log    *device.ExchangeLog
}

func newEnrolledPhone(t *testing.T, o Options) *enrolledPhone {
	return newEnrolledPhoneTicking(t, o, nil)
}

// newEnrolledPhoneTicking is an enrolled phone whose device poller ticks
// when the test sends on ticks.
func newEnrolledPhoneTicking(t *testing.T, o Options, ticks <-chan time.Time) *enrolledPhone {
	t.Helper()
	e := &enrolledPhone{t: t, clock: newTestClock()}
	e.srv = newTestServer(t, e.clock)
	e.dev = newTestDevice(t, e.srv, e.clock.Now, ticks)
	e.log = e.dev.Exchanges()
	f, err := e.dev.CreateFactor(context.Background(), device.EnrollParams{Identity: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	e.factor = f
	e.phone = newTestPhone(t, e.dev, o)
	e.pump = newPump(t, e.phone)
	e.pump.run(e.phone.Init())
	e.pump.until("the factor list", func() bool { return len(e.phone.c.inbox.factors) == 1 })
	return e
}

// push creates a challenge and hands the phone its push, as the push
// socket would.
func (e *enrolledPhone) push(message string) string {
	e.t.Helper()
	sid := e.srv.createChallenge("alice", message, nil)
	err := e.dev.HandlePush(context.Background(), device.PushNotification{ChallengeSid: sid, FactorSid: e.factor.Sid, Message: message})
	if err != nil {
		e.t.Fatalf("push: %v", err)
	}
	return sid
}

func (e *enrolledPhone) screen() string { return tuitest.Plain(e.phone.View()) }

func (e *enrolledPhone) status(sid string) string {
	if ch := e.phone.c.inbox.challenges[sid]; ch != nil {
		return ch.Status
	}
	return ""
}

// statusBar is the phone's first row inside the outline, whose top edge
// carries the camera dot (whatever lines the outline is drawn with).
func (e *enrolledPhone) statusBar() string {
	lines := strings.Split(e.screen(), "\n")
	for i, l := range lines {
		if strings.Contains(l, " ● ") && i+1 < len(lines) {
			return lines[i+1]
		}
	}
	return ""
}

func TestPushRaisesBadgeAndBanner(t *testing.T) {
	e := newEnrolledPhone(t, Options{})
	if n := e.phone.c.inbox.pendingCount(e.clock.Now()); n != 0 {
		t.Fatalf("badge before any push: %d", n)
	}
	sid := e.push("Log in to Acme?")
	e.pump.until("the push", func() bool { return e.phone.banner.visible })

	if n := e.phone.c.inbox.pendingCount(e.clock.Now()); n != 1 {
		t.Fatalf("badge after one push: %d", n)
	}
	if bar := e.statusBar(); !strings.HasSuffix(strings.TrimRight(bar, " │┃║"), " 1") {
		t.Fatalf("status bar has no badge of 1: %q", bar)
	}
	screen := e.screen()
	for _, want := range []string{"New challenge", "Log in to Acme?", "enter open"} {
		if !strings.Contains(screen, want) {
			t.Fatalf("banner lacks %q:\n%s", want, screen)
		}
	}
	if e.phone.c.inbox.via[sid] != device.ViaPush {
		t.Fatalf("challenge arrived via %q", e.phone.c.inbox.via[sid])
	}
}

func TestApproveWithKey(t *testing.T) {
	e := newEnrolledPhone(t, Options{})
	sid := e.push("Log in to Acme?")
	e.pump.until("the banner", func() bool { return e.phone.banner.visible })

	e.pump.send(tuitest.Press("enter")) // the banner opens the challenge
	e.pump.until("the challenge screen", func() bool {
		return e.phone.top().kind() == ScreenChallenge && strings.Contains(e.screen(), "Approve")
	})
	e.pump.send(tuitest.Press("a"))
	e.pump.until("the answer to start", func() bool { return e.phone.c.isBusy(sid) })
	if s := e.screen(); !strings.Contains(s, "Approving…") || strings.Contains(s, "Approve ") {
		t.Fatalf("no spinner in place of the buttons while the answer is in flight:\n%s", s)
	}
	e.pump.until("the approval", func() bool {
		return e.status(sid) == "approved" && !e.phone.c.isBusy(sid) && e.phone.notice.visible()
	})

	screen := e.screen()
	if strings.Contains(screen, "Approve ") || strings.Contains(screen, "Deny") {
		t.Fatalf("buttons still shown after approval:\n%s", screen)
	}
	if !strings.Contains(screen, "Challenge approved") {
		t.Fatalf("no toast:\n%s", screen)
	}
	if got := e.srv.challengeStatus("alice", sid); got != "approved" {
		t.Fatalf("server says %q", got)
	}
	if n := e.phone.c.inbox.pendingCount(e.clock.Now()); n != 0 {
		t.Fatalf("badge after approval: %d", n)
	}
}

func TestSilentApprovalNeedsNoKey(t *testing.T) {
	e := newEnrolledPhone(t, Options{})
	e.dev.SetForeground(true)
	e.pump.send(tuitest.Press("enter")) // open the factor
	e.pump.until("the factor screen", func() bool { return e.phone.top().kind() == ScreenFactor })
	e.pump.send(tuitest.Press("t"))
	e.pump.until("silent approval on", func() bool {
		on, _ := e.dev.SilentApproval(e.factor.Sid)
		return on
	})
	if !strings.Contains(e.screen(), "[x] Silently approve") {
		t.Fatalf("toggle not shown on:\n%s", e.screen())
	}

	sid := e.push("Log in to Acme?")
	e.pump.until("the silent approval", func() bool { return e.status(sid) == "approved" })
	if !strings.Contains(e.screen(), "Approved silently") {
		t.Fatalf("the phone does not say it approved silently:\n%s", e.screen())
	}
	if got := e.srv.challengeStatus("alice", sid); got != "approved" {
		t.Fatalf("server says %q", got)
	}
}

func TestButtonsGoTheSecondTheChallengeExpires(t *testing.T) {
	e := newEnrolledPhone(t, Options{})
	sid := e.push("Log in to Acme?")
	e.pump.until("the banner", func() bool { return e.phone.banner.visible })
	e.pump.send(tuitest.Press("enter"))
	e.pump.until("the challenge screen", func() bool { return strings.Contains(e.screen(), "Approve") })

	ch := e.phone.c.inbox.challenges[sid]
	left := ch.ExpirationDate.Sub(e.clock.Now())
	e.clock.Advance(left - time.Second)
	e.pump.send(clockTickMsg{tagged: e.phone.c.tag()})
	if s := e.screen(); !strings.Contains(s, "in 0:01") || !strings.Contains(s, "Approve") {
		t.Fatalf("one second before expiry:\n%s", s)
	}
	e.clock.Advance(time.Second)
	e.pump.send(clockTickMsg{tagged: e.phone.c.tag()})
	s := e.screen()
	if strings.Contains(s, "Approve") || strings.Contains(s, "Deny") {
		t.Fatalf("buttons still shown at expiry:\n%s", s)
	}
	if shown := displayStatus(e.phone.c.inbox.challenges[sid], e.phone.c.verifyNow()); shown != verifyclient.ChallengeExpired || !strings.Contains(s, "expired") {
		t.Fatalf("status %q at expiry:\n%s", shown, s)
	}
	e.pump.send(tuitest.Press("a"))
	if e.phone.c.isBusy(sid) {
		t.Fatal("an expired challenge was answered")
	}
}

func TestAirplaneModeStopsPollingAndPush(t *testing.T) {
	ticks := make(chan time.Time) // unbuffered: a send returns once the poller has taken it
	e := newEnrolledPhoneTicking(t, Options{}, ticks)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); e.dev.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-stopped })
	polls := func() int {
		n := 0
		for _, x := range e.log.Entries() {
			if x.Method == "GET" && strings.Contains(x.URL, "/Challenges?") {
				n++
			}
		}
		return n
	}
	ticks <- e.clock.Now()
	e.pump.until("a poll while online", func() bool { return polls() == 1 })

	e.pump.send(tuitest.Press("s"))
	e.pump.until("the settings", func() bool { return e.phone.top().kind() == ScreenSettings })
	e.pump.send(tuitest.Press("down"))
	e.pump.send(tuitest.Press("down"))
	e.pump.send(tuitest.Press("space"))
	if !e.dev.AirplaneMode() {
		t.Fatalf("airplane mode not on:\n%s", e.screen())
	}
	if bar := e.statusBar(); !strings.Contains(bar, "airplane") {
		t.Fatalf("status bar does not show airplane mode: %q", bar)
	}

	calls := e.log.Total()
	sid := e.srv.createChallenge("alice", "Log in to Acme?", nil)
	err := e.dev.HandlePush(context.Background(), device.PushNotification{ChallengeSid: sid, FactorSid: e.factor.Sid})
	if !errors.Is(err, device.ErrAirplaneMode) {
		t.Fatalf("a push reached the phone in airplane mode: %v", err)
	}
	// Two ticks: the second is taken only after the first was handled.
	ticks <- e.clock.Now()
	ticks <- e.clock.Now()
	e.pump.send(refreshTickMsg{tagged: e.phone.c.tag(), gen: e.phone.refreshGen})
	if got := e.log.Total(); got != calls {
		t.Fatalf("%d HTTP calls in airplane mode", got-calls)
	}

	e.pump.send(tuitest.Press("space")) // back online: the phone polls at once
	e.pump.until("the poll after landing", func() bool { return e.status(sid) == "pending" })
	if e.phone.c.inbox.via[sid] != device.ViaPoll {
		t.Fatalf("challenge arrived via %q", e.phone.c.inbox.via[sid])
	}
	if bar := e.statusBar(); strings.Contains(bar, "airplane") {
		t.Fatalf("status bar still shows airplane mode: %q", bar)
	}
}
