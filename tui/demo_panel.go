package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// panel frames a pane of the demo as the phone's outline frames the phone:
// the theme's border, in the accent colour while the pane has focus, with
// the title set into the top edge. The result is exactly width × height.
func panel(st *Styles, title string, body []string, width, height int, focused bool) string {
	if width < 4 || height < 2 {
		return strings.Join(fitBlock("", max(width, 0), max(height, 0)), "\n")
	}
	frame := st.Frame
	if focused {
		frame = st.FrameFocused
	}
	b := st.Theme.Border
	innerW := width - 2
	label := ansi.Truncate(" "+title+" ", max(innerW-2, 0), "…")
	rest := max(innerW-1-ansi.StringWidth(label), 0)
	rows := make([]string, 0, height)
	rows = append(rows, frame.Render(b.TopLeft+b.Top)+st.Title.Render(label)+frame.Render(strings.Repeat(b.Top, rest)+b.TopRight))
	left, right := frame.Render(b.Left), frame.Render(b.Right)
	for _, line := range fitBlock(strings.Join(body, "\n"), innerW-2, height-2) {
		rows = append(rows, left+" "+line+" "+right)
	}
	rows = append(rows, frame.Render(b.BottomLeft+strings.Repeat(b.Bottom, innerW)+b.BottomRight))
	return strings.Join(rows, "\n")
}

// panelInner is the text area of a panel of the given size.
func panelInner(width, height int) (int, int) { return max(width-4, 0), max(height-2, 0) }

// packLine lays items on as few lines of width cells as they fit, three
// spaces apart, for rows of buttons.
func packLine(items []string, width int) []string {
	const gap = "   "
	var lines []string
	cur := ""
	for _, it := range items {
		switch {
		case cur == "":
			cur = it
		case ansi.StringWidth(cur)+len(gap)+ansi.StringWidth(it) <= width:
			cur += gap + it
		default:
			lines = append(lines, cur)
			cur = it
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}
