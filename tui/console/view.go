package console

import (
	"fmt"
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
	ch, open := c.openChallenge()
	switch {
	case c.showHelp:
		body = c.helpView(w, h)
	case c.panel != nil:
		body = c.faultsView(w, h)
	default:
		// The faults in force head the console's sections and a
		// challenge's detail: nobody forgets the server is broken.
		body = c.faultsLine(w)
		if open {
			body = append(body, c.detailView(ch, w, max(h-len(body), 0))...)
		} else {
			body = append(body, c.bodyView(w, max(h-len(body), 0))...)
		}
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
	top := gap(c.identityView(w))
	top = gap(append(top, c.actionsView(w)...))
	top = append(top, c.resultView(w)...)
	if code := c.codeView(w); code != "" {
		top = append(gap(top), code)
	}
	top = strings.Split(strings.Join(gap(top), "\n"), "\n") // rows that wrapped count as lines

	footer := style.ShortHelp(st, []key.Binding{c.com.Keys.SignIn, c.com.Keys.NumberMatch, c.com.Keys.PushBomb, c.com.Keys.FocusNext, c.com.Keys.Help}, w)
	left := max(h-len(top)-1, 0)
	// Each list keeps its heading. When both do not fit, the challenges
	// get the larger share, and at least their heading and one row when
	// there is room for that, in whole rows: half a row is no use.
	wantChallenges := 1 + 2*max(len(c.challenges), 1)
	wantWebhooks, leastWebhooks := c.webhooksHeight(w)
	challengeLines, webhookLines := wantChallenges, left-wantChallenges
	if wantChallenges+wantWebhooks > left {
		webhookLines = max(min(left*2/5, wantWebhooks), min(leastWebhooks, left/2))
		webhookLines = max(min(webhookLines, left-3), min(left, 1))
		challengeLines = left - webhookLines
		if challengeLines > 1 && challengeLines%2 == 0 {
			challengeLines, webhookLines = challengeLines-1, webhookLines+1
		}
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
// identity, as it is the one on the wire: beside its label when it fits
// there, else under it when it fits a line, else wrapped beside it.
func (c *Console) identityView(w int) []string {
	st := c.com.Styles
	row := func(label, value string) string { return style.Field(st, label, value, w) }
	const hint = "(SHA-256)"
	label := st.Label.Render(style.PadRight("Identity", style.LabelWidth))
	identity := label + st.Muted.Render("…")
	room := max(w-style.LabelWidth, 1)
	switch cells := ansi.StringWidth(c.hashed); {
	case c.hashed == "":
	case cells > room && cells+2 <= w:
		identity = label + st.Muted.Render(hint) + "\n  " + st.Text.Render(c.hashed)
	default:
		lines := style.Wrap(c.hashed, room)
		for i, l := range lines {
			lines[i] = st.Text.Render(l)
		}
		if last := len(lines) - 1; ansi.StringWidth(lines[last])+1+len(hint) <= room {
			lines[last] += " " + st.Muted.Render(hint)
		} else {
			lines = append(lines, st.Muted.Render(hint))
		}
		identity = label + strings.Join(lines, "\n"+strings.Repeat(" ", style.LabelWidth))
	}
	lines := []string{
		row("User", st.Strong.Render(c.user)),
		identity,
		row("Server", st.Text.Render(c.serverURL)),
	}
	if c.offline != nil {
		// Why the lists stopped refreshing, in the error's own words: the
		// address it could not reach and the cause.
		lines = append(lines, style.WrapIndented("✗ "+termtext.Line(c.offline.Error()), w, 2, st.Error)...)
	}
	return lines
}

func (c *Console) actionsView(w int) []string {
	st, k := c.com.Styles, c.com.Keys
	names := map[string]string{
		"signin": "Sign in", "number": "Sign in with number matching", "bomb": "Push bombing",
		"resend": "Resend push", "expire": "Expire now",
	}
	zones := []string{"signin", "number", "bomb", "resend", "expire"}
	buttons := func(order ...int) []string {
		var items []string
		for _, i := range order {
			b := k.ConsoleActions()[i]
			items = append(items, style.Mark("console:"+zones[i], st.Help.ShortKey.Render(b.Help().Key)+" "+st.Text.Render(names[zones[i]])))
		}
		return packLine(items, w)
	}
	lines := buttons(0, 1, 2, 3, 4)
	// A narrow console pairs the short names, the sign-in with push
	// bombing and resend with expire, when that saves a line for the
	// lists.
	if paired := buttons(0, 2, 1, 3, 4); len(paired) < len(lines) {
		lines = paired
	}
	faults := style.Mark("console:faults", st.Help.ShortKey.Render(k.Faults.Help().Key)+" "+st.Text.Render("Server faults"))
	return append([]string{style.Spread(st.Heading.Render("Actions"), faults, w)}, lines...)
}

// resultView is the last action's outcome, or the one in flight.
func (c *Console) resultView(w int) []string {
	st := c.com.Styles
	if c.busy != "" {
		// Beside the spinner, wrapped under it.
		var lines []string
		for i, part := range style.Wrap(c.busy, max(w-2, 1)) {
			lead := "  "
			if i == 0 {
				lead = st.Spinner.Render(c.spinner.View()) + " "
			}
			lines = append(lines, lead+st.Text.Render(part))
		}
		return append(lines, "")
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
	return append(lines, c.lastCallView(w)...)
}

// lastCallView is the action's last request on the wire and its answer,
// the path broken at '/' when it is long.
func (c *Console) lastCallView(w int) []string {
	st := c.com.Styles
	calls := c.client.Log().Entries()
	if len(calls) == 0 {
		return nil
	}
	e := calls[len(calls)-1]
	outcome := "no answer"
	if e.Err == nil {
		outcome = strconv.Itoa(e.StatusCode) + " · " + style.Took(e.Duration)
	}
	return style.WrapIndented("  "+e.Method+" "+termtext.Line(style.RequestPath(e.URL))+" → "+outcome, w, 4, st.Muted)
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
// left or its age, then its status, code, SID, phone and place. The row
// is a summary, its SID shortened and its end cut when the pane is
// narrow: enter opens the challenge under the cursor whole (detailView),
// which keeps every row two lines, so that a short pane still lists
// several.
func (c *Console) challengeRow(ch backendclient.Challenge, selected bool, w int) string {
	st := c.com.Styles
	now := c.serverNow()
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

// webhookRows are the webhook list's rows, newest first: the deliveries
// the sink did not accept (a fault makes it refuse them), then the
// webhooks it received about the user.
func (c *Console) webhookRows(w int) [][]string {
	var rows [][]string
	for _, d := range c.deliveries {
		rows = append(rows, c.deliveryRow(d, w))
	}
	for _, e := range c.ourEvents() {
		rows = append(rows, c.webhookRow(e, w))
	}
	return rows
}

// webhooksHeight is how many lines the webhook list needs to show every
// webhook, and to show the newest one.
func (c *Console) webhooksHeight(w int) (all, newest int) {
	rows := c.webhookRows(w)
	if len(rows) == 0 {
		return 2, 2
	}
	all = 1
	for _, r := range rows {
		all += len(r)
	}
	return all, 1 + len(rows[0])
}

// webhooksView lists the newest webhooks that fit, each with its subject
// whole (on a line of its own when the row is too narrow for it); the
// heading counts them when not all fit.
func (c *Console) webhooksView(w, lines int) []string {
	if lines <= 0 {
		return nil
	}
	st := c.com.Styles
	all := c.webhookRows(w)
	var rows []string
	shown := 0
	for _, row := range all {
		if 1+len(rows)+len(row) > lines {
			break
		}
		rows, shown = append(rows, row...), shown+1
	}
	if len(all) == 0 {
		rows = []string{st.Empty.Render("None yet.")}
	}
	// The legend explains the first mark listed: a refusal, or a valid
	// signature.
	legends := [3]string{"✓ = valid X-Twilio-Signature", "✓ = valid signature", "✓ valid"}
	if len(c.deliveries) > 0 {
		legends = [3]string{"! = not accepted by the sink", "! = not accepted", "! refused"}
	}
	heading := []struct{ title, legend string }{
		{"Webhooks", legends[0]},
		{"Webhooks", legends[1]},
	}
	switch {
	case shown == 0 && len(all) > 0: // no room for one: the legend would explain nothing
		heading = []struct{ title, legend string }{{"Webhooks", fmt.Sprintf("%d listed", len(all))}}
		if n := len(c.deliveries); n > 0 {
			heading = []struct{ title, legend string }{
				{"Webhooks", fmt.Sprintf("%d not accepted, %d received", n, len(all)-n)},
				{"Webhooks", fmt.Sprintf("%d not accepted", n)},
				{"Webhooks", fmt.Sprintf("%d refused", n)},
			}
		}
	case shown < len(all):
		heading = []struct{ title, legend string }{
			{fmt.Sprintf("Webhooks · newest %d of %d", shown, len(all)), legends[0]},
			{fmt.Sprintf("Webhooks · %d of %d", shown, len(all)), legends[1]},
			{fmt.Sprintf("Webhooks %d/%d", shown, len(all)), legends[1]},
			{fmt.Sprintf("Webhooks %d/%d", shown, len(all)), legends[2]},
		}
	}
	head := heading[len(heading)-1]
	for _, h := range heading {
		if ansi.StringWidth(h.title)+1+ansi.StringWidth(h.legend) <= w {
			head = h
			break
		}
	}
	out := append([]string{style.Spread(st.Heading.Render(head.title), st.Muted.Render(head.legend), w)}, rows...)
	return style.FitBlock(strings.Join(out, "\n"), w, lines)
}

// deliveryRow is a webhook the sink did not accept: its type, its last
// attempt, and what the sink did, in the delivery log's words, on two
// lines when they fit, so that it shows on a short pane.
func (c *Console) deliveryRow(d backendclient.Delivery, w int) []string {
	st := c.com.Styles
	at := st.Muted.Render(d.Updated.UTC().Format("15:04:05"))
	head := style.Spread(st.Error.Render("!")+" "+st.Text.Render(d.Type), at, w)
	what := "no answer (" + d.LastError + ")"
	if d.LastStatus != 0 {
		what = "answered " + strconv.Itoa(d.LastStatus)
	}
	if d.State == backendclient.DeliveryFailed {
		what += " · gave up after " + strconv.Itoa(d.Attempts)
	} else {
		what += " · try " + strconv.Itoa(d.Attempts) + ", retrying"
	}
	return append([]string{head}, style.WrapIndented("  "+what, w, 2, st.ErrorDetail)...)
}

// webhookRow is one webhook: whether its signature checks out, its type,
// when it came and what it is about.
func (c *Console) webhookRow(e backendclient.WebhookEvent, w int) []string {
	st := c.com.Styles
	sig := st.Toast.Render("✓")
	if !e.Valid {
		sig = st.Error.Render("✗")
	}
	at := st.Muted.Render(e.Received.UTC().Format("15:04:05"))
	one := sig + " " + st.Text.Render(style.PadRight(e.Type, 19)) + " " + st.Muted.Render(e.Subject())
	if ansi.StringWidth(one)+1+ansi.StringWidth(at) <= w {
		return []string{style.Spread(one, at, w)}
	}
	return append([]string{style.Spread(sig+" "+st.Text.Render(e.Type), at, w)}, style.WrapIndented("  "+e.Subject(), w, 2, st.Muted)...)
}

// helpView lists every key of the console and of the demo, laid out to
// the pane's width: the keys of the list, or of the faults panel when it
// is open, so that the help fits a short pane whole.
func (c *Console) helpView(w, h int) []string {
	st, k := c.com.Styles, c.com.Keys
	here := style.HelpGroup{Title: "Challenges", Bindings: []key.Binding{k.PickRow("a challenge"), k.Open, k.Back}}
	mouse := "Mouse: click an action, a challenge (again to open it) or a pane."
	if c.panel != nil {
		here = style.HelpGroup{Title: "Server faults", Bindings: []key.Binding{k.PickRow("a row"), k.Change, k.Apply, k.Back}}
		mouse = "Mouse: click a row or its ‹ ›."
	}
	lines := style.FullHelp(st, []style.HelpGroup{
		{Title: "Console keys", Bindings: k.ConsoleActions()},
		here,
		{Title: "Everywhere", Bindings: []key.Binding{k.FocusNext, k.FocusPrev, k.Help, k.Quit}},
	}, w)
	notes := style.WrapIndented(mouse, w, 0, st.Muted)
	notes = append(notes, style.WrapIndented("Press "+k.Help.Help().Key+" or "+k.Back.Help().Key+" to close.", w, 0, st.Muted)...)
	// The notes are set apart by a blank line when the pane has room.
	if len(lines)+1+len(notes) <= h {
		lines = append(lines, "")
	}
	return append(lines, notes...)
}
