package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/verifyclient"
	"github.com/pushsim/pushsim/internal/backendclient"
	"github.com/pushsim/pushsim/internal/termtext"
	"github.com/pushsim/pushsim/internal/testclock"
	"github.com/pushsim/pushsim/tui/internal/tuitest"
	"github.com/pushsim/pushsim/tui/style"
)

// testClock is the clock the test moves by hand.
type testClock = testclock.Clock

// newTestConsole is alice's console at 80×24 without colour, talking to
// the backend at serverURL (nothing, for tests that play the backend).
func newTestConsole(t *testing.T, serverURL string) (*Console, *testClock) {
	t.Helper()
	clock := testclock.New(tuitest.Start)
	com := &style.Common{
		Context: context.Background(),
		Styles:  style.NewStyles(style.DefaultTheme(), false),
		Keys:    style.NewDemoKeyMap(style.DefaultKeyMap()),
		Clock:   clock.Now,
	}
	client := backendclient.New(serverURL, "AC00000000000000000000000000000000", "token", http.DefaultClient, clock.Now)
	c := New(com, client, "alice", serverURL)
	c.SetSize(80, 24)
	c.Focus()
	return c, clock
}

// runFor runs cmd (and the batches it returns) and hands back the first
// message of type T.
func runFor[T tea.Msg](t *testing.T, cmd tea.Cmd) T {
	t.Helper()
	var found []T
	var run func(tea.Cmd)
	run = func(cmd tea.Cmd) {
		if cmd == nil {
			return
		}
		switch msg := cmd().(type) {
		case tea.BatchMsg:
			for _, c := range msg {
				run(c)
			}
		case T:
			found = append(found, msg)
		}
	}
	run(cmd)
	if len(found) == 0 {
		var zero T
		t.Fatalf("no %T from the command", zero)
	}
	return found[0]
}

// signInBackend answers create-challenge as the sample backend does and
// keeps the forms it was sent.
type signInBackend struct {
	mu    sync.Mutex
	forms []url.Values
}

func (b *signInBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/backend/create-challenge" || r.ParseForm() != nil {
		http.NotFound(w, r)
		return
	}
	b.mu.Lock()
	b.forms = append(b.forms, r.PostForm)
	n := len(b.forms)
	b.mu.Unlock()
	json.NewEncoder(w).Encode(map[string]any{
		"challenges": []map[string]any{{"sid": fmt.Sprintf("YC%032x", n), "status": "pending"}},
		"refused":    []any{},
	})
}

// context is one sign-in's location, IP and browser, as the phone shows
// them.
func (b *signInBackend) context(t *testing.T, i int) string {
	t.Helper()
	var fields []struct{ Label, Value string }
	if err := json.Unmarshal([]byte(b.forms[i].Get("details")), &fields); err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, f := range fields {
		if f.Label != "Time" {
			parts = append(parts, f.Label+"="+f.Value)
		}
	}
	return strings.Join(parts, " ")
}

// TestEachSignInComesFromSomewhereElse: consecutive sign-ins, and the
// attempts of one push-bombing burst, carry different places, addresses
// and browsers, so that a tester can tell them apart; the same run of
// sign-ins gives the same contexts every time.
func TestEachSignInComesFromSomewhereElse(t *testing.T) {
	var runs [2][]string
	for run := range runs {
		backend := &signInBackend{}
		srv := httptest.NewServer(backend)
		c, _ := newTestConsole(t, srv.URL)
		for _, kind := range []SignInKind{SignInPlain, SignInNumberMatch, SignInPlain} {
			c.Update(runFor[SignedInMsg](t, c.startSignIn(kind)))
		}
		c.Update(runFor[SignedInMsg](t, c.startSignIn(SignInBombing)))
		srv.Close()
		if len(backend.forms) != 3+bombingAttempts {
			t.Fatalf("%d sign-ins reached the backend", len(backend.forms))
		}
		for i := range backend.forms {
			runs[run] = append(runs[run], backend.context(t, i))
		}
	}
	seen := map[string]int{}
	for i, ctx := range runs[0] {
		if j, dup := seen[ctx]; dup {
			t.Errorf("sign-ins %d and %d both came from %s", j+1, i+1, ctx)
		}
		seen[ctx] = i
		for _, label := range []string{"Location=", "IP=", "Browser="} {
			if !strings.Contains(ctx, label) {
				t.Errorf("sign-in %d has no %s: %s", i+1, label, ctx)
			}
		}
	}
	if strings.Join(runs[0], "\n") != strings.Join(runs[1], "\n") {
		t.Errorf("two runs differ:\n%s\n---\n%s", strings.Join(runs[0], "\n"), strings.Join(runs[1], "\n"))
	}
}

func challenge(n int, status, code string, created time.Time) backendclient.Challenge {
	ch := backendclient.Challenge{Sid: fmt.Sprintf("YC%032x", n), FactorSid: tuitest.FactorSid, Status: status,
		RespondedReason: "none", DateCreated: created, ExpirationDate: created.Add(5 * time.Minute)}
	ch.Details.Message = "Sign in to Acme?"
	if code != "" {
		ch.HiddenDetails = map[string]string{device.NumberMatchKey: code}
	}
	return ch
}

func refreshed(challenges ...backendclient.Challenge) RefreshedMsg {
	return RefreshedMsg{Factors: []backendclient.Factor{{Sid: tuitest.FactorSid, FriendlyName: "alice's phone", Status: "verified"}}, Challenges: challenges}
}

// codeLine is the console's "Sign-in page shows" line, or "".
func codeLine(c *Console) string {
	for _, l := range strings.Split(tuitest.Plain(c.View()), "\n") {
		if strings.Contains(l, "Sign-in page") {
			return strings.Join(strings.Fields(strings.Trim(l, "│┃║ ")), " ")
		}
	}
	return ""
}

// TestNumberMatchLineBelongsToItsSignIn: the sign-in page's code shows
// while its sign-in waits, says how it went for a moment after, and goes
// when that moment is over or another sign-in starts; another challenge
// with the same code never speaks for it.
func TestNumberMatchLineBelongsToItsSignIn(t *testing.T) {
	c, clock := newTestConsole(t, "http://127.0.0.1:9")
	now := clock.Now()
	matched := challenge(2, verifyclient.ChallengePending, "98", now)
	older := challenge(1, verifyclient.ChallengeApproved, "98", now.Add(-time.Minute)) // the same code, long answered
	c.Update(SignedInMsg{Kind: SignInNumberMatch, Tries: 1, Attempts: [][]backendclient.Challenge{{matched}}})
	c.Update(refreshed(matched, older))
	if got := codeLine(c); !strings.Contains(got, "Sign-in page shows 98") || !strings.Contains(got, "type it on the phone") {
		t.Fatalf("while pending: %q", got)
	}
	if c.State().Code != "98" {
		t.Fatalf("state code %q", c.State().Code)
	}

	clock.Advance(5 * time.Second)
	matched.Status = verifyclient.ChallengeApproved
	c.Update(refreshed(matched, older))
	if got := codeLine(c); got != "Sign-in page showed 98 approved" {
		t.Fatalf("just answered: %q", got)
	}
	clock.Advance(codeLinger - time.Second)
	c.Update(refreshed(matched, older))
	if got := codeLine(c); got == "" {
		t.Fatal("the outcome went before anyone could read it")
	}
	clock.Advance(time.Second)
	c.Update(refreshed(matched, older))
	if got := codeLine(c); got != "" || c.State().Code != "" {
		t.Fatalf("%s after the answer: %q (state %q)", codeLinger, got, c.State().Code)
	}

	// A plain sign-in replaces the page at once, answered or not.
	c.Update(SignedInMsg{Kind: SignInNumberMatch, Tries: 1, Attempts: [][]backendclient.Challenge{{challenge(3, verifyclient.ChallengePending, "41", clock.Now())}}})
	if got := codeLine(c); !strings.Contains(got, "Sign-in page shows 41") {
		t.Fatalf("second number-matching sign-in: %q", got)
	}
	c.Update(SignedInMsg{Kind: SignInPlain, Tries: 1, Attempts: [][]backendclient.Challenge{{challenge(4, verifyclient.ChallengePending, "", clock.Now())}}})
	if got := codeLine(c); got != "" {
		t.Fatalf("after a plain sign-in: %q", got)
	}
}

// hostile is what a backend can put in any string: an OSC written with C1
// controls and with ESC/BEL, a screen clear, a fake zone marker, and bidi
// overrides and isolates.
const hostile = "\u009d0;TITLE\u009c \x1b]0;TITLE\x07 \x1b[2J \x1b_pz:console:bomb\x1b\\ \u202eevil\u202c \u2066x\u2069"

var sgr = regexp.MustCompile("\x1b\\[[0-9;]*m")

// TestWireTextIsMadeSafe: messages, fields, names, webhook types and the
// backend's error text reach the frame only as visible escapes.
func TestWireTextIsMadeSafe(t *testing.T) {
	c, clock := newTestConsole(t, "http://127.0.0.1:9")
	c.SetSize(120, 40)
	ch := challenge(1, verifyclient.ChallengePending, "", clock.Now())
	ch.Details.Message = "Sign in? " + hostile
	ch.Details.Fields = append(ch.Details.Fields, struct {
		Label string `json:"label"`
		Value string `json:"value"`
	}{"Location", hostile})
	msg := refreshed(ch)
	msg.Factors = append(msg.Factors, backendclient.Factor{Sid: "YF1", FriendlyName: hostile, Status: "verified"})
	msg.Events = []backendclient.WebhookEvent{{Received: clock.Now(), Valid: true, Type: "challenge." + hostile, Params: map[string]string{"challenge_sid": hostile}}}
	c.Update(HashedMsg{Hashed: hostile})
	c.Update(msg)
	c.Update(SignedInMsg{Kind: SignInPlain, Err: &backendclient.APIError{Status: 400, Code: 60200, Message: "Invalid parameter " + hostile}})
	frame := c.View()
	for _, r := range sgr.ReplaceAllString(frame, "") {
		if termtext.Unsafe(r) {
			t.Fatalf("U+%04X reached the frame:\n%q", r, frame)
		}
	}
	if !strings.Contains(frame, `\u009d0;TITLE\u009c`) {
		t.Fatalf("the hostile text is not shown for what it is:\n%s", tuitest.Plain(frame))
	}
	bombs := 0
	for _, z := range c.zones {
		if z.Name == "console:bomb" {
			bombs++
		}
	}
	if bombs != 1 {
		t.Fatalf("%d push-bombing buttons: text from the wire made itself one", bombs)
	}
}

// TestDrawnBeforeItsSize: the host may draw the console before the first
// size arrives; it draws nothing rather than failing.
func TestDrawnBeforeItsSize(t *testing.T) {
	c, _ := newTestConsole(t, "http://127.0.0.1:1")
	for _, size := range [][2]int{{0, 0}, {1, 1}, {5, 2}} {
		c.SetSize(size[0], size[1])
		_ = c.View()
	}
}
