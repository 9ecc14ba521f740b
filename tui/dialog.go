package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// dialog asks before a destructive action. It takes every key until it is
// answered.
type dialog struct {
	question string
	detail   string
	yes      tea.Cmd
	onYes    bool // which button has focus
}

func (d *dialog) update(msg tea.Msg, k *KeyMap) (done bool, cmd tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case msg.String() == "y":
			return true, d.yes
		case msg.String() == "n" || msg.String() == "esc":
			return true, nil
		case msg.String() == "enter":
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

func (d *dialog) view(st *Styles, width int) string {
	inner := width - st.Dialog.GetHorizontalFrameSize()
	yes, no := st.Button.Normal, st.Button.Normal
	if d.onYes {
		yes = st.Button.Deny
	} else {
		no = st.Button.Focused
	}
	buttons := mark("dialog:yes", yes.Render("y Yes")) + "  " + mark("dialog:no", no.Render("n No"))
	body := []string{
		st.Strong.Render(d.question),
		"",
		lipgloss.NewStyle().Width(inner).Render(st.Text.Render(d.detail)),
		"",
		lipgloss.PlaceHorizontal(inner, lipgloss.Center, buttons),
	}
	return st.Dialog.Width(width).Render(strings.Join(body, "\n"))
}
