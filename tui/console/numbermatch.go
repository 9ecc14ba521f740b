package console

import (
	"slices"
	"time"

	"github.com/pushsim/pushsim/device/verifyclient"
	"github.com/pushsim/pushsim/internal/backendclient"
)

// numberSignIn is a number-matching sign-in as its login page shows it:
// the code, beside "check your phone", while its challenges (one per phone
// of the user) wait for an answer, and how it went for a moment after.
// The line belongs to this sign-in alone: it is found by its challenges'
// SIDs, never by the code, which two sign-ins may share.
type numberSignIn struct {
	code string
	sids []string
	// settledAt is when the console first saw the sign-in answered (or
	// expired); zero while it is pending.
	settledAt time.Time
}

// codeLinger is how long the line stays once its sign-in is settled: long
// enough to read the outcome, short enough that it does not pass for the
// page of a later sign-in.
const codeLinger = 15 * time.Second

func newNumberSignIn(challenges []backendclient.Challenge) *numberSignIn {
	if len(challenges) == 0 || challenges[0].Code() == "" {
		return nil
	}
	n := &numberSignIn{code: challenges[0].Code()}
	for _, ch := range challenges {
		n.sids = append(n.sids, ch.Sid)
	}
	return n
}

// status is how the sign-in stands: approved or denied once a phone
// answered it, pending while any phone can, else how its challenges ended;
// "" while none of them is listed yet.
func (n *numberSignIn) status(c *Console) string {
	var words []string
	for _, ch := range c.challenges {
		if slices.Contains(n.sids, ch.Sid) {
			words = append(words, c.statusWord(ch))
		}
	}
	for _, w := range []string{verifyclient.ChallengeApproved, verifyclient.ChallengeDenied, verifyclient.ChallengePending} {
		if slices.Contains(words, w) {
			return w
		}
	}
	if len(words) > 0 {
		return words[0]
	}
	return ""
}

// noteSettled starts the line's last moments when the sign-in is no
// longer pending.
func (c *Console) noteSettled() {
	n := c.matching
	if n == nil || !n.settledAt.IsZero() {
		return
	}
	if s := n.status(c); s != "" && s != verifyclient.ChallengePending {
		n.settledAt = c.com.Clock()
	}
}

// shownSignIn is the number-matching sign-in whose line shows now, if any.
func (c *Console) shownSignIn() *numberSignIn {
	n := c.matching
	if n == nil || !n.settledAt.IsZero() && c.com.Clock().Sub(n.settledAt) >= codeLinger {
		return nil
	}
	return n
}
