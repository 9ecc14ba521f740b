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

// Widths of the left pane: the console needs room for a challenge row and
// gains little past its maximum, which is better spent on the phones. The
// tour's HTTP exchanges are worth more room than the one phone beside it.
const (
	consoleMinWidth = 36
	consoleMaxWidth = 96
	tourMaxWidth    = 110
)

// layout splits the screen: the left pane, then the phones in a grid of as
// many columns as fit side by side, each box given an equal share.
func layout(width, height, phones int, tour bool) (left box, boxes []box) {
	var leftW int
	if tour {
		phoneW := min(max(width*2/5, phone.MinWidth), phone.MaxWidth+2)
		leftW = min(width-phoneW, tourMaxWidth)
	} else {
		// Phones take up to their largest size; the console gets the rest.
		leftW = min(max(consoleMinWidth, width-phones*(phone.MaxWidth+2)), consoleMaxWidth)
		leftW = min(leftW, max(width-phone.MinWidth, width/2))
	}
	left = box{w: max(leftW, 0), h: height}

	avail := max(width-left.w, 0)
	cols := min(max(avail/phone.MinWidth, 1), phones)
	rows := (phones + cols - 1) / cols
	for i := range phones {
		r, c := i/cols, i%cols
		b := box{x: left.w + c*(avail/cols), y: r * (height / rows), w: avail / cols, h: height / rows}
		if c == cols-1 || i == phones-1 { // the last in a row takes what is left of it
			b.w = avail - c*(avail/cols)
		}
		if r == rows-1 {
			b.h = height - r*(height/rows)
		}
		boxes = append(boxes, b)
	}
	return left, boxes
}

// compose paints each pane's view into its box on a width × height screen.
func compose(width, height int, panes []box, views []string) string {
	screen := make([][]string, height)
	for i, b := range panes {
		lines := style.FitBlock(views[i], b.w, b.h)
		for j, line := range lines {
			if y := b.y + j; y < height {
				screen[y] = append(screen[y], line)
			}
		}
	}
	out := make([]string, height)
	for y, parts := range screen {
		// Panes are placed left to right in each row, so the parts of a
		// line are already in order.
		out[y] = style.FitLine(strings.Join(parts, ""), width)
	}
	return strings.Join(out, "\n")
}
