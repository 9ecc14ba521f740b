package phone

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/pushsim/pushsim/tui/style"
)

// dialog asks before a destructive action. It takes every key until it is
// answered.
type dialog struct {
	question string
	detail   string
	yes      tea.Cmd
	onYes    bool // which button has focus
}

func (d *dialog) update(msg tea.Msg, k *style.KeyMap) (done bool, cmd tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, k.Yes):
			return true, d.yes
		case key.Matches(msg, k.No):
			return true, nil
		case key.Matches(msg, k.Confirm):
			if d.onYes {
				return true, d.yes
			}
			return true, nil
		case key.Matches(msg, k.Left, k.Right, k.NextField, k.PrevField):
			d.onYes = !d.onYes
		}
	case clickMsg:
		switch msg.zone {
		case "dialog:yes":
			return true, d.yes
		case "dialog:no":
			return true, nil
		}
	}
	return false, nil
}

func (d *dialog) view(st *style.Styles, width int) string {
	inner := width - st.Dialog.GetHorizontalFrameSize()
	yes, no := st.Button.Normal, st.Button.Normal
	if d.onYes {
		yes = st.Button.Deny
	} else {
		no = st.Button.Focused
	}
	buttons := style.Mark("dialog:yes", yes.Render("y Yes")) + "  " + style.Mark("dialog:no", no.Render("n No"))
	body := []string{
		st.Strong.Render(d.question),
		"",
		lipgloss.NewStyle().Width(inner).Render(st.Text.Render(d.detail)),
		"",
		lipgloss.PlaceHorizontal(inner, lipgloss.Center, buttons),
	}
	return st.Dialog.Width(width).Render(strings.Join(body, "\n"))
}

// numberPrompt stands between Approve and a number-matching challenge: the
// user types the number the sign-in screen shows, on the keyboard or the
// keypad, and a wrong number denies the challenge. Like a dialog it takes
// every key until it is answered or cancelled.
type numberPrompt struct {
	factorSid, challengeSid string
	want                    string
	typed                   string
}

// What a key or click did to a number prompt.
type promptOutcome int

const (
	promptOpen promptOutcome = iota
	promptCancelled
	promptSubmitted
)

func newNumberPrompt(factorSid, challengeSid, want string) *numberPrompt {
	return &numberPrompt{factorSid: factorSid, challengeSid: challengeSid, want: want}
}

// full reports whether as many digits as the code has were typed.
func (n *numberPrompt) full() bool { return len(n.typed) >= len(n.want) }

// matches reports whether the typed number is the sign-in screen's.
func (n *numberPrompt) matches() bool { return n.typed == n.want }

func (n *numberPrompt) digit(d string) {
	if !n.full() {
		n.typed += d
	}
}

func (n *numberPrompt) erase() {
	if n.typed != "" {
		n.typed = n.typed[:len(n.typed)-1]
	}
}

func (n *numberPrompt) submit() promptOutcome {
	if !n.full() {
		return promptOpen
	}
	return promptSubmitted
}

func (n *numberPrompt) update(msg tea.Msg, k *style.KeyMap) promptOutcome {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, k.Digit):
			n.digit(msg.String())
		case key.Matches(msg, k.Erase):
			n.erase()
		case key.Matches(msg, k.Confirm):
			return n.submit()
		case key.Matches(msg, k.Cancel):
			return promptCancelled
		}
	case clickMsg:
		switch d, ok := strings.CutPrefix(msg.zone, "numpad:"); {
		case !ok:
		case d == "erase":
			n.erase()
		case d == "ok":
			return n.submit()
		case d == "cancel":
			return promptCancelled
		default:
			n.digit(d)
		}
	}
	return promptOpen
}

// keypadRows is the phone keypad, with erase and OK in the bottom corners.
var keypadRows = [][]string{{"1", "2", "3"}, {"4", "5", "6"}, {"7", "8", "9"}, {"erase", "0", "ok"}}

func (n *numberPrompt) view(st *style.Styles, k *style.KeyMap, width int) string {
	inner := width - st.Dialog.GetHorizontalFrameSize()
	var slots []string
	for i := range len(n.want) {
		if i < len(n.typed) {
			slots = append(slots, st.Button.Focused.Render(n.typed[i:i+1]))
		} else {
			slots = append(slots, st.Button.Disabled.Render("_"))
		}
	}
	body := []string{
		st.Strong.Render("Number matching"),
		"",
		lipgloss.NewStyle().Width(inner).Render(st.Text.Render("Type the number shown on the sign-in screen")),
		"",
		lipgloss.PlaceHorizontal(inner, lipgloss.Center, strings.Join(slots, " ")),
		"",
	}
	for _, row := range keypadRows {
		var keys []string
		for _, k := range row {
			label, look := k, st.Button.Normal
			switch k {
			case "erase":
				label = "←"
			case "ok":
				label, look = "✓", st.Button.Approve
				if !n.full() {
					look = st.Button.Disabled
				}
			}
			keys = append(keys, style.Mark("numpad:"+k, look.Render(label)))
		}
		body = append(body, lipgloss.PlaceHorizontal(inner, lipgloss.Center, strings.Join(keys, "  ")))
	}
	body = append(body, "", lipgloss.PlaceHorizontal(inner, lipgloss.Center, style.Mark("numpad:cancel", st.Muted.Render(k.Cancel.Help().Key+" "+k.Cancel.Help().Desc))))
	return st.Dialog.Width(width).Render(strings.Join(body, "\n"))
}
