package device

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pushsim/pushsim/device/internal/fakeverify"
	"github.com/pushsim/pushsim/device/verifyclient"
)

// TestAutoAnswerAndNumberMatching: an automatic approval never approves a
// number-matching challenge, which takes the number shown at sign-in: it
// says why on the event stream and leaves it pending. An automatic denial
// denies it like any other.
func TestAutoAnswerAndNumberMatching(t *testing.T) {
	for _, tc := range []struct {
		answer         string
		plainKind      EventKind
		numberedKind   EventKind
		numberedOp     string
		numberedStatus string
	}{
		{answer: verifyclient.ChallengeApproved, plainKind: EventApproved, numberedKind: EventError, numberedOp: "auto-approved", numberedStatus: "pending"},
		{answer: verifyclient.ChallengeDenied, plainKind: EventDenied, numberedKind: EventDenied, numberedStatus: "denied"},
	} {
		t.Run(tc.answer, func(t *testing.T) {
			srv := newServer(t)
			p := newPhone(t, srv, t.TempDir()+"/phone", 0)
			f := p.enroll(t, "nora-0001")
			plain := srv.CreateChallenge(f.Sid, "Sign in?", fakeverify.ChallengeOptions{})
			numbered := srv.CreateChallenge(f.Sid, "Type the number", fakeverify.ChallengeOptions{Hidden: map[string]string{NumberMatchKey: "85"}})

			ctx, cancel := context.WithCancel(context.Background())
			stopped := make(chan error, 1)
			go func() { stopped <- p.Launch(ctx, LaunchOptions{AutoAnswer: tc.answer}) }()
			defer func() { cancel(); <-stopped }()

			// The launch's poll announces both; the answers follow.
			answers := map[string]Event{}
			timeout := time.After(10 * time.Second)
			for len(answers) < 2 {
				select {
				case e := <-p.events:
					if e.ChallengeSid != "" && e.Kind != EventChallenge {
						answers[e.ChallengeSid] = e
					}
				case <-timeout:
					t.Fatalf("answers after 10 s: %+v", answers)
				}
			}
			if e := answers[plain]; e.Kind != tc.plainKind {
				t.Errorf("the plain challenge: %+v, want %s", e, tc.plainKind)
			}
			e := answers[numbered]
			if e.Kind != tc.numberedKind || e.Op != tc.numberedOp || e.FactorSid != f.Sid {
				t.Errorf("the number-matching challenge: %+v, want %s %q", e, tc.numberedKind, tc.numberedOp)
			}
			if e.Kind == EventError && (!errors.Is(e.Err, ErrNumberMatchNotAutomatic) || !strings.Contains(e.Error, "type it on the phone's keypad, or deny")) {
				t.Errorf("the error says %q; want why and what to do", e.Error)
			}
			if c, _ := srv.Challenge(numbered); c.Status != tc.numberedStatus {
				t.Errorf("the number-matching challenge is %s, want %s", c.Status, tc.numberedStatus)
			}
			if n := srv.CountRequests("POST", numbered); tc.numberedStatus == "pending" && n != 0 {
				t.Errorf("the number-matching challenge was POSTed %d times", n)
			}
		})
	}
}
