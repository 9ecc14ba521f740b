package console

import (
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"github.com/charmbracelet/x/ansi"

	"github.com/pushsim/pushsim/device/verifyclient"
	"github.com/pushsim/pushsim/internal/backendclient"
	"github.com/pushsim/pushsim/internal/termtext"
	"github.com/pushsim/pushsim/tui/style"
)

// View draws the console in its box and records where its buttons and
// rows landed, for the next click.
func (c *Console) View() string {
	w, h := style.PanelInner(c.width, c.height)
	var body []string
	if c.showHelp {
		body = c.helpView()
	} else {
		body = c.bodyView(w, h)
	}
	clean, zones := style.ScanZones(style.Panel(c.com.Styles, "App backend", body, c.width, c.height, c.focused))
	// Zones are found in the framed text, so they are already relative to
	// the console's box.
	c.zones = zones
	return termtext.Frame(clean)
}

// bodyView stacks the console's sections; the two live lists share what
// is left, and the key help keeps the last line.
func (c *Console) bodyView(w, h int) []string {
	st := c.com.Styles
	// On a short terminal the sections go without blank lines between.
	gap := func(lines []string) []string {
		if h >= roomyHeight {
			return append(lines, "")
		}
		return lines
	}
	top := gap(c.identityView(w, h >= roomyHeight))
	top = gap(append(top, c.actionsView(w)...))
	top = append(top, c.resultView(w)...)
	if code := c.codeView(w); code != "" {
		top = append(gap(top), code)
	}
	top = strings.Split(strings.Join(gap(top), "\n"), "\n") // rows that wrapped count as lines

	footer := style.ShortHelp(st, []key.Binding{c.com.Keys.SignIn, c.com.Keys.NumberMatch, c.com.Keys.PushBomb, c.com.Keys.FocusNext, c.com.Keys.Help}, w)
	left := max(h-len(top)-1, 0)
	// Each list keeps its heading. When both do not fit, the challenges
	// get the larger share.
	wantChallenges := 1 + 2*max(len(c.challenges), 1)
	wantWebhooks := 1 + max(len(c.ourEvents()), 1)
	challengeLines, webhookLines := wantChallenges, left-wantChallenges
	if wantChallenges+wantWebhooks > left {
		webhookLines = max(min(left*2/5, wantWebhooks), min(3, left/2))
		challengeLines = left - webhookLines
	}
	body := append(top, c.challengesView(w, challengeLines)...)
	if challengeLines == wantChallenges && h >= roomyHeight {
		body = append(body, "")
		webhookLines--
	}
	body = append(body, c.webhooksView(w, webhookLines)...)
	return append(style.FitBlock(strings.Join(body, "\n"), w, h-1), footer)
}

// identityView is who signs in and what Verify knows them as: the whole
// identity when there is room, as it is the one on the wire.
func (c *Console) identityView(w int, whole bool) []string {
	st := c.com.Styles
	row := func(label, value string) string { return style.Field(st, label, value, w) }
	const hint = " (SHA-256)"
	hashed := st.Muted.Render("…")
	switch {
	case c.hashed != "" && whole:
		room := max(w-style.LabelWidth, 16)
		parts := strings.Split(ansi.Hardwrap(c.hashed+hint, room, true), "\n")
		for i, p := range parts {
			parts[i] = st.Text.Render(p)
		}
		hashed = strings.Join(parts, "\n"+strings.Repeat(" ", style.LabelWidth))
	case c.hashed != "":
		hashed = st.Text.Render(style.Shorten(c.hashed, max(w-style.LabelWidth-len(hint), 12))) + st.Muted.Render(hint)
	}
	lines := []string{
		row("User", st.Strong.Render(c.user)),
		st.Label.Render(style.PadRight("Identity", style.LabelWidth)) + hashed,
		row("Server", st.Text.Render(c.serverURL)),
	}
	if c.offline != nil {
		lines = append(lines, style.FitLine(st.Error.Render("✗ "+termtext.Line(c.offline.Error())), w))
	}
	return lines
}

func (c *Console) actionsView(w int) []string {
	st, k := c.com.Styles, c.com.Keys
	names := map[string]string{
		"signin": "Sign in", "number": "Sign in with number matching", "bomb": "Push bombing",
		"resend": "Resend push", "expire": "Expire now",
	}
	var items []string
	for i, zone := range []string{"signin", "number", "bomb", "resend", "expire"} {
		b := k.ConsoleActions()[i]
		items = append(items, style.Mark("console:"+zone, st.Help.ShortKey.Render(b.Help().Key)+" "+st.Text.Render(names[zone])))
	}
	return append([]string{st.Heading.Render("Actions")}, packLine(items, w)...)
}

// resultView is the last action's outcome, or the one in flight.
func (c *Console) resultView(w int) []string {
	st := c.com.Styles
	if c.busy != "" {
		return []string{st.Spinner.Render(c.spinner.View()) + " " + st.Text.Render(c.busy), ""}
	}
	r := c.result
	if r.text == "" {
		return []string{st.Muted.Render("Press " + c.com.Keys.SignIn.Help().Key + " to sign in as " + c.user + "."), ""}
	}
	head, detail := st.Toast, st.Muted
	icon := "✓ "
	if r.failed {
		head, icon = st.Error, "✗ "
	}
	if r.failed || r.refused {
		detail = st.ErrorDetail
	}
	// Results wrap rather than lose their end: a refusal's reason is
	// there, in the server's words, so made safe for the terminal.
	lines := style.WrapIndented(icon+termtext.Line(r.text), w, 2, head)
	if r.detail != "" {
		lines = append(lines, style.WrapIndented("  "+termtext.Line(r.detail), w, 2, detail)...)
	}
	if call := c.lastCallView(w); call != "" {
		lines = append(lines, call)
	}
	return lines
}

// lastCallView is the action's last request on the wire and its answer.
func (c *Console) lastCallView(w int) string {
	st := c.com.Styles
	calls := c.client.Log().Entries()
	if len(calls) == 0 {
		return ""
	}
	e := calls[len(calls)-1]
	outcome := "no answer"
	if e.Err == nil {
		outcome = strconv.Itoa(e.StatusCode) + " · " + style.Took(e.Duration)
	}
	return style.FitLine(st.Muted.Render("  "+e.Method+" "+termtext.Line(style.RequestPath(e.URL))+" → "+outcome), w)
}

// codeView is what the sign-in page shows beside "check your phone" while
// the latest sign-in is a number-matching one, and for a moment after it
// was answered, how it went.
func (c *Console) codeView(w int) string {
	n := c.shownSignIn()
	if n == nil {
		return ""
	}
	st := c.com.Styles
	status := n.status(c)
	label := "Sign-in page shows "
	if !n.settledAt.IsZero() {
		label = "Sign-in page showed "
	}
	line := st.Label.Render(label) + st.Button.Focused.Render(n.code)
	right := st.StatusStyle(status).Render(status)
	if status == verifyclient.ChallengePending && w >= 46 {
		right = st.Text.Render("type it on the phone")
	}
	return style.Spread(line, right, w)
}

// statusWord is how the console names a challenge's state.
func (c *Console) statusWord(ch backendclient.Challenge) string {
	if ch.Status == verifyclient.ChallengeExpired && ch.RespondedReason == respondedNotNeeded {
		return "not needed"
	}
	return ch.Status
}

func (c *Console) challengesView(w, lines int) []string {
	if lines <= 0 {
		return nil
	}
	st := c.com.Styles
	pending := 0
	for _, ch := range c.challenges {
		if ch.Status == verifyclient.ChallengePending {
			pending++
		}
	}
	right := ""
	if pending > 0 {
		right = st.ChallengeStatus["pending"].Render(strconv.Itoa(pending) + " pending")
	}
	out := []string{style.Spread(st.Heading.Render("Challenges"), right, w)}
	switch {
	case !c.loaded:
		out = append(out, st.Muted.Render("Loading…"))
	case len(c.challenges) == 0:
		out = append(out, st.Empty.Render("None yet."))
	default:
		c.list.Height = lines - 1
		c.follow()
		start, end := c.list.Window(len(c.challenges))
		for i := start; i < end; i++ {
			ch := c.challenges[i]
			out = append(out, style.Mark("console:challenge:"+ch.Sid, c.challengeRow(ch, i == c.list.Cursor, w)))
		}
	}
	return style.FitBlock(strings.Join(out, "\n"), w, lines)
}

// challengeRow is one challenge in two lines: its message with the time
// left or its age, then its status, code, SID and phone.
func (c *Console) challengeRow(ch backendclient.Challenge, selected bool, w int) string {
	st := c.com.Styles
	now := c.com.Clock()
	status := c.statusWord(ch)
	cursor, msgStyle := "  ", st.Text
	if selected {
		cursor, msgStyle = st.Cursor.Render("▸ "), st.Selected
	}
	right := st.Muted.Render(ch.DateCreated.UTC().Format("15:04:05"))
	if ch.Status == verifyclient.ChallengePending {
		right = st.Countdown.Render(style.Countdown(now, ch.ExpirationDate))
	}
	first := style.Spread(cursor+msgStyle.Render(ch.Details.Message), right, w)
	info := []string{st.StatusStyle(ch.Status).Render(status)}
	if code := ch.Code(); code != "" {
		info = append(info, st.Strong.Render("#"+code))
	}
	info = append(info, st.Muted.Render(style.Shorten(ch.Sid, 14)))
	if len(c.factors) > 1 {
		info = append(info, st.Muted.Render(c.factorName(ch.FactorSid)))
	}
	if where := ch.Field("Location"); where != "" {
		info = append(info, st.Muted.Render(where))
	}
	second := "    " + strings.Join(info, st.Muted.Render(" · "))
	return style.FitLine(first, w) + "\n" + style.FitLine(second, w)
}

func (c *Console) factorName(sid string) string {
	for _, f := range c.factors {
		if f.Sid == sid {
			return f.FriendlyName
		}
	}
	return style.Shorten(sid, 12)
}

// ourEvents are the webhooks about the demo's user, newest first: the sink
// serves a whole service, and a shared server has other users.
func (c *Console) ourEvents() []backendclient.WebhookEvent {
	var out []backendclient.WebhookEvent
	for i := len(c.events) - 1; i >= 0; i-- {
		e := c.events[i]
		if c.hashed == "" || e.Params["entity_identity"] == c.hashed {
			out = append(out, e)
		}
	}
	return out
}

func (c *Console) webhooksView(w, lines int) []string {
	if lines <= 0 {
		return nil
	}
	st := c.com.Styles
	events := c.ourEvents()
	legend := "✓ = valid signature"
	if w >= 50 {
		legend = "✓ = valid X-Twilio-Signature"
	}
	out := []string{style.Spread(st.Heading.Render("Webhooks"), st.Muted.Render(legend), w)}
	if len(events) == 0 {
		out = append(out, st.Empty.Render("None yet."))
	}
	for _, e := range events {
		if len(out) >= lines {
			break
		}
		sig := st.Toast.Render("✓")
		if !e.Valid {
			sig = st.Error.Render("✗")
		}
		row := sig + " " + st.Text.Render(style.PadRight(e.Type, 19)) + " " + st.Muted.Render(style.Shorten(e.Subject(), 14))
		if w >= 46 { // the time goes first when room is short
			row = style.Spread(row, st.Muted.Render(e.Received.UTC().Format("15:04:05")), w)
		}
		out = append(out, style.FitLine(row, w))
	}
	return style.FitBlock(strings.Join(out, "\n"), w, lines)
}

// helpView lists every key of the console and of the demo.
func (c *Console) helpView() []string {
	st, k := c.com.Styles, c.com.Keys
	entry := func(b key.Binding) string {
		return "  " + st.Help.FullKey.Render(style.PadRight(b.Help().Key, 11)) + st.Help.FullDesc.Render(b.Help().Desc)
	}
	lines := []string{st.Heading.Render("Console keys")}
	for _, b := range k.ConsoleActions() {
		lines = append(lines, entry(b))
	}
	lines = append(lines, "  "+st.Help.FullKey.Render(style.PadRight("↑↓ jk", 11))+st.Help.FullDesc.Render("pick a challenge"), "",
		st.Heading.Render("Everywhere"), entry(k.FocusNext), entry(k.FocusPrev), entry(k.Help), entry(k.Quit), "",
		st.Muted.Render("Mouse: click an action, a challenge or a pane."),
		st.Muted.Render("Press ? or esc to close."))
	return lines
}
