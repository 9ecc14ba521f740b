package tui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"

	tea "charm.land/bubbletea/v2"

	"github.com/pushsim/pushsim/device/verifyclient"

	"github.com/pushsim/pushsim/device"
)

// signInKind is which of the console's sign-ins to make.
type signInKind int

const (
	signInPlain signInKind = iota
	signInNumberMatch
	signInBombing
)

// bombingAttempts is how many sign-ins a push-bombing burst makes: more
// than the five unanswered challenges a factor may hold, so the server's
// refusal shows.
const bombingAttempts = 8

// signInContext is what a login page knows about the attempt and sends
// along for the phone to show.
type signInContext struct{ location, ip, browser string }

var (
	userSignIn     = signInContext{"Lisbon, Portugal", "203.0.113.7", "Firefox 140 on macOS"}
	attackerSignIn = signInContext{"Unknown (VPN exit node)", "198.51.100.23", "Chrome 139 on Windows"}
)

// errNoVerifiedPhone is why a sign-in cannot start before enrolment.
var errNoVerifiedPhone = errors.New("no verified phone for this user yet: wait for the phone to enroll")

// signInForm is the create-challenge request of a login page: the message
// and the context fields (location, IP, browser, time) the phone shows.
func (c *console) signInForm(kind signInKind) url.Values {
	who := userSignIn
	if kind == signInBombing {
		who = attackerSignIn
	}
	return url.Values{
		"identity": {c.user},
		"message":  {"Sign in to Acme?"},
		"Location": {who.location},
		"IP":       {who.ip},
		"Browser":  {who.browser},
		"Time":     {c.clock().UTC().Format("2006-01-02 15:04:05 UTC")},
	}
}

// startSignIn challenges every verified phone of the user, once, or
// bombingAttempts times in a burst.
func (c *console) startSignIn(kind signInKind) tea.Cmd {
	labels := map[signInKind]string{signInPlain: "Signing in…", signInNumberMatch: "Signing in…", signInBombing: "Bombing…"}
	spin, ok := c.begin(labels[kind])
	if !ok {
		return nil
	}
	attempts := 1
	if kind == signInBombing {
		attempts = bombingAttempts
	}
	client, user, form, parent := c.client, c.user, c.signInForm(kind), c.ctx
	return tea.Batch(spin, func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, requestTimeout)
		defer cancel()
		factors, err := client.listFactors(ctx, user, false)
		if err != nil {
			return signedInMsg{kind: kind, err: err}
		}
		var phones []string
		for _, f := range factors {
			if f.Status == verifyclient.FactorVerified {
				phones = append(phones, f.Sid)
			}
		}
		if len(phones) == 0 {
			return signedInMsg{kind: kind, err: errNoVerifiedPhone}
		}
		msg := signedInMsg{kind: kind}
		for range attempts {
			created, refused := signInOnce(ctx, client, form, phones, kind == signInNumberMatch)
			msg.attempts = append(msg.attempts, created)
			msg.refused = append(msg.refused, refused...)
		}
		return msg
	})
}

// signInOnce sends one sign-in to every phone: Verify challenges one factor
// at a time, so a user with several phones gets one challenge on each.
// With number matching they all carry the code the sign-in page shows.
func signInOnce(ctx context.Context, client *backendClient, form url.Values, factors []string, numberMatch bool) (created []backendChallenge, refused []error) {
	code := ""
	for _, sid := range factors {
		f := maps.Clone(form)
		f.Set("factor", sid)
		switch {
		case numberMatch && code == "":
			f.Set("number_match", "true")
		case numberMatch:
			hidden, _ := json.Marshal(map[string]string{device.NumberMatchKey: code})
			f.Set("hidden", string(hidden))
		}
		ch, err := client.createChallenge(ctx, f)
		if err != nil {
			refused = append(refused, err)
			continue
		}
		if numberMatch && code == "" {
			code = ch.code()
		}
		created = append(created, ch)
	}
	return created, refused
}

// signedIn records what a sign-in created: siblings of one sign-in are
// grouped for withdrawal, the newest is selected, the code is shown.
func (c *console) signedIn(msg signedInMsg) tea.Cmd {
	c.busy = ""
	if msg.err != nil {
		c.fail("Sign in failed", msg.err)
		return nil
	}
	created := 0
	for _, group := range msg.attempts {
		created += len(group)
		if len(group) > 1 {
			c.lastSignIn++
			for _, ch := range group {
				c.signIns[ch.Sid] = c.lastSignIn
			}
		}
		if len(group) > 0 {
			c.selected = group[len(group)-1].Sid // the newest, on top of the list
		}
	}
	switch {
	case msg.kind == signInBombing:
		c.result = consoleResult{
			text:    fmt.Sprintf("Push bombing: %d sign-ins, %d pushed, %d refused", len(msg.attempts), created, len(msg.refused)),
			detail:  "the server stops a flood at 5 unanswered challenges per phone",
			refused: len(msg.refused) > 0,
		}
		if len(msg.refused) > 0 {
			c.result.detail = msg.refused[0].Error()
		}
	case created == 0:
		c.fail("Sign in refused", errors.Join(msg.refused...))
	default:
		c.result = consoleResult{text: "Sign-in pushed to " + plural(created, "phone"), detail: "challenge " + shorten(msg.attempts[0][0].Sid, 14)}
		if len(msg.refused) > 0 {
			c.result.detail, c.result.refused = msg.refused[0].Error(), true
		}
		if msg.kind == signInNumberMatch {
			c.code = msg.attempts[0][0].code()
		}
	}
	return c.refresh()
}

// startResend pushes the selected challenge again through Verify's
// Notifications resource; the server answers for challenges that cannot
// be resent.
func (c *console) startResend() tea.Cmd {
	return c.onSelected("resend", "Resending…", func(ctx context.Context, client *backendClient, user string, ch backendChallenge) tea.Msg {
		n, err := client.resend(ctx, user, ch.Sid)
		return resentMsg{challengeSid: ch.Sid, notification: n, err: err}
	})
}

// startExpire ends the selected challenge now.
func (c *console) startExpire() tea.Cmd {
	return c.onSelected("expire", "Expiring…", func(ctx context.Context, client *backendClient, user string, ch backendChallenge) tea.Msg {
		return expiredMsg{challengeSid: ch.Sid, err: client.expire(ctx, user, ch.Sid, "")}
	})
}

// onSelected runs call on the selected challenge in the background, with
// a spinner saying busy, or says why it cannot.
func (c *console) onSelected(verb, busy string, call func(context.Context, *backendClient, string, backendChallenge) tea.Msg) tea.Cmd {
	ch, ok := c.selectedChallenge()
	if !ok {
		c.result = consoleResult{failed: true, text: "No challenge to " + verb + " yet: sign in first"}
		return nil
	}
	spin, ok := c.begin(busy)
	if !ok {
		return nil
	}
	client, user, parent := c.client, c.user, c.ctx
	return tea.Batch(spin, func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, requestTimeout)
		defer cancel()
		return call(ctx, client, user, ch)
	})
}

// withdrawAnswered expires, as not needed, the pending siblings of every
// sign-in that one phone has answered, as a backend does once the user
// has approved (or denied) on one of their devices.
func (c *console) withdrawAnswered() tea.Cmd {
	answered := map[int]bool{}
	for _, ch := range c.challenges {
		if g, ok := c.signIns[ch.Sid]; ok && (ch.Status == verifyclient.ChallengeApproved || ch.Status == verifyclient.ChallengeDenied) {
			answered[g] = true
		}
	}
	var sids []string
	for _, ch := range c.challenges {
		if g, ok := c.signIns[ch.Sid]; ok && answered[g] && ch.Status == verifyclient.ChallengePending && !c.withdrawing[ch.Sid] {
			c.withdrawing[ch.Sid] = true
			sids = append(sids, ch.Sid)
		}
	}
	if len(sids) == 0 {
		return nil
	}
	client, user, parent := c.client, c.user, c.ctx
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, requestTimeout)
		defer cancel()
		var errs []error
		for _, sid := range sids {
			errs = append(errs, client.expire(ctx, user, sid, respondedNotNeeded))
		}
		return withdrawnMsg{challengeSids: sids, err: errors.Join(errs...)}
	}
}
