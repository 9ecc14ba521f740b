package style

import (
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// FitLine truncates or pads a styled line to exactly width cells. What it
// cuts is lost: text that may be longer than its line is wrapped first
// (Wrap, WrapIndented, Field).
func FitLine(s string, width int) string {
	if w := ansi.StringWidth(s); w > width {
		return ansi.Truncate(s, width, "…")
	} else if w < width {
		return s + strings.Repeat(" ", width-w)
	}
	return s
}

// FitBlock makes a block exactly width × height: extra lines are dropped,
// missing ones are blank.
func FitBlock(s string, width, height int) []string {
	// A pane may be drawn before its first size arrives.
	width, height = max(width, 0), max(height, 0)
	lines := strings.Split(s, "\n")
	if s == "" {
		lines = nil
	}
	if len(lines) > height {
		lines = lines[:height]
	}
	out := make([]string, height)
	for i := range out {
		if i < len(lines) {
			out[i] = FitLine(lines[i], width)
		} else {
			out[i] = strings.Repeat(" ", width)
		}
	}
	return out
}

// Spread puts left and right on one line of width cells, truncating left
// if they do not both fit.
func Spread(left, right string, width int) string {
	rw := ansi.StringWidth(right)
	if rw >= width {
		return FitLine(right, width)
	}
	left = FitLine(left, width-rw-1)
	return left + " " + right
}

// Overlay draws block over base starting at line top, centred horizontally.
func Overlay(base []string, block string, top, width int) []string {
	lines := strings.Split(block, "\n")
	bw := lipgloss.Width(block)
	left := max((width-bw)/2, 0)
	out := append([]string(nil), base...)
	for i, l := range lines {
		row := top + i
		if row < 0 || row >= len(out) {
			continue
		}
		l = FitLine(l, min(bw, width))
		// The covered row's zones go: what is on top takes the clicks.
		under := StripZones(out[row])
		prefix := ansi.Truncate(under, left, "")
		suffixStart := left + ansi.StringWidth(l)
		suffix := ansi.TruncateLeft(under, suffixStart, "")
		out[row] = prefix + "\x1b[m" + l + "\x1b[m" + suffix
	}
	return out
}

// PadRight pads plain text to n cells.
func PadRight(s string, n int) string {
	if w := ansi.StringWidth(s); w < n {
		return s + strings.Repeat(" ", n-w)
	}
	return s
}

// LabelWidth is the label column of detail screens.
const LabelWidth = 9

// Field is one "Label    value" row. A value too long for the row is
// never cut: one word (a SID, a URL) moves under its label, several wrap
// beside it, each line starting under the first.
func Field(st *Styles, label, value string, width int) string {
	cells := ansi.StringWidth(value)
	if LabelWidth+cells <= width {
		return st.Label.Render(PadRight(label, LabelWidth)) + value
	}
	if words := strings.Fields(ansi.Strip(value)); len(words) > 1 && widest(words) <= width-LabelWidth {
		lines := wrapLines(strings.Repeat(" ", LabelWidth)+value, width, LabelWidth)
		lines[0] = st.Label.Render(PadRight(label, LabelWidth)) + lines[0][LabelWidth:]
		return strings.Join(lines, "\n")
	}
	return st.Label.Render(label) + "\n" + strings.Join(wrapLines("  "+value, width, 2), "\n")
}

// widest is the width of the widest of words.
func widest(words []string) int {
	n := 0
	for _, w := range words {
		n = max(n, ansi.StringWidth(w))
	}
	return n
}

// WrapIndented wraps text to width as Wrap does, continuing lines indent
// cells in (less for a word that needs the room), and styles each line,
// padded to width.
func WrapIndented(text string, width, indent int, st lipgloss.Style) []string {
	lines := wrapLines(text, width, indent)
	for i, l := range lines {
		lines[i] = FitLine(st.Render(l), width)
	}
	return lines
}

// HelpSeparator goes between the entries of a short help.
const HelpSeparator = " • "

// helpModel is bubbles' help drawn with st.
func helpModel(st *Styles, width int) help.Model {
	m := help.New()
	m.ShortSeparator, m.Ellipsis, m.Styles = HelpSeparator, "…", st.Help
	m.SetWidth(width)
	return m
}

// ShortHelp is bubbles' short help on one line of at most width cells.
// When not every binding fits, the last one still shows, after an
// ellipsis: callers end with the key that leads to the rest (? for the
// full help), so what did not fit can always be found.
func ShortHelp(st *Styles, bindings []key.Binding, width int) string {
	var enabled []key.Binding
	for _, b := range bindings {
		if b.Enabled() {
			enabled = append(enabled, b)
		}
	}
	all := helpModel(st, 0)
	if line := all.ShortHelpView(enabled); ansi.StringWidth(line) <= width {
		return line
	}
	if len(enabled) == 0 {
		return ""
	}
	last := all.ShortHelpView(enabled[len(enabled)-1:])
	tail := st.Help.Ellipsis.Render(" … ") + last
	for n := len(enabled) - 2; n > 0; n-- {
		if head := all.ShortHelpView(enabled[:n]); ansi.StringWidth(head)+ansi.StringWidth(tail) <= width {
			return head + tail
		}
	}
	if ansi.StringWidth(last) <= width {
		return last
	}
	return helpModel(st, width).ShortHelpView(enabled[len(enabled)-1:])
}

// Panel frames a pane as the phone's outline frames the phone: the theme's
// border with the title set into the top edge. The pane with focus is
// drawn with the focused frame (heavier lines in the accent colour) and a
// marked title, so which pane takes the keys shows at a glance, with or
// without colour. The result is exactly width × height.
func Panel(st *Styles, title string, body []string, width, height int, focused bool) string {
	if width < 4 || height < 2 {
		return strings.Join(FitBlock("", max(width, 0), max(height, 0)), "\n")
	}
	frame := st.Frame
	label := st.Title.Render(ansi.Truncate(" "+title+" ", max(width-4, 0), "…"))
	if focused {
		frame = st.FrameFocused
		label = st.Selected.Render(ansi.Truncate(" ▸ "+title+" ", max(width-4, 0), "…"))
	}
	b := st.Theme.Border
	innerW := width - 2
	rest := max(innerW-1-ansi.StringWidth(label), 0)
	rows := make([]string, 0, height)
	rows = append(rows, frame.Render(b.TopLeft+b.Top)+label+frame.Render(strings.Repeat(b.Top, rest)+b.TopRight))
	left, right := frame.Render(b.Left), frame.Render(b.Right)
	pad := strings.Repeat(" ", panelPadding(width))
	textW, textH := PanelInner(width, height)
	for _, line := range FitBlock(strings.Join(body, "\n"), textW, textH) {
		rows = append(rows, left+pad+line+pad+right)
	}
	rows = append(rows, frame.Render(b.BottomLeft+strings.Repeat(b.Bottom, innerW)+b.BottomRight))
	return strings.Join(rows, "\n")
}

// panelPadding is the space between a panel's border and its text: one
// cell, unless the panel is so narrow that a SID would no longer fit on a
// line.
func panelPadding(width int) int {
	if width-4 < SIDWidth {
		return 0
	}
	return 1
}

// PanelInner is the text area of a panel of the given size.
func PanelInner(width, height int) (int, int) {
	return max(width-2-2*panelPadding(width), 0), max(height-2, 0)
}
