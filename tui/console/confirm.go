package console

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/pushsim/pushsim/tui/style"
)

// confirmDialog asks before an action that cannot be undone (a reset). It
// takes every key and click until it is answered; No has focus at first,
// so a stray Enter changes nothing.
type confirmDialog struct {
	question, detail string
	yes              func() tea.Cmd
	onYes            bool
}

// answer closes the dialog, running its action on yes.
func (c *Console) answer(yes bool) tea.Cmd {
	d := c.panel.confirm
	c.panel.confirm = nil
	if !yes {
		return nil
	}
	return d.yes()
}

func (c *Console) confirmKey(msg tea.KeyPressMsg) tea.Cmd {
	k, d := c.com.Keys, c.panel.confirm
	switch {
	case key.Matches(msg, k.Yes):
		return c.answer(true)
	case key.Matches(msg, k.No):
		return c.answer(false)
	case key.Matches(msg, k.Confirm):
		return c.answer(d.onYes)
	case key.Matches(msg, k.Left, k.Right, k.FocusButton):
		d.onYes = !d.onYes
	}
	return nil
}

func (c *Console) confirmClick(zone string) tea.Cmd {
	switch zone {
	case "confirm:yes":
		return c.answer(true)
	case "confirm:no":
		return c.answer(false)
	}
	return nil
}

// confirmView draws the question in a box width cells wide, its buttons
// labelled with their keys from the key map.
func (c *Console) confirmView(d *confirmDialog, width int) string {
	st, k := c.com.Styles, c.com.Keys
	inner := max(width-st.Dialog.GetHorizontalFrameSize(), 1)
	yes, no := st.Button.Normal, st.Button.Focused
	if d.onYes {
		yes, no = st.Button.Deny, st.Button.Normal
	}
	buttons := style.Mark("confirm:yes", yes.Render(k.Yes.Help().Key+" Yes")) + "  " +
		style.Mark("confirm:no", no.Render(k.No.Help().Key+" No"))
	body := style.WrapIndented(d.question, inner, 0, st.Strong)
	body = append(body, "")
	body = append(body, style.WrapIndented(d.detail, inner, 0, st.Text)...)
	body = append(body, "", lipgloss.PlaceHorizontal(inner, lipgloss.Center, buttons))
	return st.Dialog.Width(width).Render(strings.Join(body, "\n"))
}
