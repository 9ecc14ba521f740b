package style

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// FitLine truncates or pads a styled line to exactly width cells.
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

// Field is one "Label    value" row; a value too long for the row moves
// under its label rather than being cut, so SIDs stay whole.
func Field(st *Styles, label, value string, width int) string {
	if LabelWidth+ansi.StringWidth(value) <= width {
		return st.Label.Render(PadRight(label, LabelWidth)) + value
	}
	return st.Label.Render(label) + "\n  " + value
}

// WrapIndented wraps plain text to width, continuing lines indent cells
// in, and styles each line.
func WrapIndented(text string, width, indent int, st lipgloss.Style) []string {
	lines := strings.Split(ansi.Wrap(text, max(width, 1), ""), "\n")
	for i, l := range lines {
		if i > 0 {
			l = strings.Repeat(" ", indent) + strings.TrimLeft(l, " ")
		}
		lines[i] = FitLine(st.Render(l), width)
	}
	return lines
}

// HelpSeparator goes between the entries of a short help.
const HelpSeparator = " • "

// ShortHelp lays bindings on one line of at most width cells, ending with
// an ellipsis when some did not fit.
func ShortHelp(st *Styles, bindings []key.Binding, width int) string {
	const tail = " …"
	var items []string
	for _, b := range bindings {
		if b.Enabled() {
			items = append(items, st.Help.ShortKey.Render(b.Help().Key)+" "+st.Help.ShortDesc.Render(b.Help().Desc))
		}
	}
	sep := st.Help.ShortSeparator.Render(HelpSeparator)
	var out strings.Builder
	used := 0
	for i, item := range items {
		w := ansi.StringWidth(item)
		if i > 0 {
			w += ansi.StringWidth(sep)
		}
		room := width
		if i < len(items)-1 {
			room -= ansi.StringWidth(tail) // keep space for the ellipsis unless this is the last
		}
		if used+w > room {
			if used+ansi.StringWidth(tail) <= width {
				out.WriteString(st.Help.Ellipsis.Render(tail))
			}
			break
		}
		if i > 0 {
			out.WriteString(sep)
		}
		out.WriteString(item)
		used += w
	}
	return out.String()
}

// Panel frames a pane as the phone's outline frames the phone: the theme's
// border, in the accent colour while the pane has focus, with the title
// set into the top edge. The result is exactly width × height.
func Panel(st *Styles, title string, body []string, width, height int, focused bool) string {
	if width < 4 || height < 2 {
		return strings.Join(FitBlock("", max(width, 0), max(height, 0)), "\n")
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
	for _, line := range FitBlock(strings.Join(body, "\n"), innerW-2, height-2) {
		rows = append(rows, left+" "+line+" "+right)
	}
	rows = append(rows, frame.Render(b.BottomLeft+strings.Repeat(b.Bottom, innerW)+b.BottomRight))
	return strings.Join(rows, "\n")
}

// PanelInner is the text area of a panel of the given size.
func PanelInner(width, height int) (int, int) { return max(width-4, 0), max(height-2, 0) }
