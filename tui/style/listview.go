package style

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// ListView is the cursor and scroll position of a list of fixed-height
// rows. It draws nothing; it only says which rows are visible, so a list of
// a thousand challenges costs no more to draw than a screenful.
type ListView struct {
	Cursor, Offset int
	RowHeight      int
	Height         int // lines available for rows
}

// PageRows is how many rows fit on screen at once.
func (l *ListView) PageRows() int { return max(l.Height/max(l.RowHeight, 1), 1) }

// Clamp keeps the cursor on one of n rows and the cursor's row on screen.
func (l *ListView) Clamp(n int) {
	if n <= 0 {
		l.Cursor, l.Offset = 0, 0
		return
	}
	l.Cursor = min(max(l.Cursor, 0), n-1)
	page := l.PageRows()
	if l.Cursor < l.Offset {
		l.Offset = l.Cursor
	}
	if l.Cursor >= l.Offset+page {
		l.Offset = l.Cursor - page + 1
	}
	l.Offset = min(max(l.Offset, 0), max(n-page, 0))
}

// Window is the half-open range of visible rows of n.
func (l *ListView) Window(n int) (int, int) {
	l.Clamp(n)
	return l.Offset, min(l.Offset+l.PageRows(), n)
}

// Navigate moves the cursor for a navigation key and reports whether msg
// was one.
func (l *ListView) Navigate(msg tea.KeyPressMsg, k *KeyMap, n int) bool {
	switch {
	case key.Matches(msg, k.Up):
		l.Cursor--
	case key.Matches(msg, k.Down):
		l.Cursor++
	case key.Matches(msg, k.PageUp):
		l.Cursor -= l.PageRows()
	case key.Matches(msg, k.PageDown):
		l.Cursor += l.PageRows()
	case key.Matches(msg, k.Home):
		l.Cursor = 0
	case key.Matches(msg, k.End):
		l.Cursor = n - 1
	default:
		return false
	}
	l.Clamp(n)
	return true
}
