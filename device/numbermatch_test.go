package device

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pushsim/pushsim/device/internal/fakeverify"
)

// TestAnswerNumberMatch: the number the sign-in showed approves, any other
// denies and says which number was typed and which was shown, and a
// challenge without a number is left alone.
func TestAnswerNumberMatch(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t)
	p := newPhone(t, srv, t.TempDir()+"/phone", 0)
	f := p.enroll(t, "nina-0001")
	p.drain(t)
	numbered := fakeverify.ChallengeOptions{Hidden: map[string]string{NumberMatchKey: "42"}}

	right := srv.CreateChallenge(f.Sid, "Type the number", numbered)
	if _, err := p.AnswerNumberMatch(ctx, f.Sid, right, "42"); err != nil {
		t.Fatalf("the right number: %v", err)
	}
	if c, _ := srv.Challenge(right); c.Status != "approved" {
		t.Errorf("the right number left the challenge %s, want approved", c.Status)
	}

	wrong := srv.CreateChallenge(f.Sid, "Type the number", numbered)
	_, err := p.AnswerNumberMatch(ctx, f.Sid, wrong, "24")
	var mismatch *NumberMismatchError
	if !errors.Is(err, ErrNumberMismatch) || !errors.As(err, &mismatch) {
		t.Fatalf("the wrong number answered %v, want a NumberMismatchError", err)
	}
	if mismatch.Typed != "24" || mismatch.Shown != "42" || !strings.Contains(err.Error(), "denied") {
		t.Errorf("mismatch error %q (%+v) does not name both numbers and the denial", err, mismatch)
	}
	if c, _ := srv.Challenge(wrong); c.Status != "denied" {
		t.Errorf("the wrong number left the challenge %s, want denied", c.Status)
	}

	plain := srv.CreateChallenge(f.Sid, "No number", fakeverify.ChallengeOptions{})
	if _, err := p.AnswerNumberMatch(ctx, f.Sid, plain, "42"); !errors.Is(err, ErrNoNumberToMatch) {
		t.Errorf("a challenge without a number answered %v, want ErrNoNumberToMatch", err)
	}
	if c, _ := srv.Challenge(plain); c.Status != "pending" {
		t.Errorf("a challenge without a number was answered: %s", c.Status)
	}

	assertEvents(t, p.drain(t),
		brief{Kind: EventApproved, ChallengeSid: right, FactorSid: f.Sid},
		brief{Kind: EventDenied, ChallengeSid: wrong, FactorSid: f.Sid},
	)
}
