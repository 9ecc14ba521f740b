package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/verifyclient"
	"github.com/pushsim/pushsim/internal/backendclient"
	"github.com/pushsim/pushsim/server/servertest"
	"github.com/pushsim/pushsim/tui/internal/tuitest"
	"github.com/pushsim/pushsim/tui/style"
)

// liveConsole is a console driven as a program drives it: every command
// runs in the background and its message comes back to Update on the
// test's goroutine, so the test waits for what the console shows rather
// than for time to pass.
type liveConsole struct {
	t    *testing.T
	c    *Console
	msgs chan tea.Msg
	done chan struct{}
}

func newLiveConsole(t *testing.T, serverURL, accountSid, authToken string, width, height int) *liveConsole {
	t.Helper()
	com := &style.Common{
		Context: context.Background(),
		Styles:  style.NewStyles(style.DefaultTheme(), false),
		Keys:    style.NewDemoKeyMap(style.DefaultKeyMap()),
		Clock:   time.Now,
	}
	c := New(com, backendclient.New(serverURL, accountSid, authToken, http.DefaultClient, nil), "alice", serverURL)
	c.SetSize(width, height)
	c.Focus()
	l := &liveConsole{t: t, c: c, msgs: make(chan tea.Msg), done: make(chan struct{})}
	t.Cleanup(func() { close(l.done) })
	l.run(c.Init())
	return l
}

func (l *liveConsole) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		msg := cmd()
		select {
		case l.msgs <- msg:
		case <-l.done:
		}
	}()
}

func (l *liveConsole) deliver(msg tea.Msg) {
	switch msg := msg.(type) {
	case nil:
	case tea.BatchMsg:
		for _, cmd := range msg {
			l.run(cmd)
		}
	default:
		l.run(l.c.Update(msg))
	}
}

// press sends keys, one after the other, as the terminal would.
func (l *liveConsole) press(keys ...string) {
	for _, k := range keys {
		l.run(l.c.Update(tuitest.Press(k)))
	}
}

// screen is the console's frame without its border.
func (l *liveConsole) screen() string { return strings.Join(inside(l.c), "\n") }

// until handles the console's messages until cond holds.
func (l *liveConsole) until(what string, cond func() bool) {
	l.t.Helper()
	deadline := time.After(15 * time.Second)
	for !cond() {
		select {
		case msg := <-l.msgs:
			l.deliver(msg)
		case <-deadline:
			l.t.Fatalf("timed out waiting for %s; screen:\n%s", what, l.screen())
		}
	}
}

// shows waits until the screen shows every want, whole (requireWhole).
func (l *liveConsole) shows(wants ...string) {
	l.t.Helper()
	l.until(strings.Join(wants, ", "), func() bool {
		text := l.screen()
		for _, w := range wants {
			if !strings.Contains(squeeze(text), squeeze(w)) {
				return false
			}
		}
		return true
	})
	requireWhole(l.t, inside(l.c), wants...)
}

// idle waits until no action is in flight.
func (l *liveConsole) idle() {
	l.t.Helper()
	l.until("the action to finish", func() bool { return l.c.busy == "" })
}

// rowOf moves the panel's cursor to the row labelled label.
func (l *liveConsole) rowOf(label string) {
	l.t.Helper()
	rows := l.c.faultRows()
	for i, r := range rows {
		if r.label == label {
			l.c.panel.moveTo(rows, i)
			return
		}
	}
	l.t.Fatalf("no row %q in the panel:\n%s", label, l.screen())
}

// choose steps the row under the cursor with → until its choice reads
// word, and applies it with enter.
func (l *liveConsole) choose(word string) {
	l.t.Helper()
	rows := l.c.faultRows()
	row := rows[l.c.panel.cursor]
	for n := 0; l.c.choiceWord(row, l.c.pick(row)) != word; n++ {
		if n > row.choices() {
			l.t.Fatalf("%s has no choice %q", row.label, word)
		}
		l.press("right")
	}
	l.press("enter")
	l.idle()
}

// enrollAlice gives alice a verified factor on a phone that only enrols
// (it does not run), and returns it.
func enrollAlice(t *testing.T, srv *servertest.Server, name string) (*device.Device, device.Factor) {
	t.Helper()
	dev, err := device.New(device.Config{ServerURL: srv.URL, Home: filepath.Join(t.TempDir(), "phone"), App: verifyclient.DefaultApp("test")})
	if err != nil {
		t.Fatal(err)
	}
	f, err := dev.CreateFactor(context.Background(), device.EnrollParams{Identity: "alice", FriendlyName: name})
	if err != nil {
		t.Fatal(err)
	}
	return dev, f
}

// serverFaults is what the server says is in force, read as a CI job
// would.
func serverFaults(t *testing.T, control *backendclient.Client) backendclient.Faults {
	t.Helper()
	f, err := control.Faults(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestFaultsPanelSwitchesEveryServerFault: at the size an 80×24 demo gives
// the console, every push choice for all phones and for the user's phone,
// every webhook choice, each clock step, all off, restart and reset are
// switched by key presses alone; the server's own answer agrees each time,
// and the screen says what happened, whole.
func TestFaultsPanelSwitchesEveryServerFault(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	_, factor := enrollAlice(t, srv, "alice's phone")
	control := backendclient.New(srv.URL, srv.AccountSid, srv.Auth, http.DefaultClient, nil)
	l := newLiveConsole(t, srv.URL, srv.AccountSid, srv.Auth, boxW, boxH)
	l.until("alice's factor and the faults", func() bool { return len(l.c.factors) == 1 && l.c.controlKnown })

	l.press("f")
	l.shows("Server faults", "Push · all phones off", "Push · alice's phone off", "Webhook sink ok", "Server clock on time")

	for _, scope := range []struct{ row, factorSid, outcome string }{
		{"Push · all phones", "", "Push to all phones: "},
		{"Push · alice's phone", factor.Sid, "Push to alice's phone: "},
	} {
		l.rowOf(scope.row)
		for _, want := range []backendclient.PushFault{
			{Mode: backendclient.PushDrop},
			{Mode: backendclient.PushDelay, Delay: 10 * time.Second},
			{Mode: backendclient.PushDelay, Delay: 30 * time.Second},
			{Mode: backendclient.PushDelay, Delay: 2 * time.Minute},
			{Mode: backendclient.PushDelay, Delay: 10 * time.Minute},
			{Mode: backendclient.PushDuplicate},
		} {
			word := pushRuleWord(want)
			l.choose(word)
			want.FactorSid = scope.factorSid
			if got, ok := serverFaults(t, control).PushRule(scope.factorSid); !ok || got != want {
				t.Fatalf("%s: chose %s, the server has %+v (%v)", scope.row, word, got, ok)
			}
			l.shows("✓ "+scope.outcome+word, "POST /_pushsim/faults/push → 200")
		}
		l.choose("off")
		if got, ok := serverFaults(t, control).PushRule(scope.factorSid); ok {
			t.Fatalf("%s: chose off, the server still has %+v", scope.row, got)
		}
		l.shows("✓ " + scope.outcome + "off")
	}

	// A phone's own rule wins over the one for all phones; without one,
	// its row says it follows it.
	l.rowOf("Push · all phones")
	l.choose("drop")
	l.shows("Push · alice's phone drop (all)")
	l.press("esc")
	l.shows("Faults: push drop (all)")
	l.press("f")

	l.rowOf("Webhook sink")
	for _, want := range []backendclient.WebhookFault{
		{Mode: backendclient.WebhookStatus, Status: 500},
		{Mode: backendclient.WebhookStatus, Status: 503},
		{Mode: backendclient.WebhookStatus, Status: 429},
		{Mode: backendclient.WebhookTimeout},
		{Mode: backendclient.WebhookClose},
	} {
		word := webhookRuleWord(want)
		l.choose(word)
		if got := serverFaults(t, control).Webhook; got == nil || *got != want {
			t.Fatalf("chose %s, the server has %+v", word, got)
		}
		l.shows("✓ Webhook sink "+webhookOutcome(&want), "Webhook sink "+word, "POST /_pushsim/faults/webhook → 200")
	}

	l.rowOf("Server clock")
	l.press("enter") // the first choice, +10m
	l.idle()
	l.choose("+1h")
	clock, err := control.ServerClock(context.Background())
	if err != nil || clock.Offset != 70*time.Minute {
		t.Fatalf("after +10m and +1h the server's clock is %+v ahead (%v)", clock.Offset, err)
	}
	l.shows("✓ Server clock moved +1h: now +1h10m ahead", "Server clock +1h10m")

	l.rowOf("All faults off")
	l.shows("All faults off 2 on")
	l.press("enter")
	l.idle()
	if f := serverFaults(t, control); f.Any() {
		t.Fatalf("all off left %+v", f)
	}
	l.shows("✓ Every fault is off; the clock stays +1h10m", "All faults off none on")

	l.rowOf("Restart server")
	l.press("enter")
	l.until("the restart to be accepted", func() bool { return l.c.State().Restarting })
	l.shows("Restart server waiting…")
	l.until("the server to come back", func() bool { return !l.c.State().Restarting })
	l.shows("✓ Server restarted: back as generation 2")
	if h, err := control.Health(context.Background()); err != nil || h.Generation != 2 {
		t.Fatalf("health after the restart: %+v, %v", h, err)
	}
	if clock, _ := control.ServerClock(context.Background()); clock.Offset != 70*time.Minute {
		t.Fatalf("the restart lost the clock's offset: %s", clock.Offset)
	}

	l.rowOf("Push · all phones")
	l.choose("duplicate")
	l.rowOf("Reset server")
	l.press("enter")
	l.shows("Reset the server?", "n No")
	l.press("n")
	l.until("the question to go", func() bool { return l.c.panel.confirm == nil })
	if !serverFaults(t, control).Any() {
		t.Fatal("no cleared the faults")
	}
	l.press("enter")
	l.shows("Reset the server?")
	l.press("y")
	l.until("the server to come back", func() bool { return !l.c.State().Restarting && l.c.busy == "" })
	l.shows("✓ Server reset: back as generation 3, empty", "The phones still list their factors, which the server no longer knows",
		"To enroll a phone again: s, Reinstall app, then n.")
	if f := serverFaults(t, control); f.Any() {
		t.Fatalf("the reset left %+v", f)
	}
	if clock, _ := control.ServerClock(context.Background()); clock.Offset != 0 {
		t.Fatalf("the reset left the clock %s ahead", clock.Offset)
	}
	l.until("alice's factor to be gone", func() bool { return len(l.c.factors) == 0 && l.c.loaded })
	l.press("esc")
	if strings.Contains(l.screen(), "Faults:") {
		t.Fatalf("the console still shows faults after the reset:\n%s", l.screen())
	}
}

// TestFaultsChangedElsewhereShow: a fault a CI job switches on through
// the control API shows on the console at its next refresh, in the line
// that heads every view, and goes when it is switched off.
func TestFaultsChangedElsewhereShow(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	_, factor := enrollAlice(t, srv, "alice's phone")
	control := backendclient.New(srv.URL, srv.AccountSid, srv.Auth, http.DefaultClient, nil)
	l := newLiveConsole(t, srv.URL, srv.AccountSid, srv.Auth, boxW, boxH)
	l.until("alice's factor", func() bool { return len(l.c.factors) == 1 })

	ctx := context.Background()
	if _, err := control.SetPushFault(ctx, backendclient.PushFault{FactorSid: factor.Sid, Mode: backendclient.PushDelay, Delay: 45 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if _, err := control.SetWebhookFault(ctx, backendclient.WebhookFault{Mode: backendclient.WebhookTimeout}); err != nil {
		t.Fatal(err)
	}
	if _, err := control.AdvanceClock(ctx, 90*time.Second); err != nil {
		t.Fatal(err)
	}
	l.shows("Faults: push delay 45s (alice's phone) · webhook timeout · clock +1m30s")
	l.press("f")
	l.shows("Push · alice's phone delay 45s", "Webhook sink timeout", "Server clock +1m30s")

	if _, err := control.ClearFaults(ctx); err != nil {
		t.Fatal(err)
	}
	l.until("the faults to go", func() bool { return !strings.Contains(l.screen(), "delay 45s") })
	l.press("esc")
	l.shows("Faults: clock +1m30s")
}

// TestFailingWebhookShows: with the sink answering 500, an approved
// sign-in's webhook is counted as not accepted in the line at the top and
// listed with the status and the tries where there is room, until the
// fault is off and a retry gets through.
func TestFailingWebhookShows(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	dev, factor := enrollAlice(t, srv, "alice's phone")
	l := newLiveConsole(t, srv.URL, srv.AccountSid, srv.Auth, boxW, boxH)
	l.until("alice's factor", func() bool { return len(l.c.factors) == 1 })

	l.press("f")
	l.rowOf("Webhook sink")
	l.choose("500")
	l.press("esc", "i")
	l.until("the sign-in", func() bool { return l.c.State().Newest != "" })
	sid := l.c.State().Newest
	if _, err := dev.UpdateChallenge(context.Background(), factor.Sid, sid, verifyclient.ChallengeApproved); err != nil {
		t.Fatal(err)
	}
	// On a short pane the list may have no room for it; the line at the
	// top says it. The sink refuses every retry (the first comes a second
	// later), so the count may be past 1 by the time the console looks.
	refused := regexp.MustCompile(`Faults:webhook500,([1-9][0-9]*)refused`)
	l.until("the refused webhooks in the faults line", func() bool { return refused.MatchString(squeeze(l.screen())) })
	count := refused.FindStringSubmatch(squeeze(l.screen()))[1]
	requireWhole(t, inside(l.c), "Faults: webhook 500, "+count+" refused", "Webhooks")
	l.c.SetSize(boxW, 40)
	l.shows("! = not accepted", "! challenge.approved", "answered 500 · try")
	if !strings.Contains(l.screen(), "retrying") {
		t.Fatalf("a refused webhook does not say it is retried:\n%s", l.screen())
	}

	l.press("f")
	l.rowOf("Webhook sink")
	l.choose("ok")
	l.press("esc")
	l.shows("✓ challenge.approved", "✓ = valid signature")
	if strings.Contains(l.screen(), "! challenge.approved") {
		t.Fatalf("the webhook got through and is still listed as refused:\n%s", l.screen())
	}
}

// TestRefusedFaultSaysWhy: when the server refuses a change, the console
// says so in the server's words and keeps showing what is in force.
func TestRefusedFaultSaysWhy(t *testing.T) {
	refusal := `{"code":60200,"message":"Invalid parameter Mode: must be drop, delay, duplicate or off","more_info":"https://www.twilio.com/docs/errors/60200","status":400}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodPost && r.URL.Path == "/_pushsim/faults/push" {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(refusal))
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	c, _ := newTestConsole(t, srv.URL)
	c.SetSize(boxW, boxH)
	none := refreshed()
	none.Faults, none.Clock = &backendclient.Faults{}, &backendclient.ServerClock{}
	c.Update(none)
	c.Update(tuitest.Press("f"))
	c.Update(tuitest.Press("right"))
	c.Update(runFor[faultsChangedMsg](t, c.Update(tuitest.Press("enter"))))
	requireWhole(t, inside(c), "✗ Fault not changed",
		"400 · 60200 Invalid parameter Mode: must be drop, delay, duplicate or off",
		"POST /_pushsim/faults/push → 400", "Push · all phones off")
}

// A sign-in's note says what the push fault acting on its phone does: the
// phone's own rule wins over the one for all, and no fault, no note.
func TestSignInNoteNamesThePushFault(t *testing.T) {
	own, other := "YF"+strings.Repeat("1", 32), "YF"+strings.Repeat("2", 32)
	signIn := [][]backendclient.Challenge{{{Sid: "YC" + strings.Repeat("3", 32), FactorSid: own}}}
	for _, c := range []struct {
		name  string
		rules []backendclient.PushFault
		want  string
	}{
		{"none", nil, ""},
		{"another phone's", []backendclient.PushFault{{FactorSid: other, Mode: backendclient.PushDrop}}, ""},
		{"drop for all", []backendclient.PushFault{{Mode: backendclient.PushDrop}}, "push drop fault on: the phone finds it only by polling"},
		{"own delay over all's drop", []backendclient.PushFault{{Mode: backendclient.PushDrop}, {FactorSid: own, Mode: backendclient.PushDelay, Delay: 30 * time.Second}},
			"push delay fault on: it reaches the phone 30s late"},
		{"duplicate", []backendclient.PushFault{{FactorSid: own, Mode: backendclient.PushDuplicate}}, "push duplicate fault on: the phone gets it twice"},
	} {
		con := &Console{faults: backendclient.Faults{Push: c.rules}}
		if got := con.pushFaultNote(signIn); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
