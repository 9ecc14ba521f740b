package style

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
)

// HelpGroup is one titled column of a full help.
type HelpGroup struct {
	Title    string
	Bindings []key.Binding
}

// helpColumnGap separates the columns of a full help set side by side.
const helpColumnGap = "    "

// FullHelp is bubbles' full help, one column per group under its title,
// fitted to width: the columns side by side when they fit, else one under
// the other, and a column too wide for the pane lists each key above its
// wrapped description. Nothing is cut.
func FullHelp(st *Styles, groups []HelpGroup, width int) []string {
	m := helpModel(st, 0)
	var columns []string
	for _, g := range groups {
		var enabled []key.Binding
		for _, b := range g.Bindings {
			if b.Enabled() {
				enabled = append(enabled, b)
			}
		}
		if len(enabled) == 0 {
			continue
		}
		body := m.FullHelpView([][]key.Binding{enabled})
		if lipgloss.Width(body) > width {
			body = strings.Join(narrowHelp(st, enabled, width), "\n")
		}
		columns = append(columns, st.Heading.Render(g.Title)+"\n"+body)
	}
	if len(columns) == 0 {
		return nil
	}
	var parts []string
	for i, c := range columns {
		if i > 0 {
			parts = append(parts, helpColumnGap)
		}
		parts = append(parts, c)
	}
	if side := lipgloss.JoinHorizontal(lipgloss.Top, parts...); lipgloss.Width(side) <= width {
		return strings.Split(side, "\n")
	}
	return strings.Split(strings.Join(columns, "\n\n"), "\n")
}

// narrowHelp lists bindings for a pane narrower than bubbles' columns:
// each key on its own line, its description wrapped below it.
func narrowHelp(st *Styles, bindings []key.Binding, width int) []string {
	var out []string
	for _, b := range bindings {
		out = append(out, Wrap(st.Help.FullKey.Render(b.Help().Key), width)...)
		for _, l := range wrapLines("  "+b.Help().Desc, width, 2) {
			out = append(out, st.Help.FullDesc.Render(l))
		}
	}
	return out
}

// TooSmall is what a program draws instead of itself in a box smaller
// than it needs: the size it needs and the size it has, wrapped to the
// box and centred in it. Shorter wordings are used as the box shrinks, so
// the two sizes show on any box that can hold them.
func TooSmall(st *Styles, what string, needW, needH, w, h int) string {
	if w <= 0 || h <= 0 {
		return ""
	}
	need, now := fmt.Sprintf("%d×%d", needW, needH), fmt.Sprintf("%d×%d", w, h)
	wordings := []string{
		"Make the terminal larger: " + what + " needs " + need + " (now " + now + ").",
		"Make the terminal larger: needs " + need + ", now " + now + ".",
		"need " + need + " now " + now,
	}
	var lines []string
	for _, text := range wordings {
		lines = Wrap(text, w)
		if len(lines) <= h {
			break
		}
	}
	for i, l := range lines {
		lines[i] = st.Strong.Render(l)
	}
	placed := lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, strings.Join(lines, "\n"))
	return strings.Join(FitBlock(placed, w, h), "\n")
}
