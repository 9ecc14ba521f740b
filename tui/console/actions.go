package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	tea "charm.land/bubbletea/v2"

	"github.com/pushsim/pushsim/internal/backendclient"
)

// SignInKind is which of the console's sign-ins to make.
type SignInKind int

const (
	SignInPlain SignInKind = iota
	SignInNumberMatch
	SignInBombing
)

// bombingAttempts is how many sign-ins a push-bombing burst makes: more
// than the five unanswered challenges a factor may hold, so the server's
// refusal shows.
const bombingAttempts = 8

// signInContext is what a login page knows about the attempt and sends
// along for the phone to show.
type signInContext struct{ location, ip, browser string }

// Each sign-in comes from somewhere else, so that a tester can tell them
// apart on the phone and in the console: the user's from the next of a few
// places and browsers, each attempt of a push-bombing burst from the next
// of the attacker's exit nodes. The lists are fixed and taken in turn, so
// a demo and its tests are reproducible. The addresses are the
// documentation ranges (RFC 5737).
var (
	userSignIns = []signInContext{
		{"Lisbon, Portugal", "203.0.113.7", "Firefox 140 on macOS"},
		{"Porto, Portugal", "203.0.113.58", "Safari 18 on iPhone"},
		{"Madrid, Spain", "198.51.100.14", "Chrome 139 on Android"},
		{"London, United Kingdom", "192.0.2.44", "Edge 139 on Windows"},
		{"Paris, France", "192.0.2.120", "Firefox 140 on Linux"},
	}
	// As many as a burst has attempts, so that none of one burst repeat.
	attackerSignIns = []signInContext{
		{"Unknown (VPN exit node)", "198.51.100.23", "Chrome 139 on Windows"},
		{"Frankfurt, Germany (VPN)", "198.51.100.77", "Chrome 139 on Windows"},
		{"Amsterdam, Netherlands (VPN)", "198.51.100.131", "Chrome 138 on Linux"},
		{"Unknown (Tor exit node)", "192.0.2.201", "Firefox 128 ESR on Windows"},
		{"Singapore (VPN)", "198.51.100.166", "Chrome 139 on Windows"},
		{"São Paulo, Brazil (proxy)", "203.0.113.190", "Opera 120 on Windows"},
		{"Unknown (VPN exit node)", "198.51.100.201", "Chrome 137 on macOS"},
		{"Bucharest, Romania (proxy)", "192.0.2.77", "Firefox 139 on Windows"},
	}
)

// nextSignInContexts takes the contexts of the next n sign-ins of a kind.
func (c *Console) nextSignInContexts(kind SignInKind, n int) []signInContext {
	list, used := userSignIns, &c.userSignIns
	if kind == SignInBombing {
		list, used = attackerSignIns, &c.attackerSignIns
	}
	out := make([]signInContext, n)
	for i := range out {
		out[i] = list[(*used+i)%len(list)]
	}
	*used += n
	return out
}

// signInForm is the create-challenge request of a login page: the message
// and the context fields (location, IP, browser, time) the phone shows. It
// names no factor, so the sample backend challenges every verified phone
// of the user and withdraws the others once one answers.
func (c *Console) signInForm(kind SignInKind, who signInContext) url.Values {
	details, _ := json.Marshal([]map[string]string{
		{"label": "Location", "value": who.location},
		{"label": "IP", "value": who.ip},
		{"label": "Browser", "value": who.browser},
		{"label": "Time", "value": c.com.Clock().UTC().Format("2006-01-02 15:04:05 UTC")},
	})
	form := url.Values{"identity": {c.user}, "message": {"Sign in to Acme?"}, "details": {string(details)}}
	if kind == SignInNumberMatch {
		form.Set("numberMatch", "true")
	}
	return form
}

// startSignIn signs the user in once, or bombingAttempts times in a burst.
func (c *Console) startSignIn(kind SignInKind) tea.Cmd {
	labels := map[SignInKind]string{SignInPlain: "Signing in…", SignInNumberMatch: "Signing in…", SignInBombing: "Bombing…"}
	spin, ok := c.begin(labels[kind])
	if !ok {
		return nil
	}
	attempts := 1
	if kind == SignInBombing {
		attempts = bombingAttempts
	}
	var forms []url.Values
	for _, who := range c.nextSignInContexts(kind, attempts) {
		forms = append(forms, c.signInForm(kind, who))
	}
	client, parent := c.client, c.com.Context
	return tea.Batch(spin, func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, requestTimeout)
		defer cancel()
		msg := SignedInMsg{Kind: kind, Tries: attempts}
		for _, form := range forms {
			s, err := client.SignIn(ctx, form)
			var apiErr *backendclient.APIError
			switch {
			case errors.As(err, &apiErr) && apiErr.Status == http.StatusTooManyRequests:
				msg.Refused = append(msg.Refused, err) // every phone at its cap
			case err != nil:
				return SignedInMsg{Kind: kind, Err: err}
			default:
				msg.Attempts = append(msg.Attempts, s.Challenges)
				msg.Refused = append(msg.Refused, s.Refusals()...)
			}
		}
		return msg
	})
}

// signedIn shows what a sign-in created: the newest challenge is selected
// and, for number matching, the code the sign-in page shows is kept. Any
// sign-in replaces the login page a number-matching one showed.
func (c *Console) signedIn(msg SignedInMsg) tea.Cmd {
	c.busy = ""
	c.matching = nil
	attempts := make([][]backendclient.Challenge, len(msg.Attempts))
	for i, group := range msg.Attempts {
		attempts[i] = shownChallenges(group)
	}
	msg.Attempts = attempts
	if msg.Err != nil {
		c.fail("Sign in failed", msg.Err)
		return nil
	}
	created := 0
	for _, group := range msg.Attempts {
		created += len(group)
		if len(group) > 0 {
			c.selected = group[len(group)-1].Sid // the newest, on top of the list
		}
	}
	switch {
	case msg.Kind == SignInBombing:
		c.result = outcome{
			text:    fmt.Sprintf("Push bombing: %d sign-ins, %d pushed, %d refused", msg.Tries, created, len(msg.Refused)),
			detail:  "the server stops a flood at 5 unanswered challenges per phone",
			refused: len(msg.Refused) > 0,
		}
		if len(msg.Refused) > 0 {
			c.result.detail = msg.Refused[0].Error()
		}
	case created == 0:
		c.fail("Sign in refused", errors.Join(msg.Refused...))
	default:
		c.result = outcome{text: "Sign-in pushed to " + plural(created, "phone"), detail: "challenge " + msg.Attempts[0][0].Sid}
		if note := c.pushFaultNote(msg.Attempts); note != "" {
			c.result.detail = note
		}
		if len(msg.Refused) > 0 {
			c.result.detail, c.result.refused = msg.Refused[0].Error(), true
		}
		if msg.Kind == SignInNumberMatch {
			c.matching = newNumberSignIn(msg.Attempts[0])
		}
	}
	return c.refresh()
}

// startResend pushes the selected challenge again through Verify's
// Notifications resource; the server answers for challenges that cannot
// be resent.
func (c *Console) startResend() tea.Cmd {
	return c.onSelected("resend", "Resending…", func(ctx context.Context, client *backendclient.Client, ch backendclient.Challenge) tea.Msg {
		n, err := client.Resend(ctx, ch.Identity, ch.Sid)
		return resentMsg{challengeSid: ch.Sid, notification: n, err: err}
	})
}

// startExpire ends the selected challenge now.
func (c *Console) startExpire() tea.Cmd {
	return c.onSelected("expire", "Expiring…", func(ctx context.Context, client *backendclient.Client, ch backendclient.Challenge) tea.Msg {
		return expiredMsg{challengeSid: ch.Sid, err: client.Expire(ctx, ch.Identity, ch.Sid)}
	})
}

// onSelected runs call on the selected challenge in the background, with
// a spinner saying busy, or says why it cannot.
func (c *Console) onSelected(verb, busy string, call func(context.Context, *backendclient.Client, backendclient.Challenge) tea.Msg) tea.Cmd {
	ch, ok := c.selectedChallenge()
	if !ok {
		c.result = outcome{failed: true, text: "No challenge to " + verb + " yet: sign in first"}
		return nil
	}
	spin, ok := c.begin(busy)
	if !ok {
		return nil
	}
	client, parent := c.client, c.com.Context
	return tea.Batch(spin, func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, requestTimeout)
		defer cancel()
		return call(ctx, client, ch)
	})
}
