package phone

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/server/backend"
	"github.com/pushsim/pushsim/tui/internal/tuitest"
)

// resend asks the sample backend to push a challenge again and hands the
// phone that push, as its push socket would.
func (e *enrolledPhone) resend(sid string) {
	e.t.Helper()
	e.srv.post("/backend/resend", url.Values{"identity": {backend.HashIdentity("alice")}, "sid": {sid}}, 200, nil)
	if err := e.dev.HandlePush(context.Background(), device.PushNotification{ChallengeSid: sid, FactorSid: e.factor.Sid}); err != nil {
		e.t.Fatalf("resent push: %v", err)
	}
}

// TestResendRingsAgain: every resend of a challenge the phone already
// shows raises the banner once more, saying it was sent again; polls in
// between raise nothing.
func TestResendRingsAgain(t *testing.T) {
	e := newEnrolledPhone(t, Options{})
	sid := e.push("Log in to Acme?")
	e.pump.until("the banner", func() bool { return e.phone.banner.visible })
	e.pump.send(tuitest.Press("esc"))
	if e.phone.banner.visible {
		t.Fatal("esc did not dismiss the banner")
	}
	rung := e.phone.banner.id

	for n := 1; n <= 2; n++ {
		e.resend(sid)
		e.pump.until("the resend's banner", func() bool { return e.phone.banner.visible })
		if got := e.phone.banner.id - rung; got != n {
			t.Fatalf("after resend %d the banner rang %d times", n, got)
		}
		screen := e.screen()
		for _, want := range []string{"Challenge sent again", "Log in to Acme?"} {
			if !strings.Contains(screen, want) {
				t.Fatalf("resend %d: banner lacks %q:\n%s", n, want, screen)
			}
		}
		e.pump.send(tuitest.Press("esc"))
	}
	if n := e.phone.c.inbox.pendingCount(e.clock.Now()); n != 1 {
		t.Fatalf("badge %d after resends of one challenge", n)
	}
	if err := e.dev.PollNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The device's events arrive in order: once the approval after the
	// poll is in, anything the poll announced has been shown.
	if _, err := e.dev.UpdateChallenge(context.Background(), e.factor.Sid, sid, "approved"); err != nil {
		t.Fatal(err)
	}
	e.pump.until("the approval", func() bool { return e.status(sid) == "approved" })
	if got := e.phone.banner.id - rung; got != 2 {
		t.Fatalf("%d rings for two resends and a poll", got)
	}
}

// TestEscAfterBannersReturnsWhereTheUserWas: challenges opened one after
// another from banners are not a history to walk back through.
func TestEscAfterBannersReturnsWhereTheUserWas(t *testing.T) {
	e := newEnrolledPhone(t, Options{})
	e.pump.send(tuitest.Press("enter")) // the factor's inbox
	e.pump.until("the factor screen", func() bool { return e.phone.top().kind() == ScreenFactor })

	var last string
	for _, msg := range []string{"First sign-in?", "Second sign-in?", "Third sign-in?"} {
		last = e.push(msg)
		e.pump.until("the banner for "+msg, func() bool { return e.phone.banner.visible && e.phone.banner.challengeSid == last })
		e.pump.send(tuitest.Press("enter"))
		e.pump.until("the challenge screen of "+msg, func() bool {
			t, ok := e.phone.top().(*challengeScreen)
			return ok && t.challengeSid == last && strings.Contains(e.screen(), msg)
		})
	}
	if n := len(e.phone.screens); n != 3 {
		t.Fatalf("%d screens after three banners, want factors, inbox, challenge", n)
	}
	e.pump.send(tuitest.Press("esc"))
	if k := e.phone.top().kind(); k != ScreenFactor {
		t.Fatalf("esc went to screen %d, not back to the inbox:\n%s", k, e.screen())
	}

	// A challenge the user opened from the inbox is theirs: a banner
	// opened over it goes back to it.
	e.pump.send(tuitest.Press("enter"))
	e.pump.until("the challenge picked in the inbox", func() bool { return e.phone.top().kind() == ScreenChallenge })
	picked := e.phone.top().(*challengeScreen).challengeSid
	fourth := e.push("Fourth sign-in?")
	e.pump.until("the fourth banner", func() bool { return e.phone.banner.visible && e.phone.banner.challengeSid == fourth })
	e.pump.send(tuitest.Press("enter"))
	e.pump.until("the fourth challenge", func() bool {
		t, ok := e.phone.top().(*challengeScreen)
		return ok && t.challengeSid == fourth
	})
	e.pump.send(tuitest.Press("esc"))
	if t2, ok := e.phone.top().(*challengeScreen); !ok || t2.challengeSid != picked {
		t.Fatalf("esc did not return to the challenge picked in the inbox:\n%s", e.screen())
	}
	e.pump.send(tuitest.Press("esc"))
	if k := e.phone.top().kind(); k != ScreenFactor {
		t.Fatalf("second esc went to screen %d, not the inbox", k)
	}
}

// TestStatusBarSpellsOutBackground: the app's state is a word anyone
// reads, not an abbreviation.
func TestStatusBarSpellsOutBackground(t *testing.T) {
	clock := newTestClock()
	d := newTestDevice(t, nil, clock.Now, nil)
	p := newTestPhone(t, d, Options{})
	loadFixtureFactor(p)
	bar := strings.Split(tuitest.Plain(p.View()), "\n")[1]
	if !strings.Contains(bar, " background") || strings.Contains(bar, " bg") {
		t.Fatalf("status bar of an app in the background: %q", bar)
	}
	d.SetForeground(true)
	if bar := strings.Split(tuitest.Plain(p.View()), "\n")[1]; strings.Contains(bar, "background") {
		t.Fatalf("status bar of an app in the foreground: %q", bar)
	}
}
