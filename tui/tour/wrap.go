package tour

import (
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// span is text in one style, a part of what wrapSpans lays out.
type span struct {
	text  string
	style lipgloss.Style
}

// wrap is wrapSpans for text in one style.
func wrap(text string, width, hang int, st lipgloss.Style) []string {
	return wrapSpans(width, hang, span{text, st})
}

// wrapSpans lays styled text out in lines of at most width cells without
// losing a character, because what the tour shows (SIDs, URLs, signatures)
// is read and copied: it breaks at spaces; a word too long for what is
// left of a line starts the next one, unless it is a path whose start up
// to a '/' fits; a word longer than a whole line breaks next to a '/'
// where it can, else before the punctuation that ends it (so that a SID stays
// whole), else at the line's end. Leading spaces indent the first line,
// continuing lines start hang cells in (fewer for a word that needs the
// room), and a newline starts a new line. Only the spaces at a break are
// dropped.
func wrapSpans(width, hang int, spans ...span) []string {
	width = max(width, 1)
	hang = max(min(hang, width/2), 0)
	var text []cell
	for i, s := range spans {
		for _, r := range s.text {
			text = append(text, cell{r: r, w: ansi.StringWidth(string(r)), style: i})
		}
	}
	w := &wrapper{width: width, hang: hang, spans: spans}
	for i, para := range splitCells(text, '\n') {
		if i > 0 {
			w.flush(hang)
		}
		w.paragraph(para)
	}
	w.flush(0)
	return w.out
}

type cell struct {
	r     rune
	w     int
	style int
}

func cellsWidth(cells []cell) int {
	n := 0
	for _, c := range cells {
		n += c.w
	}
	return n
}

func splitCells(cells []cell, sep rune) [][]cell {
	out := [][]cell{nil}
	for _, c := range cells {
		if c.r == sep {
			out = append(out, nil)
			continue
		}
		out[len(out)-1] = append(out[len(out)-1], c)
	}
	return out
}

type wrapper struct {
	width, hang int
	spans       []span
	out         []string
	line        []cell
	indent      int  // cells of indent on the line being built
	words       bool // whether the line has a word yet
}

// paragraph lays out one line of the source: its leading spaces, then its
// words.
func (w *wrapper) paragraph(cells []cell) {
	lead := 0
	for lead < len(cells) && cells[lead].r == ' ' {
		lead++
	}
	if !w.words && len(w.line) == 0 {
		w.indent = min(lead, w.width-1)
	}
	var sep []cell
	word := []cell(nil)
	for _, c := range cells[lead:] {
		if c.r == ' ' {
			if word != nil {
				w.place(sep, word)
				sep, word = nil, nil
			}
			sep = append(sep, c)
			continue
		}
		word = append(word, c)
	}
	if word != nil {
		w.place(sep, word)
	}
}

// place puts a word, after its separating spaces, on the line or the next.
func (w *wrapper) place(sep, word []cell) {
	used := w.indent + cellsWidth(w.line)
	if w.words {
		if used+cellsWidth(sep)+cellsWidth(word) <= w.width {
			w.line = append(append(w.line, sep...), word...)
			return
		}
		// A path may start here, up to a '/', when it will break anyway.
		if room := w.width - used - cellsWidth(sep); cellsWidth(word) > w.width-w.hang && room > 0 {
			if cut := slashCut(word, room, w.width); cut > 0 {
				w.line = append(append(w.line, sep...), word[:cut]...)
				word = word[cut:]
			}
		}
		w.flush(w.hang)
	}
	// A word that fits a line, but not after its indent, takes some of the
	// indent: a SID stays whole in a pane just wide enough for one.
	for _, piece := range [][]cell{word, firstPiece(word)} {
		if ww := cellsWidth(piece); ww > w.width-w.indent && ww <= w.width {
			w.indent = w.width - ww
			break
		}
	}
	for {
		room := w.width - w.indent
		if cellsWidth(word) <= room {
			w.line, w.words = append(w.line, word...), true
			return
		}
		cut := slashCut(word, room, w.width)
		if cut == 0 {
			cut = punctuationCut(word, room)
		}
		if cut == 0 {
			cut = hardCut(word, room)
		}
		w.line, w.words = append(w.line, word[:cut]...), true
		word = word[cut:]
		w.flush(w.hang)
	}
}

// slashCut is where to break word before a '/' so that its start fits in
// room cells, or 0: the latest such place, unless the segment after it
// fits a line of fresh cells only without its slash (a SID between two
// slashes), which then stays on this line.
func slashCut(word []cell, room, fresh int) int {
	cut, used := 0, 0
	for i, c := range word {
		if c.r == '/' && i > 0 {
			if used > room {
				break
			}
			cut = i
		}
		used += c.w
	}
	if cut == 0 {
		return 0
	}
	end := cut + 1
	for end < len(word) && word[end].r != '/' {
		end++
	}
	if cellsWidth(word[cut:end]) > fresh && cellsWidth(word[cut+1:end]) <= fresh && cellsWidth(word[:cut+1]) <= room {
		return cut + 1
	}
	return cut
}

// punctuationCut is where to break word before the punctuation that ends
// it, when what it follows (a SID, say) then fits in room cells, or 0.
func punctuationCut(word []cell, room int) int {
	end := len(trimPunctuation(word))
	if end == len(word) || cellsWidth(word[:end]) > room {
		return 0
	}
	return end
}

// firstPiece is the start of word up to where it may break: a '/' or the
// punctuation that ends it.
func firstPiece(word []cell) []cell {
	for i, c := range word {
		if c.r == '/' && i > 0 {
			return word[:i]
		}
	}
	return trimPunctuation(word)
}

// trimPunctuation is word without the punctuation that ends it.
func trimPunctuation(word []cell) []cell {
	end := len(word)
	for end > 1 && strings.ContainsRune(".,;:)!?", word[end-1].r) {
		end--
	}
	return word[:end]
}

// hardCut is how many cells of word fit in room, at least one.
func hardCut(word []cell, room int) int {
	used := 0
	for i, c := range word {
		if used+c.w > room {
			return max(i, 1)
		}
		used += c.w
	}
	return len(word)
}

// flush ends the line and starts the next indent cells in.
func (w *wrapper) flush(indent int) {
	w.out = append(w.out, w.render())
	w.line, w.words, w.indent = nil, false, indent
}

func (w *wrapper) render() string {
	var b strings.Builder
	b.WriteString(strings.Repeat(" ", w.indent))
	for i := 0; i < len(w.line); {
		j := i
		var run strings.Builder
		for j < len(w.line) && w.line[j].style == w.line[i].style {
			run.WriteRune(w.line[j].r)
			j++
		}
		b.WriteString(w.spans[w.line[i].style].style.Render(run.String()))
		i = j
	}
	return b.String()
}
