package tour

import (
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/pushsim/pushsim/tui/style"
)

// span is text in one style, a part of what wrapSpans lays out.
type span struct {
	text  string
	style lipgloss.Style
}

// wrap lays text in one style out in lines of at most width cells, lines
// after the first hang cells in, losing nothing: what the tour shows (SIDs,
// URLs, signatures) is read and copied. style.Wrap has the rules.
func wrap(text string, width, hang int, st lipgloss.Style) []string {
	return wrapSpans(width, hang, span{text, st})
}

// wrapSpans is wrap for text in several styles.
func wrapSpans(width, hang int, spans ...span) []string {
	var b strings.Builder
	for _, s := range spans {
		// Line by line: lipgloss pads the lines of a block to one width.
		for i, line := range strings.Split(s.text, "\n") {
			if i > 0 {
				b.WriteByte('\n')
			}
			// Leading spaces stay outside the style, where the wrapper
			// sees them as the line's indent.
			body := strings.TrimLeft(line, " ")
			b.WriteString(line[:len(line)-len(body)])
			if body != "" {
				b.WriteString(s.style.Render(body))
			}
		}
	}
	return style.WrapHanging(b.String(), width, hang)
}
