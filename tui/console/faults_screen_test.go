package console

import (
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/pushsim/pushsim/internal/backendclient"
	"github.com/pushsim/pushsim/tui/internal/tuitest"
)

// twoPhones is what a refresh brings for a user with two phones, one of
// them with a name longer than the panel's line, and faults in force,
// among them a rule for a factor that is not the user's.
func twoPhones() RefreshedMsg {
	msg := refreshed()
	msg.Factors = append(msg.Factors, backendclient.Factor{Sid: "YF00000000000000000000000000000002",
		FriendlyName: "alice's second phone, the one in the drawer", Status: "verified"})
	msg.Faults = &backendclient.Faults{
		Push: []backendclient.PushFault{
			{Mode: backendclient.PushDrop},
			{FactorSid: "YF00000000000000000000000000000002", Mode: backendclient.PushDuplicate},
			{FactorSid: "YF0000000000000000000000000000000f", Mode: backendclient.PushDelay, Delay: 2 * time.Minute},
		},
		Webhook: &backendclient.WebhookFault{Mode: backendclient.WebhookClose},
	}
	msg.Clock = &backendclient.ServerClock{Offset: time.Hour + 10*time.Minute}
	return msg
}

// TestFaultsTextIsWholeAt80x24: at the size an 80×24 demo gives the
// console, the faults line names every fault whole (a factor that is not
// the user's by its whole SID), every row of the panel shows whole once
// the cursor reaches it, and so do the reset question, a restart's wait
// and the panel's help.
func TestFaultsTextIsWholeAt80x24(t *testing.T) {
	c, _ := newTestConsole(t, "http://127.0.0.1:9")
	c.SetSize(boxW, boxH)
	c.Update(twoPhones())
	requireWhole(t, inside(c), "Faults: push drop (all) · push duplicate (alice's second phone, the one in the drawer) · "+
		"push delay 2m (YF0000000000000000000000000000000f) · webhook close · clock +1h10m")

	c.Update(tuitest.Press("f"))
	rows := map[string]string{
		"Push · all phones":                                  "drop",
		"Push · alice's phone":                               "drop (all)",
		"Push · alice's second phone, the one in the drawer": "duplicate",
		"Webhook sink":                                       "close",
		"Server clock":                                       "+1h10m",
		"All faults off":                                     "4 on",
		"Restart server":                                     "enter restarts it; the phones reconnect, faults and clock stay",
		"Reset server":                                       "enter deletes all its data, after asking",
	}
	seen := 0
	for range len(c.faultRows()) {
		row := c.faultRows()[c.panel.cursor]
		want, ok := rows[row.label]
		if !ok {
			t.Fatalf("unexpected row %q", row.label)
		}
		requireWhole(t, inside(c), "▸ "+row.label+" "+want)
		seen++
		c.Update(tuitest.Press("down"))
	}
	if seen != len(rows) {
		t.Fatalf("%d rows, want %d", seen, len(rows))
	}

	c.Update(tuitest.Press("enter"))
	requireWhole(t, inside(c), "Reset the server?", "Deletes every service, factor and challenge; only the account stays. "+
		"Faults go off and the clock goes back. The phones keep their factors, which the server will no longer know.", "y Yes n No")
	c.Update(tuitest.Press("esc"))

	c.Update(restartedMsg{answer: backendclient.Restarting{Status: "restarting", Generation: 7}})
	requireWhole(t, inside(c), "Restarting: waiting for the server to answer as generation 7…", "Restart server waiting…")
	c.Update(healthMsg{health: backendclient.Health{Status: "ok", Generation: 7}})
	requireWhole(t, inside(c), "✓ Server restarted: back as generation 7",
		"faults and the clock kept; the phones reconnect their push sockets by themselves")

	c.Update(tuitest.Press("?"))
	requireWhole(t, inside(c), "f server faults", "Server faults", "pick a row", "←/→ change", "enter apply", "esc back",
		"Mouse: click a row or its ‹ ›.", "Press ? or esc to close.")
}

// TestFaultsPanelChoicesAreTheServers: a row shows the server's state; a
// choice moved with the arrows is only a choice until applied, and is
// forgotten when the cursor leaves its row; the cursor keeps its row when
// a factor comes or goes.
func TestFaultsPanelChoicesAreTheServers(t *testing.T) {
	c, _ := newTestConsole(t, "http://127.0.0.1:9")
	c.SetSize(boxW, boxH)
	msg := twoPhones()
	c.Update(msg)
	c.Update(tuitest.Press("f"))
	c.Update(tuitest.Press("right")) // drop → delay 10s, not applied
	requireWhole(t, inside(c), "▸ Push · all phones drop", "‹ delay 10s › enter applies")
	c.Update(tuitest.Press("down"))
	c.Update(tuitest.Press("up"))
	requireWhole(t, inside(c), "▸ Push · all phones drop", "‹ drop ›")

	for c.faultRows()[c.panel.cursor].kind != rowWebhook {
		c.Update(tuitest.Press("down"))
	}
	msg.Factors = msg.Factors[:1]
	c.Update(msg)
	requireWhole(t, inside(c), "▸ Webhook sink close")
}

// TestOlderRefreshDoesNotUndoAChange: a refresh that began before a
// change landed reads the faults of before; the console keeps the
// change's answer, and the next refresh's reading.
func TestOlderRefreshDoesNotUndoAChange(t *testing.T) {
	c, _ := newTestConsole(t, "http://127.0.0.1:9")
	c.SetSize(boxW, boxH)
	stale := refreshed()
	stale.Faults, stale.Clock = &backendclient.Faults{}, &backendclient.ServerClock{}
	c.refresh() // begun with the faults of before
	c.Update(tuitest.Press("f"))
	c.Update(tuitest.Press("right"))
	c.Update(tuitest.Press("enter"))
	c.Update(faultsChangedMsg{faults: backendclient.Faults{Push: []backendclient.PushFault{{Mode: backendclient.PushDrop}}}, outcome: func(backendclient.Faults) string { return "Push to all phones: drop" }})
	stale.controlSeq = 0
	c.Update(stale)
	if got := c.State().Faults; got != "push drop (all)" {
		t.Fatalf("a refresh older than the change undid it: faults %q", got)
	}
	fresh := stale
	fresh.controlSeq = c.controlSeq
	c.Update(fresh)
	if got := c.State().Faults; got != "" {
		t.Fatalf("a refresh begun after the change was not believed: faults %q", got)
	}
}

// TestRestartThatNeverEnds: a server that does not answer as the
// generation it announced is given up on, and the console says so with
// the last error, instead of spinning for ever.
func TestRestartThatNeverEnds(t *testing.T) {
	c, _ := newTestConsole(t, "http://127.0.0.1:9")
	c.SetSize(boxW, boxH)
	c.Update(tuitest.Press("f"))
	c.Update(restartedMsg{answer: backendclient.Restarting{Status: "restarting", Generation: 2}})
	refused := errors.New("dial tcp 127.0.0.1:9: connect: connection refused")
	for i := 0; c.State().Restarting; i++ {
		if i > restartPolls {
			t.Fatalf("still waiting after %d looks", i)
		}
		if cmd := c.Update(healthMsg{err: refused}); cmd == nil && c.State().Restarting {
			t.Fatal("waiting without looking again")
		}
	}
	requireWhole(t, inside(c), "✗ The server did not come back as generation 2 within 30s",
		"dial tcp 127.0.0.1:9: connect: connection refused")
	if c.State().Busy != "" {
		t.Fatalf("still busy: %q", c.State().Busy)
	}
}

// TestFaultsPanelScrolls: on a pane too short for every row, the heading
// says rows are below or above, and the cursor's row is always drawn.
func TestFaultsPanelScrolls(t *testing.T) {
	c, _ := newTestConsole(t, "http://127.0.0.1:9")
	c.SetSize(boxW, 12)
	c.Update(twoPhones())
	c.Update(tuitest.Press("f"))
	requireWhole(t, inside(c), "Server faults ↓ more esc back", "▸ Push · all phones drop")
	c.Update(tuitest.Press("G"))
	requireWhole(t, inside(c), "Server faults ↑ more esc back", "▸ Reset server")
	// The program draws after every key; so does the test.
	c.Update(tuitest.Press("g"))
	for range 3 {
		inside(c)
		c.Update(tuitest.Press("down"))
	}
	requireWhole(t, inside(c), "Server faults ↑↓ more esc back", "▸ Webhook sink close")
}

// click clicks the middle of the zone called name, as the last frame
// drew it.
func click(t *testing.T, c *Console, name string) tea.Cmd {
	t.Helper()
	inside(c)
	for _, z := range c.zones {
		if z.Name == name {
			return c.Update(tea.MouseClickMsg{X: (z.X0 + z.X1) / 2, Y: z.Y0, Button: tea.MouseLeft})
		}
	}
	t.Fatalf("no zone %q on screen:\n%s", name, strings.Join(inside(c), "\n"))
	return nil
}

// TestFaultsPanelTakesClicks: the Actions heading's link opens the panel;
// a row's arrows step its choice and its hint applies it.
func TestFaultsPanelTakesClicks(t *testing.T) {
	c, _ := newTestConsole(t, "http://127.0.0.1:9")
	c.SetSize(boxW, boxH)
	c.Update(twoPhones())
	click(t, c, "console:faults")
	requireWhole(t, inside(c), "Server faults")
	click(t, c, "faults:more:3") // the webhook sink: close → ok, round the end
	requireWhole(t, inside(c), "▸ Webhook sink close", "‹ ok › enter applies")
	click(t, c, "faults:less:3")
	click(t, c, "faults:less:3")
	requireWhole(t, inside(c), "‹ timeout › enter applies")
	cmd := click(t, c, "faults:apply:3")
	if cmd == nil || c.State().Busy == "" {
		t.Fatal("the click on the hint applied nothing")
	}
}
