package tour

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/internal/tourstage"
	"github.com/pushsim/pushsim/tui/style"
)

// tourBodyLines bounds a response body on a step's screen unless the
// presenter asks for whole bodies: the start of a resource says what it
// is.
const tourBodyLines = 14

func (t *Tour) View() string {
	w, h := style.PanelInner(t.width, t.height)
	st := t.com.Styles
	var lines []string
	if t.help {
		lines = t.helpScreen(w)
	} else {
		lines = t.screen(w)
	}
	footer := style.ShortHelp(st, t.footerKeys(), w)
	room := max(h-1, 0)
	t.scroll = min(t.scroll, max(len(lines)-room, 0))
	shown := lines[t.scroll:]
	if below := len(shown) - room; below > 0 && room > 1 {
		// Nothing goes unseen: the last row says how much is below.
		shown = append(shown[:room-1:room-1], st.Muted.Render(fmt.Sprintf("▼ %d more lines · %s", below+1, t.com.Keys.Scroll.Help().Key)))
	}
	body := append(style.FitBlock(strings.Join(shown, "\n"), w, room), footer)
	clean, zones := style.ScanZones(style.Panel(st, "Verify Push quickstart", body, t.width, t.height, t.focused))
	t.zones = zones
	return clean
}

// footerKeys are the keys that matter most on the screen shown, ending
// with help, which a narrow footer keeps: it leads to the rest.
func (t *Tour) footerKeys() []key.Binding {
	k := t.com.Keys
	switch {
	case t.help:
		return []key.Binding{k.CloseHelp} // which takes q too
	case t.offering():
		return []key.Binding{t.keys.ApproveForUser, k.FocusNext, k.Scroll, k.Quit, k.Help}
	}
	return []key.Binding{k.NextStep, k.PrevStep, k.Scroll, k.FocusNext, k.Quit, k.Help}
}

// helpScreen lists the tour's keys, each from the key map it lives in.
func (t *Tour) helpScreen(w int) []string {
	st, k := t.com.Styles, t.com.Keys
	bodies := t.keys.ExpandBodies
	if t.wholeBodies {
		bodies = t.keys.ShortenBodies
	}
	lines := []string{st.Heading.Render("Keys of the tour"), ""}
	lines = append(lines, style.FullHelp(st, []style.HelpGroup{
		{Title: "Steps", Bindings: []key.Binding{k.NextStep, k.PrevStep}},
		{Title: "Step 7, offering its choice", Bindings: []key.Binding{t.keys.ApproveForUser}},
		{Title: "Reading", Bindings: []key.Binding{k.Scroll, k.PageDown, k.PageUp, bodies}},
		{Title: "Panes", Bindings: []key.Binding{k.FocusNext, k.FocusPrev, k.CloseHelp, k.Quit}},
	}, w)...)
	lines = append(lines, "")
	return append(lines, wrap("The phone has its own keys: "+k.FocusNext.Help().Key+" to it and press "+k.Help.Help().Key+".", w, 0, st.Muted)...)
}

// screen is the whole text of the screen on show, before scrolling.
func (t *Tour) screen(w int) []string {
	st, k := t.com.Styles, t.com.Keys
	switch t.at {
	case 0:
		lines := []string{st.Heading.Render("A guided tour, for real"), ""}
		lines = append(lines, wrap("Each screen is one step of Twilio's Verify Push Android quickstart, made against this server: "+
			"the tour plays your backend, with the account's credentials, and the phone on the right is the sample app.", w, 0, st.Text)...)
		lines = append(lines, "")
		lines = append(lines, wrap(fmt.Sprintf("Press %s to run each step and see what it put on the wire; %s moves to the phone, %s lists the keys.",
			k.NextStep.Help().Key, k.FocusNext.Help().Key, k.Help.Help().Key), w, 0, st.Text)...)
		return append(append(lines, ""), t.button(w, "tour:next", k.NextStep.Help().Key+"  Start"+nbsp+"›")...)
	case t.end():
		lines := []string{st.Heading.Render("That is the whole quickstart"), ""}
		lines = append(lines, wrap(t.endCopy()+" "+k.PrevStep.Help().Key+" goes back over the steps.", w, 0, st.Text)...)
		lines = append(lines, "")
		lines = append(lines, wrap("Run pushsim demo without --tour for the backend console: number matching, push bombing, several phones.", w, 0, st.Muted)...)
		return lines
	}
	title, text := t.stepCopy(t.at)
	r := t.results[t.at-1]
	lines := []string{
		t.progress() + " " + st.Muted.Render(fmt.Sprintf("Step %d of %d", t.at, len(t.steps))),
	}
	lines = append(lines, wrap(title, w, 0, st.Heading)...)
	// What happened comes before why, so that on a small terminal the
	// outcome and the way on are on the first screen.
	lines = append(lines, "")
	lines = append(lines, t.stateLines(r, w)...)
	for _, n := range r.notes {
		lines = append(lines, wrap("  "+n, w, 4, st.Text)...)
	}
	if r.err != nil {
		lines = append(lines, wrap("  "+r.err.Error(), w, 4, st.ErrorDetail)...)
	}
	if r.state == StepDone {
		label := "Finish"
		if t.at < len(t.steps) {
			next, _ := t.stepCopy(t.at + 1)
			label = "Next: " + next
		}
		lines = append(lines, "")
		lines = append(lines, t.button(w, "tour:next", k.NextStep.Help().Key+"  "+label+nbsp+"›")...)
	}
	lines = append(lines, "")
	lines = append(lines, wrap(text, w, 0, st.Text)...)
	if len(r.exchanges) > 0 || r.webhook != nil {
		lines = append(lines, "", st.Heading.Render("On the wire"))
		if r.webhook != nil {
			lines = append(lines, t.webhookView(*r.webhook, w)...)
		}
		for _, e := range r.exchanges {
			lines = append(lines, t.exchangeView(e, heldFor(e, r.holds), w)...)
		}
	}
	return lines
}

// progress is a dot per step: done, failed, or still to come.
func (t *Tour) progress() string {
	st := t.com.Styles
	var b strings.Builder
	for i, r := range t.results {
		switch {
		case r.state == StepDone:
			b.WriteString(st.Toast.Render("●"))
		case r.state == StepFailed:
			b.WriteString(st.Error.Render("●"))
		case i+1 == t.at:
			b.WriteString(st.Cursor.Render("◉"))
		default:
			b.WriteString(st.Muted.Render("○"))
		}
	}
	return b.String()
}

// stateLines say how far the step got; step 7 offering its choice says
// what each choice does before any key acts.
func (t *Tour) stateLines(r tourResult, w int) []string {
	st, k := t.com.Styles, t.com.Keys
	spin := st.Spinner.Render(t.spinner.View()) + " "
	switch r.state {
	case StepRunning:
		return []string{spin + st.Text.Render("Running…")}
	case StepWaiting:
		if t.at == tourStepAnswer {
			return wrapSpans(w, 2, span{t.spinner.View() + " ", st.Spinner}, span{"Asked the phone to approve for the user…", st.Text}, span{t.expiry(), st.Muted})
		}
		return []string{spin + st.Text.Render("Waiting for the phone…")}
	case StepOffering:
		lines := wrapSpans(w, 2, span{"Your move", st.Strong}, span{t.expiry(), st.Muted})
		lines = append(lines, "")
		lines = append(lines, t.button(w, "tour:approve", t.keys.ApproveForUser.Help().Key+"  Approve for the user"+nbsp+"›")...)
		lines = append(lines, "")
		lines = append(lines, wrap(fmt.Sprintf("Or %s to the phone, open the challenge and press %s to approve or %s to deny, as the user would. Or answer nothing and let it expire.",
			k.FocusNext.Help().Key, k.Approve.Help().Key, k.Deny.Help().Key), w, 0, st.Text)...)
		return lines
	case StepFailed:
		return []string{st.Error.Render("✗ Failed") + st.Muted.Render(" · "+k.NextStep.Help().Key+" tries again")}
	case StepDone:
		return []string{st.Toast.Render("✓ Done")}
	}
	return nil
}

// expiry is how long the challenge has left, by the tour's clock.
func (t *Tour) expiry() string {
	if t.expires.IsZero() {
		return ""
	}
	return " · expires in " + style.Countdown(t.com.Clock(), t.expires)
}

// nbsp keeps a button's chevron with the word before it when the label
// wraps.
const nbsp = "\u00a0"

// button is a clickable label, wrapped rather than cut at narrow widths.
func (t *Tour) button(w int, zone, label string) []string {
	look := t.com.Styles.Button.Focused
	inner := max(w-look.GetHorizontalFrameSize(), 1)
	lines := wrap(label, inner, 0, lipgloss.NewStyle())
	wide := 0
	for _, l := range lines {
		wide = max(wide, ansi.StringWidth(l))
	}
	for i, l := range lines {
		lines[i] = look.Render(style.PadRight(strings.ReplaceAll(ansi.Strip(l), nbsp, " "), wide))
	}
	return strings.Split(style.Mark(zone, strings.Join(lines, "\n")), "\n")
}

// heldFor is how long the tour's stage held e before sending it on.
func heldFor(e device.LoggedExchange, holds []tourstage.Hold) time.Duration {
	for _, h := range holds {
		if h.Method == e.Method && style.RequestPath(h.URL) == style.RequestPath(e.URL) {
			return h.Held
		}
	}
	return 0
}

// exchangeView is one exchange as the tour shows it: the request line and
// its outcome, then what was sent and what came back, decoded as the
// phone's HTTP log decodes it. Time the tour held the request is not the
// server's, and is said apart.
func (t *Tour) exchangeView(e device.LoggedExchange, held time.Duration, w int) []string {
	st := t.com.Styles
	outcome := []span{{"→ ", st.Text}, {"no answer", st.Error}}
	if e.Err == nil {
		look := st.ChallengeStatus["approved"]
		if e.StatusCode >= 400 {
			look = st.Error
		}
		outcome = []span{{"→ ", st.Text}, {fmt.Sprintf("%d %s", e.StatusCode, http.StatusText(e.StatusCode)), look},
			{" · " + style.Took(max(e.Duration-held, 0)), st.Muted}}
		if held > 0 {
			outcome = append(outcome, span{fmt.Sprintf(" · held %.1f s by the tour", held.Seconds()), st.Muted})
		}
	}
	target := style.RequestPath(e.URL)
	if !strings.HasPrefix(e.URL, t.client.Base()+"/") {
		target = e.URL // another host: your backend's endpoint, say so
	}
	lines := []string{""}
	lines = append(lines, wrap(e.Method+" "+target, w, 0, st.Strong)...)
	lines = append(lines, wrapSpans(w, 2, outcome...)...)
	for _, sec := range style.DecodeExchange(e) {
		body := sec.Lines
		switch sec.Title {
		case "Request":
			continue // its first line is the request line above
		case "Response":
			if e.Err == nil { // the status line is shown above
				body = body[1:]
			}
			if !t.wholeBodies {
				body = t.trimLines(body, tourBodyLines)
			}
		}
		lines = append(lines, st.Label.Render(sec.Title))
		lines = append(lines, t.bodyLines(body, w)...)
	}
	return lines
}

// bodyLines indent a section's lines under its title; a wrapped line
// continues deeper than it starts.
func (t *Tour) bodyLines(body []string, w int) []string {
	var lines []string
	for _, l := range body {
		lead := len(l) - len(strings.TrimLeft(l, " "))
		lines = append(lines, wrap("  "+l, w, lead+4, t.com.Styles.Text)...)
	}
	return lines
}

// webhookView is the POST Verify made to your webhook, as the sink
// received it: where, the X-Twilio-Signature header and whether it checks
// out, and the form it signs.
func (t *Tour) webhookView(h Webhook, w int) []string {
	st := t.com.Styles
	target := h.URL
	if strings.HasPrefix(h.URL, t.client.Base()+"/") {
		target = style.RequestPath(h.URL)
	}
	lines := []string{""}
	lines = append(lines, wrap("POST "+target, w, 0, st.Strong)...)
	lines = append(lines, wrap("← from Verify, to your backend's webhook", w, 2, st.Muted)...)
	lines = append(lines, st.Label.Render("X-Twilio-Signature"))
	signature := h.Signature
	if signature == "" {
		signature = "(none)"
	}
	lines = append(lines, t.bodyLines([]string{signature}, w)...)
	if h.Valid {
		lines = append(lines, wrap("  ✓ checks out under your auth token", w, 4, st.ChallengeStatus["approved"])...)
	} else {
		lines = append(lines, wrap("  ✗ does not check out under your auth token", w, 4, st.Error)...)
	}
	lines = append(lines, wrap("Form, decoded, in the order the signature covers it", w, 0, st.Label)...)
	var form []string
	for _, name := range slices.Sorted(maps.Keys(h.Params)) {
		form = append(form, name+" = "+h.Params[name])
	}
	return append(lines, t.bodyLines(form, w)...)
}

// trimLines keeps the first n lines and says how to see the rest.
func (t *Tour) trimLines(lines []string, n int) []string {
	if len(lines) <= n {
		return lines
	}
	return append(lines[:n:n], fmt.Sprintf("… %d more lines: %s shows them", len(lines)-n, t.keys.ExpandBodies.Help().Key))
}
