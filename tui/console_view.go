package tui

import (
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/pushsim/pushsim/device/verifyclient"
)

// View draws the console in its box and records where its buttons and
// rows landed, for the next click.
func (c *console) View() string {
	w, h := panelInner(c.width, c.height)
	var body []string
	if c.showHelp {
		body = c.helpView()
	} else {
		body = c.bodyView(w, h)
	}
	clean, zones := scanZones(panel(c.styles, "App backend", body, c.width, c.height, c.focused))
	// Zones are found in the framed text, so they are already relative to
	// the console's box.
	c.zones = zones
	return clean
}

// bodyView stacks the console's sections; the two live lists share what
// is left, and the key help keeps the last line.
func (c *console) bodyView(w, h int) []string {
	st := c.styles
	// On a short terminal the sections go without blank lines between.
	gap := func(lines []string) []string {
		if h >= consoleRoomyHeight {
			return append(lines, "")
		}
		return lines
	}
	top := gap(c.identityView(w, h >= consoleRoomyHeight))
	top = gap(append(top, c.actionsView(w)...))
	top = append(top, c.resultView(w)...)
	if code := c.codeView(w); code != "" {
		top = append(gap(top), code)
	}
	top = strings.Split(strings.Join(gap(top), "\n"), "\n") // rows that wrapped count as lines

	footer := shortHelp(st, []key.Binding{c.keys.SignIn, c.keys.NumberMatch, c.keys.PushBomb, c.keys.FocusNext, c.keys.Help}, w)
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
	if challengeLines == wantChallenges && h >= consoleRoomyHeight {
		body = append(body, "")
		webhookLines--
	}
	body = append(body, c.webhooksView(w, webhookLines)...)
	return append(fitBlock(strings.Join(body, "\n"), w, h-1), footer)
}

// identityView is who signs in and what Verify knows them as: the whole
// identity when there is room, as it is the one on the wire.
func (c *console) identityView(w int, whole bool) []string {
	st := c.styles
	row := func(label, value string) string { return field(st, label, value, w) }
	const hint = " (SHA-256)"
	hashed := st.Muted.Render("…")
	switch {
	case c.hashed != "" && whole:
		room := max(w-labelWidth, 16)
		parts := strings.Split(ansi.Hardwrap(c.hashed+hint, room, true), "\n")
		for i, p := range parts {
			parts[i] = st.Text.Render(p)
		}
		hashed = strings.Join(parts, "\n"+strings.Repeat(" ", labelWidth))
	case c.hashed != "":
		hashed = st.Text.Render(shorten(c.hashed, max(w-labelWidth-len(hint), 12))) + st.Muted.Render(hint)
	}
	lines := []string{
		row("User", st.Strong.Render(c.user)),
		st.Label.Render(padRight("Identity", labelWidth)) + hashed,
		row("Server", st.Text.Render(c.serverURL)),
	}
	if c.offline != nil {
		lines = append(lines, fitLine(st.Error.Render("✗ "+c.offline.Error()), w))
	}
	return lines
}

func (c *console) actionsView(w int) []string {
	st, k := c.styles, c.keys
	names := map[string]string{
		"signin": "Sign in", "number": "Sign in with number matching", "bomb": "Push bombing",
		"resend": "Resend push", "expire": "Expire now",
	}
	var items []string
	for i, zone := range []string{"signin", "number", "bomb", "resend", "expire"} {
		b := k.consoleActions()[i]
		items = append(items, mark("console:"+zone, st.Help.ShortKey.Render(b.Help().Key)+" "+st.Text.Render(names[zone])))
	}
	return append([]string{st.Heading.Render("Actions")}, packLine(items, w)...)
}

// resultView is the last action's outcome, or the one in flight.
func (c *console) resultView(w int) []string {
	st := c.styles
	if c.busy != "" {
		return []string{st.Spinner.Render(c.spinner.View()) + " " + st.Text.Render(c.busy), ""}
	}
	r := c.result
	if r.text == "" {
		return []string{st.Muted.Render("Press s to sign in as " + c.user + "."), ""}
	}
	head, detail := st.Toast, st.Muted
	icon := "✓ "
	if r.failed {
		head, icon = st.Error, "✗ "
	}
	if r.failed || r.refused {
		detail = st.ErrorDetail
	}
	// Results wrap rather than lose their end: a refusal's reason is there.
	lines := wrapIndented(icon+r.text, w, 2, head)
	if r.detail != "" {
		lines = append(lines, wrapIndented("  "+r.detail, w, 2, detail)...)
	}
	if call := c.lastCallView(w); call != "" {
		lines = append(lines, call)
	}
	return lines
}

// lastCallView is the action's last request on the wire and its answer.
func (c *console) lastCallView(w int) string {
	st := c.styles
	calls := c.client.log.Entries()
	if len(calls) == 0 {
		return ""
	}
	e := calls[len(calls)-1]
	outcome := "no answer"
	if e.Err == nil {
		outcome = itoa(e.StatusCode) + " · " + took(e.Duration)
	}
	return fitLine(st.Muted.Render("  "+e.Method+" "+requestPath(e.URL)+" → "+outcome), w)
}

// wrapIndented wraps plain text to width, continuing lines indent cells
// in, and styles each line.
func wrapIndented(text string, width, indent int, st lipgloss.Style) []string {
	lines := strings.Split(ansi.Wrap(text, max(width, 1), ""), "\n")
	for i, l := range lines {
		if i > 0 {
			l = strings.Repeat(" ", indent) + strings.TrimLeft(l, " ")
		}
		lines[i] = fitLine(st.Render(l), width)
	}
	return lines
}

// codeView is what the sign-in page shows beside "check your phone" for
// the latest number-matching sign-in, with how it went.
func (c *console) codeView(w int) string {
	if c.code == "" {
		return ""
	}
	st := c.styles
	status := ""
	for _, ch := range c.challenges {
		if ch.code() == c.code {
			status = c.statusWord(ch)
			break
		}
	}
	line := st.Label.Render("Sign-in page shows ") + st.Button.Focused.Render(c.code)
	right := st.statusStyle(status).Render(status)
	if status == verifyclient.ChallengePending && w >= 46 {
		right = st.Text.Render("type it on the phone")
	}
	return spread(line, right, w)
}

// statusWord is how the console names a challenge's state.
func (c *console) statusWord(ch backendChallenge) string {
	if ch.Status == verifyclient.ChallengeExpired && ch.RespondedReason == respondedNotNeeded {
		return "not needed"
	}
	return ch.Status
}

func (c *console) challengesView(w, lines int) []string {
	if lines <= 0 {
		return nil
	}
	st := c.styles
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
	out := []string{spread(st.Heading.Render("Challenges"), right, w)}
	switch {
	case !c.loaded:
		out = append(out, st.Muted.Render("Loading…"))
	case len(c.challenges) == 0:
		out = append(out, st.Empty.Render("None yet."))
	default:
		c.list.height = lines - 1
		c.follow()
		start, end := c.list.window(len(c.challenges))
		for i := start; i < end; i++ {
			ch := c.challenges[i]
			out = append(out, mark("console:challenge:"+ch.Sid, c.challengeRow(ch, i == c.list.cursor, w)))
		}
	}
	return fitBlock(strings.Join(out, "\n"), w, lines)
}

// challengeRow is one challenge in two lines: its message with the time
// left or its age, then its status, code, SID and phone.
func (c *console) challengeRow(ch backendChallenge, selected bool, w int) string {
	st := c.styles
	now := c.clock()
	status := c.statusWord(ch)
	cursor, msgStyle := "  ", st.Text
	if selected {
		cursor, msgStyle = st.Cursor.Render("▸ "), st.Selected
	}
	right := st.Muted.Render(ch.DateCreated.UTC().Format("15:04:05"))
	if ch.Status == verifyclient.ChallengePending {
		right = st.Countdown.Render(countdown(now, ch.ExpirationDate))
	}
	first := spread(cursor+msgStyle.Render(ch.Details.Message), right, w)
	info := []string{st.statusStyle(ch.Status).Render(status)}
	if code := ch.code(); code != "" {
		info = append(info, st.Strong.Render("#"+code))
	}
	info = append(info, st.Muted.Render(shorten(ch.Sid, 14)))
	if len(c.factors) > 1 {
		info = append(info, st.Muted.Render(c.factorName(ch.FactorSid)))
	}
	if where := ch.field("Location"); where != "" {
		info = append(info, st.Muted.Render(where))
	}
	second := "    " + strings.Join(info, st.Muted.Render(" · "))
	return fitLine(first, w) + "\n" + fitLine(second, w)
}

func (c *console) factorName(sid string) string {
	for _, f := range c.factors {
		if f.Sid == sid {
			return f.FriendlyName
		}
	}
	return shorten(sid, 12)
}

// ourEvents are the webhooks about the demo's user, newest first: the sink
// serves a whole service, and a shared server has other users.
func (c *console) ourEvents() []webhookEvent {
	var out []webhookEvent
	for i := len(c.events) - 1; i >= 0; i-- {
		e := c.events[i]
		if c.hashed == "" || e.Params["entity_identity"] == c.hashed {
			out = append(out, e)
		}
	}
	return out
}

func (c *console) webhooksView(w, lines int) []string {
	if lines <= 0 {
		return nil
	}
	st := c.styles
	events := c.ourEvents()
	legend := "✓ = valid signature"
	if w >= 50 {
		legend = "✓ = valid X-Twilio-Signature"
	}
	out := []string{spread(st.Heading.Render("Webhooks"), st.Muted.Render(legend), w)}
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
		row := sig + " " + st.Text.Render(padRight(e.Type, 19)) + " " + st.Muted.Render(shorten(e.subject(), 14))
		if w >= 46 { // the time goes first when room is short
			row = spread(row, st.Muted.Render(e.Received.UTC().Format("15:04:05")), w)
		}
		out = append(out, fitLine(row, w))
	}
	return fitBlock(strings.Join(out, "\n"), w, lines)
}

// helpView lists every key of the console and of the demo.
func (c *console) helpView() []string {
	st, k := c.styles, c.keys
	entry := func(b key.Binding) string {
		return "  " + st.Help.FullKey.Render(padRight(b.Help().Key, 11)) + st.Help.FullDesc.Render(b.Help().Desc)
	}
	lines := []string{st.Heading.Render("Console keys")}
	for _, b := range k.consoleActions() {
		lines = append(lines, entry(b))
	}
	lines = append(lines, "  "+st.Help.FullKey.Render(padRight("↑↓ jk", 11))+st.Help.FullDesc.Render("pick a challenge"), "",
		st.Heading.Render("Everywhere"), entry(k.FocusNext), entry(k.FocusPrev), entry(k.Help), entry(k.Quit), "",
		st.Muted.Render("Mouse: click an action, a challenge or a pane."),
		st.Muted.Render("Press ? or esc to close."))
	return lines
}
