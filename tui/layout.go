package tui

import (
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// The phone keeps a phone's proportions: as tall as the box allows (up to
// a limit) and about one and a half times as wide as tall in cells, which
// looks upright because cells are twice as tall as wide.
const (
	MinPhoneWidth  = 44
	MinPhoneHeight = 20
	maxPhoneWidth  = 64
	maxPhoneHeight = 44
)

// Inside the outline: one column of padding on each side, and the rows
// above and below the screen area.
const (
	framePadding = 1
	rowsAbove    = 2 // status bar, title
	rowsBelow    = 2 // notice, help footer
)

// phoneSize fits the phone into a box; ok is false when the box is too small.
func phoneSize(boxW, boxH int) (w, h int, ok bool) {
	if boxW < MinPhoneWidth || boxH < MinPhoneHeight {
		return 0, 0, false
	}
	h = min(boxH, maxPhoneHeight)
	w = min(max(h*3/2, MinPhoneWidth), maxPhoneWidth, boxW)
	return w, h, true
}

// contentSize is the screen area of a phone of the given outer size.
func contentSize(w, h int) (int, int) {
	return w - 2 - 2*framePadding, h - 2 - rowsAbove - rowsBelow
}

// fitLine truncates or pads a styled line to exactly width cells.
func fitLine(s string, width int) string {
	if w := ansi.StringWidth(s); w > width {
		return ansi.Truncate(s, width, "…")
	} else if w < width {
		return s + strings.Repeat(" ", width-w)
	}
	return s
}

// fitBlock makes a block exactly width × height: extra lines are dropped,
// missing ones are blank.
func fitBlock(s string, width, height int) []string {
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
			out[i] = fitLine(lines[i], width)
		} else {
			out[i] = strings.Repeat(" ", width)
		}
	}
	return out
}

// spread puts left and right on one line of width cells, truncating left
// if they do not both fit.
func spread(left, right string, width int) string {
	rw := ansi.StringWidth(right)
	if rw >= width {
		return fitLine(right, width)
	}
	left = fitLine(left, width-rw-1)
	return left + " " + right
}

// overlay draws block over base starting at line top, centred horizontally.
func overlay(base []string, block string, top, width int) []string {
	lines := strings.Split(block, "\n")
	bw := lipgloss.Width(block)
	left := max((width-bw)/2, 0)
	out := append([]string(nil), base...)
	for i, l := range lines {
		row := top + i
		if row < 0 || row >= len(out) {
			continue
		}
		l = fitLine(l, min(bw, width))
		// The covered row's zones go: what is on top takes the clicks.
		under := stripZones(out[row])
		prefix := ansi.Truncate(under, left, "")
		suffixStart := left + ansi.StringWidth(l)
		suffix := ansi.TruncateLeft(under, suffixStart, "")
		out[row] = prefix + "\x1b[m" + l + "\x1b[m" + suffix
	}
	return out
}

// outline draws the phone's body around its rows: a camera dot in the top
// edge and a home indicator in the bottom one.
func outline(rows []string, innerW int, b lipgloss.Border, st lipgloss.Style) string {
	edge := func(left, fill, middle, right string) string {
		rest := innerW - ansi.StringWidth(middle)
		l := rest / 2
		return st.Render(left + strings.Repeat(fill, l) + middle + strings.Repeat(fill, rest-l) + right)
	}
	var sb strings.Builder
	sb.WriteString(edge(b.TopLeft, b.Top, " ● ", b.TopRight))
	pad := strings.Repeat(" ", framePadding)
	side := func(s string) string { return st.Render(s) }
	for _, r := range rows {
		sb.WriteString("\n" + side(b.Left) + pad + r + pad + side(b.Right))
	}
	sb.WriteString("\n" + edge(b.BottomLeft, b.Bottom, " ━━━━━━ ", b.BottomRight))
	return sb.String()
}

// tooSmall is the one line shown instead of a phone that cannot fit.
func tooSmall(w, h int) string {
	msg := "Make the terminal larger: the phone needs " + itoa(MinPhoneWidth) + "×" + itoa(MinPhoneHeight) + " (now " + itoa(w) + "×" + itoa(h) + ")"
	if w <= 0 {
		return msg
	}
	return ansi.Truncate(msg, w, "…")
}

// labelWidth is the label column of detail screens.
const labelWidth = 9

// field is one "Label    value" row; a value too long for the row moves
// under its label rather than being cut, so SIDs stay whole.
func field(st *Styles, label, value string, width int) string {
	if labelWidth+ansi.StringWidth(value) <= width {
		return st.Label.Render(padRight(label, labelWidth)) + value
	}
	return st.Label.Render(label) + "\n  " + value
}
