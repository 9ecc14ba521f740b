package style

import (
	"regexp"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// SIDWidth is the width of a Twilio SID: two letters and 32 hex digits.
// Wrapping keeps a SID whole, so a pane that may show one needs lines at
// least this wide.
const SIDWidth = 34

// Wrap breaks s into lines of at most width cells, between words, and
// loses nothing: a word that does not fit moves to the next line, and one
// that is too long for any line breaks next to a '/' (URLs and paths), or
// else, as a last resort, wherever the line ends. A SID is one word, so it
// is never split while a line can hold it. Styles (SGR sequences) carry
// over line breaks, each line closing and reopening what is in effect.
func Wrap(s string, width int) []string { return wrapLines(s, width, 0) }

// WrapHanging is Wrap with a hanging indent: lines after the first start
// hang cells in.
func WrapHanging(s string, width, hang int) []string { return wrapLines(s, width, hang) }

// trimPunctuation is word without the punctuation that ends it.
func trimPunctuation(word string) string {
	return strings.TrimRight(word, ".,;:)!?")
}

// wrapLines is Wrap with a hanging indent: lines after the first start
// indent cells in, or less when a long word needs the room. Each line of
// s is wrapped on its own and keeps its leading spaces; a line that fits
// is left exactly as it is.
func wrapLines(s string, width, indent int) []string {
	width = max(width, 1)
	indent = min(max(indent, 0), width-1)
	var out []string
	for _, para := range strings.Split(s, "\n") {
		if ansi.StringWidth(para) <= width {
			out = append(out, para)
			continue
		}
		w := &wrapper{width: width, indent: indent}
		lead := len(para) - len(strings.TrimLeft(para, " "))
		w.startLine(min(lead, width-1))
		for _, word := range strings.Fields(para[lead:]) {
			w.word(word)
		}
		w.flush()
		out = append(out, w.lines...)
	}
	return carryStyles(out)
}

// wrapper builds the lines of one paragraph.
type wrapper struct {
	width, indent int
	lines         []string

	line  strings.Builder
	used  int  // cells on the line, indentation included
	empty bool // no word on the line yet
}

func (w *wrapper) startLine(indent int) {
	w.line.Reset()
	w.line.WriteString(strings.Repeat(" ", indent))
	w.used, w.empty = indent, true
}

func (w *wrapper) flush() {
	w.lines = append(w.lines, w.line.String())
}

func (w *wrapper) newLine() {
	w.flush()
	w.startLine(w.indent)
}

// reindent moves the empty line's start left so that n cells fit on it.
func (w *wrapper) reindent(n int) {
	w.startLine(min(w.indent, max(w.width-n, 0)))
}

func (w *wrapper) put(s string, cells int) {
	w.line.WriteString(s)
	w.used += cells
	w.empty = false
}

// room is what is left of the line for a word, after the space that
// separates it from the previous one.
func (w *wrapper) room() int {
	if w.empty {
		return w.width - w.used
	}
	return w.width - w.used - 1
}

func (w *wrapper) word(word string) {
	cells := ansi.StringWidth(word)
	switch {
	case cells <= w.room():
		w.space()
		w.put(word, cells)
	case cells <= w.width-w.indent:
		w.newLine()
		w.put(word, cells)
	case strings.Contains(ansi.Strip(word), "/"):
		w.breakAtSlashes(word)
	default:
		if !w.empty {
			w.newLine()
		}
		if cells <= w.width {
			// A word longer than an indented line gets a line of its
			// own, as far left as it needs: SIDs stay whole.
			w.reindent(cells)
			w.put(word, cells)
			return
		}
		if bare := trimPunctuation(word); bare != word && ansi.StringWidth(bare) <= w.width && cells-ansi.StringWidth(bare) <= w.width-w.indent {
			// A SID ending a sentence: the SID keeps a line of its own,
			// its full stop goes to the next.
			w.reindent(ansi.StringWidth(bare))
			w.put(bare, ansi.StringWidth(bare))
			w.newLine()
			w.put(word[len(bare):], cells-ansi.StringWidth(bare))
			return
		}
		w.hardBreak(word)
	}
}

func (w *wrapper) space() {
	if !w.empty {
		w.put(" ", 1)
	}
}

// breakAtSlashes lays out a long URL or path, breaking only before or
// after a '/'; a part between slashes that fits no line breaks as a last
// resort.
func (w *wrapper) breakAtSlashes(word string) {
	parts := splitAtSlashes(word)
	if first := ansi.StringWidth(parts[0]); first > w.room() && !w.empty {
		w.newLine()
	}
	w.space()
	for _, p := range parts {
		cells := ansi.StringWidth(p)
		switch {
		case cells <= w.width-w.used:
			w.put(p, cells)
		case cells <= w.width-w.indent:
			w.newLine()
			w.put(p, cells)
		case cells <= w.width:
			if !w.empty {
				w.newLine()
			}
			w.reindent(cells)
			w.put(p, cells)
		default:
			w.hardBreak(p)
		}
	}
}

// splitAtSlashes cuts s before and after every '/', and every '?', '&' and '='
// of a query string, so each is a part of its own: a SID in a path or a
// query keeps its line.
func splitAtSlashes(s string) []string {
	var parts []string
	for {
		i := strings.IndexAny(s, "/?&=")
		if i < 0 {
			break
		}
		if i > 0 {
			parts = append(parts, s[:i])
		}
		parts = append(parts, s[i:i+1])
		s = s[i+1:]
	}
	if s != "" {
		parts = append(parts, s)
	}
	return parts
}

// hardBreak cuts a word longer than any line into pieces that fill the
// lines, from a line of its own: the last resort, so that nothing is lost.
func (w *wrapper) hardBreak(word string) {
	if !w.empty {
		w.newLine()
	}
	total := ansi.StringWidth(word)
	for at := 0; at < total; {
		if w.width-w.used <= 0 {
			w.newLine()
		}
		n := w.width - w.used
		piece := ansi.Cut(word, at, at+n)
		cells := ansi.StringWidth(piece)
		if cells == 0 { // a wide character at the edge of a one-cell line
			piece = ansi.Cut(word, at, at+2)
			cells = ansi.StringWidth(piece)
		}
		w.put(piece, cells)
		at += cells
	}
}

// sgrPattern matches an SGR escape sequence (colours, bold, reverse…).
var sgrPattern = regexp.MustCompile("\x1b\\[[0-9;:]*m")

// carryStyles makes each line stand alone: a line ends by resetting what
// is in effect at its end, and the next one reopens it after its
// indentation. A pane's line then never bleeds into its neighbour's.
func carryStyles(lines []string) []string {
	active := ""
	for i, l := range lines {
		if active != "" {
			body := strings.TrimLeft(l, " ")
			l = l[:len(l)-len(body)] + active + body
		}
		for _, seq := range sgrPattern.FindAllString(l, -1) {
			if seq == "\x1b[m" || seq == "\x1b[0m" {
				active = ""
			} else {
				active += seq
			}
		}
		if active != "" {
			l += "\x1b[m"
		}
		lines[i] = l
	}
	return lines
}
