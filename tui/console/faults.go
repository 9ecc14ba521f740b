package console

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/pushsim/pushsim/internal/backendclient"
)

// The faults panel switches the server's failures on and off through the
// control API, so that a tester can walk the failure paths by hand: pushes
// lost, late or doubled (for every phone or one), the webhook sink failing,
// the server's clock moved on, the server restarted or reset. It shows
// what the server says is in force, never what was asked for: each row's
// state comes from the faults the server answered, and a choice only
// reaches the server when it is applied.

// faultRowKind is what a row of the faults panel switches.
type faultRowKind int

const (
	rowPush faultRowKind = iota
	rowWebhook
	rowClock
	rowAllOff
	rowRestart
	rowReset
)

// faultRow is one row: a push row is for one factor, or with factorSid
// empty for every factor.
type faultRow struct {
	kind      faultRowKind
	factorSid string
	label     string
}

// id names the row across refreshes, which may add or remove factors.
func (r faultRow) id() string { return strconv.Itoa(int(r.kind)) + ":" + r.factorSid }

// The choices each row cycles through. Push delays span a phone that
// shows a push a little late to one whose challenge expired first (a
// challenge lives five minutes).
var (
	pushChoices = []backendclient.PushFault{
		{Mode: backendclient.FaultOff},
		{Mode: backendclient.PushDrop},
		{Mode: backendclient.PushDelay, Delay: 10 * time.Second},
		{Mode: backendclient.PushDelay, Delay: 30 * time.Second},
		{Mode: backendclient.PushDelay, Delay: 2 * time.Minute},
		{Mode: backendclient.PushDelay, Delay: 10 * time.Minute},
		{Mode: backendclient.PushDuplicate},
	}
	webhookChoices = []backendclient.WebhookFault{
		{Mode: backendclient.FaultOff},
		{Mode: backendclient.WebhookStatus, Status: 500},
		{Mode: backendclient.WebhookStatus, Status: 503},
		{Mode: backendclient.WebhookStatus, Status: 429},
		{Mode: backendclient.WebhookTimeout},
		{Mode: backendclient.WebhookClose},
	}
	clockSteps = []time.Duration{time.Minute, 10 * time.Minute, time.Hour}
)

// defaultClockStep is the clock row's choice until moved: past a challenge's
// five minutes, so one advance expires what is pending.
const defaultClockStep = 1

// restartPollEvery and restartPolls bound the wait for a restarted server:
// it answers health again as the next generation within a second or two.
const (
	restartPollEvery = 200 * time.Millisecond
	restartPolls     = 150
)

// faultPanel is the open panel: the row under the cursor and, once the
// arrows moved it away from the server's state, that row's choice. A
// choice not applied is forgotten when the cursor leaves its row, so that
// no row shows a choice the server does not have but the one in hand.
type faultPanel struct {
	cursor int
	at     string // the id of the row under the cursor
	offset int    // the first row drawn
	// moved says the arrows moved the cursor row's choice to choice.
	moved  bool
	choice int
	// confirm asks before a reset; it takes every key until answered.
	confirm *confirmDialog
}

// follow keeps the cursor on its row as factors come and go.
func (p *faultPanel) follow(rows []faultRow) {
	for i, r := range rows {
		if r.id() == p.at {
			p.cursor = i
			return
		}
	}
	p.cursor = min(max(p.cursor, 0), len(rows)-1)
	p.at, p.moved = rows[p.cursor].id(), false
}

// moveTo puts the cursor on row i, forgetting a choice left behind.
func (p *faultPanel) moveTo(rows []faultRow, i int) {
	if rows[i].id() != p.at {
		p.moved = false
	}
	p.cursor, p.at = i, rows[i].id()
}

// restartWait is a restart or reset the server accepted, until it answers
// health as the generation it announced.
type restartWait struct {
	reset      bool
	generation int
	polls      int
}

// faultRows are the panel's rows: push for every phone, then for each of the
// user's factors, then the webhook sink, the clock and the server.
func (c *Console) faultRows() []faultRow {
	rows := []faultRow{{kind: rowPush, label: "Push · all phones"}}
	for _, f := range c.factors {
		name := f.FriendlyName
		if name == "" {
			name = f.Sid
		}
		rows = append(rows, faultRow{kind: rowPush, factorSid: f.Sid, label: "Push · " + name})
	}
	return append(rows,
		faultRow{kind: rowWebhook, label: "Webhook sink"},
		faultRow{kind: rowClock, label: "Server clock"},
		faultRow{kind: rowAllOff, label: "All faults off"},
		faultRow{kind: rowRestart, label: "Restart server"},
		faultRow{kind: rowReset, label: "Reset server"},
	)
}

// choices is how many choices a row cycles through, none for the rows
// that only act.
func (r faultRow) choices() int {
	switch r.kind {
	case rowPush:
		return len(pushChoices)
	case rowWebhook:
		return len(webhookChoices)
	case rowClock:
		return len(clockSteps)
	}
	return 0
}

// pick is the row's choice: the one the user moved to, else the one the
// server is in.
func (c *Console) pick(r faultRow) int {
	if p := c.panel; p != nil && p.moved && p.at == r.id() {
		return p.choice
	}
	switch r.kind {
	case rowPush:
		rule, ok := c.faults.PushRule(r.factorSid)
		if !ok {
			return 0
		}
		rule.FactorSid = ""
		if i := slices.Index(pushChoices, rule); i >= 0 {
			return i
		}
	case rowWebhook:
		if c.faults.Webhook == nil {
			return 0
		}
		if i := slices.Index(webhookChoices, *c.faults.Webhook); i >= 0 {
			return i
		}
	case rowClock:
		return defaultClockStep
	}
	return 0
}

// openFaults shows the panel, the cursor on its first row.
func (c *Console) openFaults() {
	c.detailOpen = false
	c.panel = &faultPanel{}
}

// faultsKey handles a key while the panel is open, and reports whether it
// took it.
func (c *Console) faultsKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	p, k := c.panel, c.com.Keys
	if p.confirm != nil {
		return c.confirmKey(msg), true
	}
	rows := c.faultRows()
	p.follow(rows)
	row := rows[p.cursor]
	switch {
	case key.Matches(msg, k.Back):
		c.panel = nil
	case key.Matches(msg, k.Up):
		p.moveTo(rows, max(p.cursor-1, 0))
	case key.Matches(msg, k.Down):
		p.moveTo(rows, min(p.cursor+1, len(rows)-1))
	case key.Matches(msg, k.Home, k.PageUp):
		p.moveTo(rows, 0)
	case key.Matches(msg, k.End, k.PageDown):
		p.moveTo(rows, len(rows)-1)
	case key.Matches(msg, k.Left):
		c.step(row, -1)
	case key.Matches(msg, k.Right):
		c.step(row, +1)
	case key.Matches(msg, k.Apply):
		return c.applyRow(row), true
	default:
		return nil, false
	}
	return nil, true
}

// step moves a row's choice, round the ends.
func (c *Console) step(r faultRow, dir int) {
	n := r.choices()
	if n == 0 {
		return
	}
	choice := (c.pick(r) + dir + n) % n
	c.panel.moved, c.panel.choice = true, choice
}

// faultsClick handles a click on the panel: a row takes the cursor, its
// arrows step its choice.
func (c *Console) faultsClick(zone string) tea.Cmd {
	p := c.panel
	if p.confirm != nil {
		return c.confirmClick(zone)
	}
	name, arg, _ := strings.Cut(strings.TrimPrefix(zone, "faults:"), ":")
	i, err := strconv.Atoi(arg)
	rows := c.faultRows()
	if !strings.HasPrefix(zone, "faults:") || err != nil || i < 0 || i >= len(rows) {
		return nil
	}
	p.moveTo(rows, i)
	switch name {
	case "less":
		c.step(rows[i], -1)
	case "more":
		c.step(rows[i], +1)
	case "apply":
		return c.applyRow(rows[i])
	}
	return nil
}

// applyRow sends the row's choice to the server, or for reset asks first.
func (c *Console) applyRow(r faultRow) tea.Cmd {
	choice := c.pick(r)
	switch r.kind {
	case rowPush:
		rule := pushChoices[choice]
		rule.FactorSid = r.factorSid
		return c.changeFaults("Setting the push fault…", func(ctx context.Context, client *backendclient.Client) (backendclient.Faults, error) {
			return client.SetPushFault(ctx, rule)
		}, func(f backendclient.Faults) string { return c.pushOutcome(r, f) })
	case rowWebhook:
		rule := webhookChoices[choice]
		return c.changeFaults("Setting the webhook fault…", func(ctx context.Context, client *backendclient.Client) (backendclient.Faults, error) {
			return client.SetWebhookFault(ctx, rule)
		}, func(f backendclient.Faults) string { return "Webhook sink " + webhookOutcome(f.Webhook) })
	case rowAllOff:
		return c.changeFaults("Turning every fault off…", func(ctx context.Context, client *backendclient.Client) (backendclient.Faults, error) {
			return client.ClearFaults(ctx)
		}, func(f backendclient.Faults) string {
			if f.Any() {
				return "Faults still on: " + strings.Join(c.faultWords(f, 0, 0), " · ")
			}
			if c.clockOffset != 0 {
				return "Every fault is off; the clock stays " + signed(c.clockOffset)
			}
			return "Every fault is off"
		})
	case rowClock:
		return c.advanceClock(clockSteps[choice])
	case rowRestart:
		return c.restart(false)
	case rowReset:
		c.panel.confirm = &confirmDialog{
			question: "Reset the server?",
			detail: "Deletes every service, factor and challenge; only the account stays. " +
				"Faults go off and the clock goes back. The phones keep their factors, which the server will no longer know.",
			yes: func() tea.Cmd { return c.restart(true) },
		}
	}
	return nil
}

// faultsChangedMsg is the server's answer to a change of faults: the
// faults now in force, and how to word them, which reads the console's
// state and so runs in Update, not in the background.
type faultsChangedMsg struct {
	faults  backendclient.Faults
	outcome func(backendclient.Faults) string
	err     error
}

// changeFaults runs call in the background; outcome words the faults it
// answers.
func (c *Console) changeFaults(busy string, call func(context.Context, *backendclient.Client) (backendclient.Faults, error), outcome func(backendclient.Faults) string) tea.Cmd {
	spin, ok := c.begin(busy)
	if !ok {
		return nil
	}
	c.controlSeq++ // a refresh already under way reads what was before
	client, parent := c.client, c.com.Context
	return tea.Batch(spin, func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, requestTimeout)
		defer cancel()
		f, err := call(ctx, client)
		return faultsChangedMsg{faults: f, outcome: outcome, err: err}
	})
}

func (c *Console) faultsChanged(msg faultsChangedMsg) tea.Cmd {
	c.busy = ""
	if msg.err != nil {
		c.fail("Fault not changed", msg.err)
		return nil
	}
	c.faults, c.controlKnown, c.controlErr = shownFaults(msg.faults), true, nil
	c.forgetPicks()
	// What else is in force is in the faults line and the panel's rows.
	c.succeed(msg.outcome(c.faults), "")
	return c.refresh()
}

// forgetPicks lets every row show the server's state again after a change
// the server answered.
func (c *Console) forgetPicks() {
	if c.panel != nil {
		c.panel.moved = false
	}
}

// pushOutcome says what a push row's change left in force for its scope.
func (c *Console) pushOutcome(r faultRow, f backendclient.Faults) string {
	if r.factorSid == "" {
		return "Push to all phones: " + pushWord(f, "")
	}
	return "Push to " + c.factorLabel(r.factorSid) + ": " + pushWord(f, r.factorSid)
}

// clockMovedMsg is the server's clock after an advance.
type clockMovedMsg struct {
	by    time.Duration
	clock backendclient.ServerClock
	err   error
}

func (c *Console) advanceClock(by time.Duration) tea.Cmd {
	spin, ok := c.begin("Moving the server's clock…")
	if !ok {
		return nil
	}
	c.controlSeq++
	client, parent := c.client, c.com.Context
	return tea.Batch(spin, func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, requestTimeout)
		defer cancel()
		clock, err := client.AdvanceClock(ctx, by)
		return clockMovedMsg{by: by, clock: clock, err: err}
	})
}

func (c *Console) clockMoved(msg clockMovedMsg) tea.Cmd {
	c.busy = ""
	if msg.err != nil {
		c.fail("Clock not moved", msg.err)
		return nil
	}
	c.clockOffset = msg.clock.Offset
	c.succeed("Server clock moved "+signed(msg.by)+": now "+signed(msg.clock.Offset)+" ahead",
		"the server reads "+msg.clock.Now.UTC().Format("15:04:05")+" UTC")
	return c.refresh()
}

// restartedMsg is the server's answer to a restart or a reset.
type restartedMsg struct {
	reset  bool
	answer backendclient.Restarting
	err    error
}

// healthMsg is one look at a restarting server.
type healthMsg struct {
	health backendclient.Health
	err    error
}

func (c *Console) restart(reset bool) tea.Cmd {
	label := "Restarting the server…"
	if reset {
		label = "Resetting the server…"
	}
	spin, ok := c.begin(label)
	if !ok {
		return nil
	}
	c.controlSeq++
	client, parent := c.client, c.com.Context
	return tea.Batch(spin, func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, requestTimeout)
		defer cancel()
		var msg restartedMsg
		msg.reset = reset
		if reset {
			msg.answer, msg.err = client.Reset(ctx)
		} else {
			msg.answer, msg.err = client.Restart(ctx)
		}
		return msg
	})
}

func (c *Console) restarted(msg restartedMsg) tea.Cmd {
	if msg.err != nil {
		c.busy = ""
		verb := "Restart"
		if msg.reset {
			verb = "Reset"
		}
		c.fail(verb+" refused", msg.err)
		return nil
	}
	c.waiting = &restartWait{reset: msg.reset, generation: msg.answer.Generation}
	c.busy = fmt.Sprintf("Restarting: waiting for the server to answer as generation %d…", msg.answer.Generation)
	return c.pollHealth(0)
}

// pollHealth asks the server's health after wait.
func (c *Console) pollHealth(wait time.Duration) tea.Cmd {
	client, parent := c.client, c.com.Context
	look := func(time.Time) tea.Msg {
		ctx, cancel := context.WithTimeout(parent, requestTimeout)
		defer cancel()
		h, err := client.Health(ctx)
		return healthMsg{health: h, err: err}
	}
	if wait == 0 {
		return func() tea.Msg { return look(time.Time{}) }
	}
	return tea.Tick(wait, look)
}

func (c *Console) healthAnswered(msg healthMsg) tea.Cmd {
	w := c.waiting
	if w == nil {
		return nil
	}
	w.polls++
	if msg.err != nil || msg.health.Generation < w.generation {
		if w.polls < restartPolls {
			return c.pollHealth(restartPollEvery)
		}
		c.waiting, c.busy = nil, ""
		why := fmt.Errorf("health answered generation %d", msg.health.Generation)
		if msg.err != nil {
			why = msg.err
		}
		c.fail(fmt.Sprintf("The server did not come back as generation %d within %s", w.generation, restartPollEvery*restartPolls), why)
		return nil
	}
	c.waiting, c.busy = nil, ""
	if w.reset {
		c.resends, c.withdrawn, c.matching, c.selected = map[string]int{}, map[string]bool{}, nil, ""
		c.faults, c.clockOffset, c.deliveries = backendclient.Faults{}, 0, nil
		k := c.com.Keys
		c.succeed(fmt.Sprintf("Server reset: back as generation %d, empty", msg.health.Generation),
			"faults off, clock on time. The phones still list their factors, which the server no longer knows: "+
				"their polls are refused (401). To enroll a phone again: "+k.Settings.Help().Key+", Reinstall app, then "+k.Create.Help().Key+".")
	} else {
		c.succeed(fmt.Sprintf("Server restarted: back as generation %d", msg.health.Generation),
			"faults and the clock kept; the phones reconnect their push sockets by themselves")
	}
	return c.refresh()
}

// factorLabel is a factor as the panel names it: its friendly name when
// it is one of the user's, else its SID.
func (c *Console) factorLabel(sid string) string {
	if name := c.knownFactorName(sid); name != "" {
		return name
	}
	return sid
}

// pushWord is the push fault in force for a scope, as a row shows it.
func pushWord(f backendclient.Faults, factorSid string) string {
	if rule, ok := f.PushRule(factorSid); ok {
		return pushRuleWord(rule)
	}
	if factorSid != "" {
		if all, ok := f.PushRule(""); ok {
			return pushRuleWord(all) + " (all)"
		}
	}
	return "off"
}

// pushFaultNote says what the push faults in force do to a sign-in's
// pushes, so that "pushed" is not read as "on the phone": the push service
// took them, and the fault acts after that. Empty when no fault touches
// them.
func (c *Console) pushFaultNote(attempts [][]backendclient.Challenge) string {
	for _, group := range attempts {
		for _, ch := range group {
			rule, _ := c.faults.PushRuleFor(ch.FactorSid)
			switch rule.Mode {
			case backendclient.PushDrop:
				return "push drop fault on: the phone finds it only by polling"
			case backendclient.PushDelay:
				return "push delay fault on: it reaches the phone " + shortDuration(rule.Delay) + " late"
			case backendclient.PushDuplicate:
				return "push duplicate fault on: the phone gets it twice"
			}
		}
	}
	return ""
}

func pushRuleWord(r backendclient.PushFault) string {
	switch r.Mode {
	case backendclient.FaultOff:
		return "off"
	case backendclient.PushDelay:
		return "delay " + shortDuration(r.Delay)
	}
	return r.Mode
}

// webhookWord is the sink's fault, or ok.
func webhookWord(w *backendclient.WebhookFault) string {
	if w == nil {
		return "ok"
	}
	return webhookRuleWord(*w)
}

// webhookOutcome says what the sink does now, after a change.
func webhookOutcome(w *backendclient.WebhookFault) string {
	switch {
	case w == nil || w.Mode == backendclient.FaultOff:
		return "answers normally"
	case w.Mode == backendclient.WebhookStatus:
		return "answers " + strconv.Itoa(w.Status) + " to every webhook"
	case w.Mode == backendclient.WebhookTimeout:
		return "never answers: webhooks time out"
	case w.Mode == backendclient.WebhookClose:
		return "closes the connection unanswered"
	}
	return "fault: " + w.Mode
}

func webhookRuleWord(w backendclient.WebhookFault) string {
	switch w.Mode {
	case backendclient.FaultOff:
		return "ok"
	case backendclient.WebhookStatus:
		return strconv.Itoa(w.Status)
	}
	return w.Mode
}

// faultWords are the faults in force, and the clock when it was moved,
// each a few words: "push drop (all)", "webhook 500", "clock +10m". The
// webhooks the sink refused are a fault's doing too, and the webhook list
// may have no room for them on a short pane: "webhook 500, 2 refused".
func (c *Console) faultWords(f backendclient.Faults, offset time.Duration, refused int) []string {
	var words []string
	for _, r := range f.Push {
		scope := "all"
		if r.FactorSid != "" {
			scope = c.factorLabel(r.FactorSid)
		}
		words = append(words, "push "+pushRuleWord(r)+" ("+scope+")")
	}
	switch {
	case f.Webhook != nil && refused > 0:
		words = append(words, "webhook "+webhookRuleWord(*f.Webhook)+", "+strconv.Itoa(refused)+" refused")
	case f.Webhook != nil:
		words = append(words, "webhook "+webhookRuleWord(*f.Webhook))
	case refused > 0:
		words = append(words, "webhooks "+strconv.Itoa(refused)+" refused")
	}
	if offset != 0 {
		words = append(words, "clock "+signed(offset))
	}
	return words
}

// signed is a duration with its sign, shortened: +10m, +1h30m.
func signed(d time.Duration) string {
	if d < 0 {
		return "-" + shortDuration(-d)
	}
	return "+" + shortDuration(d)
}

// shortDuration drops a Go duration's zero tails: 10m rather than 10m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
