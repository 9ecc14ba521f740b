package demo

import (
	"strings"

	"github.com/pushsim/pushsim/tui/phone"
	"github.com/pushsim/pushsim/tui/style"
)

// box is a pane's place on the screen, in cells.
type box struct{ x, y, w, h int }

func (b box) contains(x, y int) bool {
	return x >= b.x && x < b.x+b.w && y >= b.y && y < b.y+b.h
}

// Widths of the left pane. The console and the tour show whole SIDs, so
// their panel must hold one on a line; past its maximum the console gains
// little, and the room is better spent on the phones. The tour's HTTP
// exchanges are worth more room than the one phone beside it.
const (
	leftMinWidth    = style.SIDWidth + 2 // the panel's border
	consoleMaxWidth = 96
	tourMaxWidth    = 110
)

// arrangement is how the panes share the screen, best first.
type arrangement int

const (
	// allPanes: the left pane and every phone at once, the phones in a
	// grid of as many columns as fit (side by side when they all do).
	allPanes arrangement = iota
	// phoneTabs: the left pane, and the phones taking turns in one box
	// under a row of tabs, the phone with focus (or last with it) shown.
	phoneTabs
	// paneTabs: one pane at a time under a row of tabs, the one with
	// focus.
	paneTabs
	// tooSmall: not even one pane fits; the screen says what size is needed.
	tooSmall
)

// screenLayout is where everything goes on the screen. A pane that is not
// shown has a zero box. When panes take turns, tabs lists them (0 the
// left pane, i+1 phone i) for the tab row, and slot is where the one shown
// goes, under it.
type screenLayout struct {
	arrangement arrangement
	left        box
	phoneBoxes  []box
	tabRow      box
	slot        box
	tabs        []int
}

// panes are the boxes of the left pane and the phones, in focus order.
func (l screenLayout) panes() []box { return append([]box{l.left}, l.phoneBoxes...) }

// minimum is the smallest screen the demo draws on: one pane at a time,
// under its tab row.
func minimum() (int, int) { return max(phone.MinWidth, leftMinWidth), phone.MinHeight + 1 }

// layout arranges the left pane and n phones on a width × height screen.
// It takes the first arrangement that fits, in the order of arrangement:
// everything at once (the phones side by side when they fit, else in a
// grid), else the phones in tabs beside the left pane, else one pane at a
// time. focus is the pane with focus (0 the left pane, i+1 phone i), and
// lastPhone the phone that had it last (from 0): with the phones in tabs
// and the left pane in focus, that phone is shown.
func layout(width, height, n int, tour bool, focus, lastPhone int) screenLayout {
	l := screenLayout{phoneBoxes: make([]box, n)}
	if g, ok := grid(width, height, n, tour); ok {
		return g
	}
	minW, minH := minimum()
	take := func(x int, tabs []int, shown int) {
		l.tabRow = box{x: x, w: width - x, h: 1}
		l.slot = box{x: x, y: 1, w: width - x, h: height - 1}
		l.tabs = tabs
		if shown == 0 {
			l.left = l.slot
		} else {
			l.phoneBoxes[shown-1] = l.slot
		}
	}
	switch {
	case n > 1 && width >= leftMinWidth+phone.MinWidth && height >= minH:
		l.arrangement = phoneTabs
		leftW := leftWidth(width, 1, height-1, tour)
		l.left = box{w: leftW, h: height}
		tabs := make([]int, n)
		for i := range tabs {
			tabs[i] = i + 1
		}
		shown := focus
		if shown == 0 {
			shown = lastPhone + 1
		}
		take(leftW, tabs, shown)
	case width >= minW && height >= minH:
		l.arrangement = paneTabs
		tabs := make([]int, n+1)
		for i := range tabs {
			tabs[i] = i
		}
		take(0, tabs, focus)
	default:
		l.arrangement = tooSmall
	}
	return l
}

// grid puts every pane on screen: the left pane, then the phones in as
// many columns as fit at their smallest beside it, each box given an equal
// share. It fails when the phones' rows would be shorter than a phone.
func grid(width, height, n int, tour bool) (screenLayout, bool) {
	l := screenLayout{arrangement: allPanes, phoneBoxes: make([]box, n)}
	if height < phone.MinHeight {
		return l, false
	}
	cols := min((width-leftMinWidth)/phone.MinWidth, n)
	if cols < 1 {
		return l, false
	}
	rows := (n + cols - 1) / cols
	if height/rows < phone.MinHeight {
		return l, false
	}
	cols = (n + rows - 1) / rows // as few columns as the rows allow: wider phones
	leftW := leftWidth(width, cols, height/rows, tour)
	l.left = box{w: leftW, h: height}
	avail := width - leftW
	for i := range n {
		r, c := i/cols, i%cols
		b := box{x: leftW + c*(avail/cols), y: r * (height / rows), w: avail / cols, h: height / rows}
		if c == cols-1 || i == n-1 { // the last in a row takes what is left of it
			b.w = avail - c*(avail/cols)
		}
		if r == rows-1 {
			b.h = height - r*(height/rows)
		}
		l.phoneBoxes[i] = b
	}
	return l, true
}

// leftWidth is the left pane's width beside cols columns of phones whose
// rows are rowH tall: each phone takes the width it draws at that height
// (it keeps a phone's proportions) and a cell apart from the next, the
// left pane the rest, within its bounds, leaving each column at least a
// phone's smallest width.
func leftWidth(width, cols, rowH int, tour bool) int {
	var w int
	if tour {
		phoneW := min(max(width*2/5, phone.MinWidth), phone.MaxWidth+2)
		w = min(width-phoneW, tourMaxWidth)
	} else {
		drawn := min(max(rowH*3/2, phone.MinWidth), phone.MaxWidth) + 1
		w = min(max(leftMinWidth, width-cols*drawn), consoleMaxWidth)
	}
	return max(min(w, width-cols*phone.MinWidth), leftMinWidth)
}

// compose paints each view into its box on a width × height screen.
// Boxes of panes not shown are empty and paint nothing.
func compose(width, height int, boxes []box, views []string) string {
	screen := make([][]string, height)
	type placed struct {
		x    int
		line string
	}
	rows := make([][]placed, height)
	for i, b := range boxes {
		if b.w <= 0 || b.h <= 0 {
			continue
		}
		for j, line := range style.FitBlock(views[i], b.w, b.h) {
			if y := b.y + j; y < height {
				rows[y] = append(rows[y], placed{b.x, line})
			}
		}
	}
	out := make([]string, height)
	for y, parts := range rows {
		// Boxes are listed left pane first, so sort each row by column.
		for i := 1; i < len(parts); i++ {
			for j := i; j > 0 && parts[j].x < parts[j-1].x; j-- {
				parts[j], parts[j-1] = parts[j-1], parts[j]
			}
		}
		for _, p := range parts {
			screen[y] = append(screen[y], p.line)
		}
		out[y] = style.FitLine(strings.Join(screen[y], ""), width)
	}
	return strings.Join(out, "\n")
}
