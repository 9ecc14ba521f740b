package tour

import (
	"fmt"
	"net/http"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/tui/style"
)

// tourBodyLines bounds a response body on a step's screen: the start of
// a resource says what it is; the HTTP log of the phone has the rest.
const tourBodyLines = 14

func (t *Tour) View() string {
	w, h := style.PanelInner(t.width, t.height)
	st := t.com.Styles
	lines := t.screen(w)
	footer := style.ShortHelp(st, []key.Binding{t.com.Keys.NextStep, t.com.Keys.PrevStep,
		t.com.Keys.Scroll, t.com.Keys.FocusNext, t.com.Keys.Quit}, w)
	room := max(h-1, 0)
	t.scroll = min(t.scroll, max(len(lines)-room, 0))
	body := append(style.FitBlock(strings.Join(lines[t.scroll:], "\n"), w, room), footer)
	clean, zones := style.ScanZones(style.Panel(st, "Verify Push quickstart", body, t.width, t.height, t.focused))
	t.zones = zones
	return clean
}

// screen is the whole text of the screen on show, before scrolling.
func (t *Tour) screen(w int) []string {
	st := t.com.Styles
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
		lines = append(lines, style.WrapIndented("  "+n, w, 4, st.Text)...)
	}
	if r.err != nil {
		lines = append(lines, style.WrapIndented("  "+r.err.Error(), w, 4, st.ErrorDetail)...)
	}
	if r.state == StepDone && t.at < len(t.steps) {
		lines = append(lines, "", t.nextButton("Next: "+t.steps[t.at].title))
	} else if r.state == StepDone {
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

func (t *Tour) stateLine(r tourResult) string {
	st := t.com.Styles
	switch r.state {
	case StepRunning:
		return st.Spinner.Render(t.spinner.View()) + " " + st.Text.Render("Running…")
	case StepWaiting:
		return st.Spinner.Render(t.spinner.View()) + " " + st.Text.Render("Waiting for the phone…")
	case StepFailed:
		return st.Error.Render("✗ Failed") + st.Muted.Render(" · enter tries again")
	case StepDone:
		return st.Toast.Render("✓ Done")
	}
	return ""
}

func (t *Tour) nextButton(label string) string {
	return style.Mark("tour:next", t.com.Styles.Button.Focused.Render("enter  "+label+" ›"))
}

// exchangeView is one exchange as the tour shows it: the request line and
// its outcome, then what was sent and what came back, decoded as the
// phone's HTTP log decodes it.
func (t *Tour) exchangeView(e device.LoggedExchange, w int) []string {
	st := t.com.Styles
	outcome := st.Error.Render("no answer")
	if e.Err == nil {
		look := st.ChallengeStatus["approved"]
		if e.StatusCode >= 400 {
			look = st.Error
		}
		outcome = look.Render(fmt.Sprintf("%d %s", e.StatusCode, http.StatusText(e.StatusCode))) + st.Muted.Render(" · "+style.Took(e.Duration))
	}
	target := style.RequestPath(e.URL)
	if !strings.HasPrefix(e.URL, t.client.Base()+"/") {
		target = e.URL // another host: your backend's endpoint, say so
	}
	lines := []string{""}
	for _, l := range strings.Split(ansi.Hardwrap(e.Method+" "+target, w, true), "\n") {
		lines = append(lines, st.Strong.Render(l))
	}
	lines = append(lines, "→ "+outcome)
	for _, sec := range style.DecodeExchange(e) {
		body := sec.Lines
		switch sec.Title {
		case "Request":
			continue // its first line is the request line above
		case "Response":
			if e.Err == nil { // the status line is shown above
				body = body[1:]
			}
			body = trimLines(body, tourBodyLines)
		}
		lines = append(lines, st.Label.Render(sec.Title))
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
