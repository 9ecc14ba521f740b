package tui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// listView is the cursor and scroll position of a list of fixed-height
// rows. It draws nothing; it only says which rows are visible, so a list of
// a thousand challenges costs no more to draw than a screenful.
type listView struct {
	cursor, offset int
	rowHeight      int
	height         int // lines available for rows
}

func (l *listView) pageRows() int { return max(l.height/max(l.rowHeight, 1), 1) }

// clamp keeps the cursor on a row and the cursor's row on screen.
func (l *listView) clamp(n int) {
	if n <= 0 {
		l.cursor, l.offset = 0, 0
		return
	}
	l.cursor = min(max(l.cursor, 0), n-1)
	page := l.pageRows()
	if l.cursor < l.offset {
		l.offset = l.cursor
	}
	if l.cursor >= l.offset+page {
		l.offset = l.cursor - page + 1
	}
	l.offset = min(max(l.offset, 0), max(n-page, 0))
}

// window is the half-open range of visible rows.
func (l *listView) window(n int) (int, int) {
	l.clamp(n)
	return l.offset, min(l.offset+l.pageRows(), n)
}

// navigate moves the cursor for a navigation key and reports whether msg was
// one.
func (l *listView) navigate(msg tea.KeyPressMsg, k *KeyMap, n int) bool {
	switch {
	case key.Matches(msg, k.Up):
		l.cursor--
	case key.Matches(msg, k.Down):
		l.cursor++
	case key.Matches(msg, k.PageUp):
		l.cursor -= l.pageRows()
	case key.Matches(msg, k.PageDown):
		l.cursor += l.pageRows()
	case key.Matches(msg, k.Home):
		l.cursor = 0
	case key.Matches(msg, k.End):
		l.cursor = n - 1
	default:
		return false
	}
	l.clamp(n)
	return true
}
