package tui

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// tourBodyLines bounds a response body on a step's screen: the start of
// a resource says what it is; the HTTP log of the phone has the rest.
const tourBodyLines = 14

func (t *tour) View() string {
	w, h := panelInner(t.width, t.height)
	st := t.styles
	lines := t.screen(w)
	footer := shortHelp(st, []key.Binding{t.keys.NextStep, t.keys.PrevStep,
		key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "scroll")), t.keys.FocusNext, t.keys.Quit}, w)
	room := max(h-1, 0)
	t.scroll = min(t.scroll, max(len(lines)-room, 0))
	body := append(fitBlock(strings.Join(lines[t.scroll:], "\n"), w, room), footer)
	clean, zones := scanZones(panel(st, "Verify Push quickstart", body, t.width, t.height, t.focused))
	t.zones = zones
	return clean
}

// screen is the whole text of the screen on show, before scrolling.
func (t *tour) screen(w int) []string {
	st := t.styles
	wrap := func(s string) []string { return strings.Split(lipgloss.NewStyle().Width(w).Render(s), "\n") }
	switch t.at {
	case 0:
		lines := []string{st.Heading.Render("A guided tour, for real"), ""}
		lines = append(lines, wrap(st.Text.Render("Each screen is one step of Twilio's Verify Push Android quickstart, made against this server: "+
			"the tour plays your backend, with the account's credentials, and the phone on the right is the sample app."))...)
		lines = append(lines, "")
		lines = append(lines, wrap(st.Text.Render("Enter runs the next step and shows what it did on the wire. Tab moves to the phone."))...)
		return append(lines, "", t.nextButton("Start"))
	case t.end():
		lines := []string{st.Heading.Render("That is the whole quickstart"), ""}
		lines = append(lines, wrap(st.Text.Render("A service, a token, a factor created and verified, a webhook, a challenge pushed, "+
			"approved with a signature and reported back, signed. ← goes back over the steps."))...)
		lines = append(lines, "")
		lines = append(lines, wrap(st.Muted.Render("Run pushsim demo without --tour for the backend console: number matching, push bombing, several phones."))...)
		return lines
	}
	step, r := t.steps[t.at-1], t.results[t.at-1]
	lines := []string{
		t.progress() + " " + st.Muted.Render(fmt.Sprintf("Step %d of %d", t.at, len(t.steps))),
		st.Heading.Render(step.title),
		"",
	}
	lines = append(lines, wrap(st.Text.Render(step.text))...)
	lines = append(lines, "", t.stateLine(r))
	for _, n := range r.notes {
		lines = append(lines, wrapIndented("  "+n, w, 4, st.Text)...)
	}
	if r.err != nil {
		lines = append(lines, wrapIndented("  "+r.err.Error(), w, 4, st.ErrorDetail)...)
	}
	if r.state == stepDone && t.at < len(t.steps) {
		lines = append(lines, "", t.nextButton("Next: "+t.steps[t.at].title))
	} else if r.state == stepDone {
		lines = append(lines, "", t.nextButton("Finish"))
	}
	if len(r.exchanges) > 0 {
		lines = append(lines, "", st.Heading.Render("On the wire"))
		for _, e := range r.exchanges {
			lines = append(lines, t.exchangeView(e, w)...)
		}
	}
	return lines
}

// progress is a dot per step: done, failed, or still to come.
func (t *tour) progress() string {
	st := t.styles
	var b strings.Builder
	for i, r := range t.results {
		switch {
		case r.state == stepDone:
			b.WriteString(st.Toast.Render("●"))
		case r.state == stepFailed:
			b.WriteString(st.Error.Render("●"))
		case i+1 == t.at:
			b.WriteString(st.Cursor.Render("◉"))
		default:
			b.WriteString(st.Muted.Render("○"))
		}
	}
	return b.String()
}

func (t *tour) stateLine(r tourResult) string {
	st := t.styles
	switch r.state {
	case stepRunning:
		return st.Spinner.Render(t.spinner.View()) + " " + st.Text.Render("Running…")
	case stepWaiting:
		return st.Spinner.Render(t.spinner.View()) + " " + st.Text.Render("Waiting for the phone…")
	case stepFailed:
		return st.Error.Render("✗ Failed") + st.Muted.Render(" · enter tries again")
	case stepDone:
		return st.Toast.Render("✓ Done")
	}
	return ""
}

func (t *tour) nextButton(label string) string {
	return mark("tour:next", t.styles.Button.Focused.Render("enter  "+label+" ›"))
}

// exchangeView is one exchange as the tour shows it: the request line and
// its outcome, then what was sent and what came back, decoded as the
// phone's HTTP log decodes it.
func (t *tour) exchangeView(e LoggedExchange, w int) []string {
	st := t.styles
	outcome := st.Error.Render("no answer")
	if e.Err == nil {
		style := st.ChallengeStatus["approved"]
		if e.StatusCode >= 400 {
			style = st.Error
		}
		outcome = style.Render(fmt.Sprintf("%d %s", e.StatusCode, http.StatusText(e.StatusCode))) + st.Muted.Render(" · "+took(e.Duration))
	}
	target := requestPath(e.URL)
	if !strings.HasPrefix(e.URL, t.client.base+"/") {
		target = e.URL // another host: your backend's endpoint, say so
	}
	lines := []string{""}
	for _, l := range strings.Split(ansi.Hardwrap(e.Method+" "+target, w, true), "\n") {
		lines = append(lines, st.Strong.Render(l))
	}
	lines = append(lines, "→ "+outcome)
	for _, sec := range decodeExchange(e) {
		body := sec.lines
		switch sec.title {
		case "Request":
			continue // its first line is the request line above
		case "Response":
			if e.Err == nil { // the status line is shown above
				body = body[1:]
			}
			body = trimLines(body, tourBodyLines)
		}
		lines = append(lines, st.Label.Render(sec.title))
		for _, l := range body {
			for _, part := range strings.Split(ansi.Hardwrap(l, max(w-2, 1), true), "\n") {
				lines = append(lines, "  "+st.Text.Render(part))
			}
		}
	}
	return lines
}

func trimLines(lines []string, n int) []string {
	if len(lines) <= n {
		return lines
	}
	return append(lines[:n:n], fmt.Sprintf("… %d more lines", len(lines)-n))
}

// took is a duration as an exchange's outcome shows it.
func took(d time.Duration) string {
	if d < time.Millisecond {
		return "<1ms"
	}
	return d.Round(time.Millisecond).String()
}
