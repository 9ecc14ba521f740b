package console

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/pushsim/pushsim/device/verifyclient"
	"github.com/pushsim/pushsim/internal/backendclient"
	"github.com/pushsim/pushsim/tui/internal/tuitest"
)

// The console's box in an 80×24 demo: what it shows there must be whole.
const boxW, boxH = 36, 24

// inside is the console's frame without its border, line by line.
func inside(c *Console) []string {
	lines := strings.Split(tuitest.Plain(c.View()), "\n")
	var out []string
	for _, l := range lines[1 : len(lines)-1] {
		out = append(out, strings.Trim(l, "│┃║"))
	}
	return out
}

// squeeze drops white space: where a line wrapped does not matter, that
// every character is there, in order, does.
func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// requireWhole fails unless every want is on screen, in order, and every
// SID in it on one line.
func requireWhole(t *testing.T, lines []string, wants ...string) {
	t.Helper()
	text := strings.Join(lines, "\n")
	for _, want := range wants {
		if !strings.Contains(squeeze(text), squeeze(want)) {
			t.Fatalf("%q is not whole on screen:\n%s", want, text)
		}
		for _, word := range strings.Fields(want) {
			if isSID(word) && !strings.Contains(text, word) {
				t.Fatalf("%s is split across lines:\n%s", word, text)
			}
		}
	}
}

func isSID(s string) bool {
	return len(s) == 34 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

// TestConsoleTextIsWholeAt80x24: at the size an 80×24 demo gives it, the
// console shows whole the identity, each action's outcome with its SIDs
// and its request, why the lists stopped refreshing, and its help; the
// challenge list's short rows open whole; each webhook listed shows its
// subject whole.
func TestConsoleTextIsWholeAt80x24(t *testing.T) {
	backend := &signInBackend{}
	srv := httptest.NewServer(backend)
	defer srv.Close()
	c, clock := newTestConsole(t, srv.URL)
	c.SetSize(boxW, boxH)
	c.Update(HashedMsg{Hashed: tuitest.Identity})

	c.Update(runFor[SignedInMsg](t, c.startSignIn(SignInPlain)))
	first := fmt.Sprintf("YC%032x", 1)
	requireWhole(t, inside(c),
		"User alice", "Identity "+tuitest.Identity+" (SHA-256)", "Server "+srv.URL,
		"✓ Sign-in pushed to 1 phone", "challenge "+first,
		"POST /backend/create-challenge → 200 ·")

	notification := "NO" + strings.Repeat("ab", 16)
	c.Update(resentMsg{challengeSid: first, notification: backendclient.Notification{Sid: notification, TTL: 300}})
	requireWhole(t, inside(c), "✓ Push sent again (resend 1) as "+notification, "Notifications resource · ttl 300 s")
	c.Update(expiredMsg{challengeSid: first})
	requireWhole(t, inside(c), "✓ Expired "+first, "the phone can no longer answer it")

	offline := `Get "http://127.0.0.1:9/backend/challenges?identity=alice": dial tcp 127.0.0.1:9: connect: connection refused`
	c.Update(RefreshedMsg{Err: errors.New(offline)})
	requireWhole(t, inside(c), "✗ "+offline)

	// A push-bombing burst's challenges, each from elsewhere, and the
	// webhooks about them.
	now := clock.Now()
	msg := refreshed()
	for i := bombingAttempts; i >= 1; i-- {
		ch := challenge(i, verifyclient.ChallengePending, "", now.Add(-time.Duration(i)*time.Second))
		who := attackerSignIns[i-1]
		for _, f := range [][2]string{{"Location", who.location}, {"IP", who.ip}, {"Browser", who.browser}} {
			ch.Details.Fields = append(ch.Details.Fields, struct {
				Label string `json:"label"`
				Value string `json:"value"`
			}{f[0], f[1]})
		}
		msg.Challenges = append(msg.Challenges, ch)
	}
	for i := 1; i <= 3; i++ {
		msg.Events = append(msg.Events, backendclient.WebhookEvent{Received: now, Valid: true, Type: "challenge.expired",
			Params: map[string]string{"challenge_sid": fmt.Sprintf("YC%032x", i), "entity_identity": tuitest.Identity}})
	}
	c.Update(msg)
	lines := inside(c)
	webhooks := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "Webhooks") {
			webhooks = i
		}
	}
	if webhooks < 0 || !strings.Contains(lines[webhooks], "1/3") {
		t.Fatalf("the webhook list does not say how many it shows:\n%s", strings.Join(lines, "\n"))
	}
	requireWhole(t, lines[webhooks:], "✓ challenge.expired", fmt.Sprintf("YC%032x", 3))

	// Each row is short; enter opens the one under the cursor whole.
	c.Update(tuitest.Press("g"))
	for i := range bombingAttempts {
		if i > 0 {
			c.Update(tuitest.Press("down"))
		}
		ch, _ := c.selectedChallenge()
		c.Update(tuitest.Press("enter"))
		wants := []string{"Sign in to Acme?", "Sid " + ch.Sid, "Factor " + tuitest.FactorSid}
		for _, f := range ch.Details.Fields {
			wants = append(wants, f.Label+" "+f.Value)
		}
		requireWhole(t, inside(c), wants...)
		c.Update(tuitest.Press("esc"))
	}

	c.Update(tuitest.Press("?"))
	requireWhole(t, inside(c), "i sign in", "m number match", "b push bombing", "p resend push", "c expire now",
		"pick a challenge", "enter open", "tab next pane", "shift+tab previous pane",
		"Mouse: click an action, a challenge (again to open it) or a pane.", "Press ? or esc to close.")
}

// A click picks a challenge; a second click on it opens it.
func TestClickTwiceOpensAChallenge(t *testing.T) {
	c, clock := newTestConsole(t, "http://127.0.0.1:9")
	c.Update(refreshed(challenge(2, verifyclient.ChallengePending, "", clock.Now()), challenge(1, verifyclient.ChallengeApproved, "", clock.Now().Add(-time.Minute))))
	second := fmt.Sprintf("YC%032x", 1)
	c.Update(c.handleClick("console:challenge:" + second))
	if ch, _ := c.selectedChallenge(); ch.Sid != second || c.detailOpen {
		t.Fatalf("the first click: selected %s, open %v", ch.Sid, c.detailOpen)
	}
	c.handleClick("console:challenge:" + second)
	if !c.detailOpen || !strings.Contains(strings.Join(inside(c), "\n"), second) {
		t.Fatalf("the second click did not open it:\n%s", strings.Join(inside(c), "\n"))
	}
}
