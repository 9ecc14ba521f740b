package device

import (
	"context"
	"errors"
	"fmt"

	"github.com/pushsim/pushsim/device/verifyclient"
)

// ErrNumberMismatch is the cause when a number-matching challenge was
// denied because the number typed was not the one the sign-in showed.
var ErrNumberMismatch = errors.New("wrong number")

// ErrNoNumberToMatch refuses a typed number for a challenge that does not
// ask for one: the app shows no number prompt for it.
var ErrNoNumberToMatch = errors.New("the challenge asks for no number")

// NumberMismatchError reports a number-matching challenge denied because of
// a wrong number. It matches ErrNumberMismatch.
type NumberMismatchError struct {
	ChallengeSid string
	Typed        string
	Shown        string
}

func (e *NumberMismatchError) Error() string {
	return fmt.Sprintf("wrong number for %s: typed %q, the sign-in showed %q: the challenge was denied", e.ChallengeSid, e.Typed, e.Shown)
}

func (e *NumberMismatchError) Is(target error) bool { return target == ErrNumberMismatch }

// AnswerNumberMatch is the app's number prompt: the user typed code to
// approve a number-matching challenge. The right number approves it; a
// wrong one denies it, as the prompt does, because a user who cannot read
// the number off the sign-in page may not be the one signing in. The
// denial is then returned with a *NumberMismatchError, so the caller can
// tell the user why.
func (d *Device) AnswerNumberMatch(ctx context.Context, factorSid, challengeSid, code string) (*Challenge, error) {
	ch, err := d.GetChallenge(ctx, factorSid, challengeSid)
	if err != nil {
		return nil, err
	}
	shown := ch.HiddenDetails[NumberMatchKey]
	if shown == "" {
		return ch, fmt.Errorf("%w: %s has no %s in its hidden details", ErrNoNumberToMatch, challengeSid, NumberMatchKey)
	}
	if code == shown {
		return d.UpdateChallenge(ctx, factorSid, challengeSid, verifyclient.ChallengeApproved)
	}
	final, err := d.UpdateChallenge(ctx, factorSid, challengeSid, verifyclient.ChallengeDenied)
	if err != nil {
		return final, err
	}
	return final, &NumberMismatchError{ChallengeSid: challengeSid, Typed: code, Shown: shown}
}
