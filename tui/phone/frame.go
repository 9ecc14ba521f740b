package phone

import (
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// The phone keeps a phone's proportions: as tall as the box allows (up to
// a limit) and about one and a half times as wide as tall in cells, which
// looks upright because cells are twice as tall as wide. Hosts lay out
// phones with MinWidth, MinHeight and MaxWidth.
const (
	MinWidth  = 44
	MinHeight = 20
	MaxWidth  = 64
	maxHeight = 44
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
	if boxW < MinWidth || boxH < MinHeight {
		return 0, 0, false
	}
	h = min(boxH, maxHeight)
	w = min(max(h*3/2, MinWidth), MaxWidth, boxW)
	return w, h, true
}

// contentSize is the screen area of a phone of the given outer size.
func contentSize(w, h int) (int, int) {
	return w - 2 - 2*framePadding, h - 2 - rowsAbove - rowsBelow
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

// signedDuration shows a clock offset with its sign: +0s, -2m0s, +1h0m0s.
func signedDuration(d time.Duration) string {
	if d < 0 {
		return "-" + (-d).String()
	}
	return "+" + d.String()
}
