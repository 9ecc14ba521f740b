package tui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	tea "charm.land/bubbletea/v2"
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

// signInForm is the create-challenge request of a login page: the message
// and the context fields (location, IP, browser, time) the phone shows. It
// names no factor, so the sample backend challenges every verified phone
// of the user and withdraws the others once one answers.
func (c *console) signInForm(kind signInKind) url.Values {
	who := userSignIn
	if kind == signInBombing {
		who = attackerSignIn
	}
	details, _ := json.Marshal([]map[string]string{
		{"label": "Location", "value": who.location},
		{"label": "IP", "value": who.ip},
		{"label": "Browser", "value": who.browser},
		{"label": "Time", "value": c.clock().UTC().Format("2006-01-02 15:04:05 UTC")},
	})
	form := url.Values{"identity": {c.user}, "message": {"Sign in to Acme?"}, "details": {string(details)}}
	if kind == signInNumberMatch {
		form.Set("numberMatch", "true")
	}
	return form
}

// startSignIn signs the user in once, or bombingAttempts times in a burst.
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
	client, form, parent := c.client, c.signInForm(kind), c.ctx
	return tea.Batch(spin, func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, requestTimeout)
		defer cancel()
		msg := signedInMsg{kind: kind, tries: attempts}
		for range attempts {
			s, err := client.signIn(ctx, form)
			var apiErr *apiError
			switch {
			case errors.As(err, &apiErr) && apiErr.Status == http.StatusTooManyRequests:
				msg.refused = append(msg.refused, err) // every phone at its cap
			case err != nil:
				return signedInMsg{kind: kind, err: err}
			default:
				msg.attempts = append(msg.attempts, s.Challenges)
				msg.refused = append(msg.refused, s.refusals()...)
			}
		}
		return msg
	})
}

// signedIn shows what a sign-in created: the newest challenge is selected
// and the code the sign-in page shows is kept.
func (c *console) signedIn(msg signedInMsg) tea.Cmd {
	c.busy = ""
	if msg.err != nil {
		c.fail("Sign in failed", msg.err)
		return nil
	}
	created := 0
	for _, group := range msg.attempts {
		created += len(group)
		if len(group) > 0 {
			c.selected = group[len(group)-1].Sid // the newest, on top of the list
		}
	}
	switch {
	case msg.kind == signInBombing:
		c.result = consoleResult{
			text:    fmt.Sprintf("Push bombing: %d sign-ins, %d pushed, %d refused", msg.tries, created, len(msg.refused)),
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
	return c.onSelected("resend", "Resending…", func(ctx context.Context, client *backendClient, ch backendChallenge) tea.Msg {
		n, err := client.resend(ctx, ch.Identity, ch.Sid)
		return resentMsg{challengeSid: ch.Sid, notification: n, err: err}
	})
}

// startExpire ends the selected challenge now.
func (c *console) startExpire() tea.Cmd {
	return c.onSelected("expire", "Expiring…", func(ctx context.Context, client *backendClient, ch backendChallenge) tea.Msg {
		return expiredMsg{challengeSid: ch.Sid, err: client.expire(ctx, ch.Identity, ch.Sid)}
	})
}

// onSelected runs call on the selected challenge in the background, with
// a spinner saying busy, or says why it cannot.
func (c *console) onSelected(verb, busy string, call func(context.Context, *backendClient, backendChallenge) tea.Msg) tea.Cmd {
	ch, ok := c.selectedChallenge()
	if !ok {
		c.result = consoleResult{failed: true, text: "No challenge to " + verb + " yet: sign in first"}
		return nil
	}
	spin, ok := c.begin(busy)
	if !ok {
		return nil
	}
	client, parent := c.client, c.ctx
	return tea.Batch(spin, func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, requestTimeout)
		defer cancel()
		return call(ctx, client, ch)
	})
}
