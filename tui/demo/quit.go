package demo

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/pushsim/pushsim/tui/style"
)

// Quitting. Every pane may end the program (q on the console, on a phone,
// in the tour) and each decides for itself when q means quit (not in a
// text field, say). The demo lets them and guards the quit itself, as
// Bubble Tea's prevent-quit example does: a filter on the program turns a
// quit into a question while quitting would lose something, and lets it
// through once the user said yes.

// askQuitMsg is a quit held back to ask first.
type askQuitMsg struct{}

// programOptions are what the demo needs of the program that runs it.
func (d *Model) programOptions() []tea.ProgramOption {
	return []tea.ProgramOption{tea.WithFilter(d.filterQuit)}
}

// filterQuit holds back a quit that would lose something and asks first.
// It runs on the program's goroutine, as Update does.
func (d *Model) filterQuit(_ tea.Model, msg tea.Msg) tea.Msg {
	if _, ok := msg.(tea.QuitMsg); ok && !d.quitting && len(d.losses()) > 0 {
		return askQuitMsg{}
	}
	return msg
}

// losses says what quitting now would lose: nothing when the demo's state
// outlives it and no tour is half way.
func (d *Model) losses() []string {
	var out []string
	switch {
	case d.opts.DeleteFactorsOnExit:
		out = append(out, "The phones' factors are deleted from the server and their keys with the demo's temporary directory.")
	case d.opts.TemporaryHome:
		pending := 0
		for _, p := range d.phones {
			pending += p.State().Badge
		}
		what := "The server's data and the phones' keys are in a temporary directory, deleted on quit"
		if pending > 0 {
			what += fmt.Sprintf(", with the %d %s still waiting for an answer", pending, plural(pending, "challenge"))
		}
		out = append(out, what+". pushsim demo --data DIR keeps them.")
	}
	if d.tour != nil {
		if p := d.tour.Progress(); p.At >= 1 && p.At <= len(p.Steps) {
			out = append(out, fmt.Sprintf("The tour is at step %d of %d; next time it starts again from the beginning.", p.At, len(p.Steps)))
		}
	}
	return out
}

func plural(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}

// quitDialog asks whether to quit, saying what would be lost. It takes
// every key and click until it is answered; No has focus at first, so a
// stray Enter keeps the demo.
type quitDialog struct {
	losses []string
	onYes  bool
}

// openQuit asks, unless there is nothing left to lose by now.
func (d *Model) openQuit() tea.Cmd {
	losses := d.losses()
	if len(losses) == 0 {
		d.quitting = true
		return tea.Quit
	}
	d.quit = &quitDialog{losses: losses}
	return nil
}

// answerQuit closes the dialog, quitting on yes.
func (d *Model) answerQuit(yes bool) tea.Cmd {
	d.quit = nil
	if !yes {
		return nil
	}
	d.quitting = true
	return tea.Quit
}

func (d *Model) quitKey(msg tea.KeyPressMsg) tea.Cmd {
	k := d.keys
	switch {
	case key.Matches(msg, k.ForceQuit, k.Yes):
		return d.answerQuit(true)
	case key.Matches(msg, k.No):
		return d.answerQuit(false)
	case key.Matches(msg, k.Confirm):
		return d.answerQuit(d.quit.onYes)
	case key.Matches(msg, k.Left, k.Right, k.FocusNext, k.FocusPrev):
		d.quit.onYes = !d.quit.onYes
	}
	return nil
}

func (d *Model) quitClick(zone string) tea.Cmd {
	switch zone {
	case "quit:yes":
		return d.answerQuit(true)
	case "quit:no":
		return d.answerQuit(false)
	}
	return nil
}

// view draws the question in a box width cells wide, its buttons labelled
// with their keys from the key map.
func (q *quitDialog) view(st *style.Styles, k *style.DemoKeyMap, width int) string {
	inner := max(width-st.Dialog.GetHorizontalFrameSize(), 1)
	yes, no := st.Button.Normal, st.Button.Focused
	if q.onYes {
		yes, no = st.Button.Deny, st.Button.Normal
	}
	buttons := style.Mark("quit:yes", yes.Render(k.Yes.Help().Key+" Quit")) + "  " +
		style.Mark("quit:no", no.Render(k.No.Help().Key+" Stay"))
	body := []string{st.Strong.Render("Quit the demo?"), ""}
	for i, l := range q.losses {
		if i > 0 {
			body = append(body, "")
		}
		body = append(body, style.WrapIndented(l, inner, 0, st.Text)...)
	}
	body = append(body, "", lipgloss.PlaceHorizontal(inner, lipgloss.Center, buttons))
	return st.Dialog.Width(width).Render(strings.Join(body, "\n"))
}
