package phone

import (
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/pushsim/pushsim/internal/termtext"
	"github.com/pushsim/pushsim/tui/style"
)

// notice is the line above the help footer: a toast after something
// worked, or the error bar after something failed. The error bar takes the
// footer's line too, for the SDK and HTTP detail under the Twilio code.
type notice struct {
	id     int
	isErr  bool
	text   string
	detail string
}

// How long notices stay. Errors stay longer: they carry codes to read.
const (
	toastTimeout = 4 * time.Second
	errorTimeout = 12 * time.Second
)

// Notices quote the network (a challenge's message, a server's error), so
// their text is made safe as it is set.

func (p *Phone) showToast(text string) tea.Cmd {
	p.notice = notice{id: p.notice.id + 1, text: termtext.Line(text)}
	return after(toastTimeout, noticeExpiredMsg{tagged: p.c.tag(), id: p.notice.id})
}

func (p *Phone) showError(err error) tea.Cmd {
	head, detail := describeError(err)
	p.notice = notice{id: p.notice.id + 1, isErr: true, text: termtext.Line(head), detail: termtext.Line(detail)}
	return after(errorTimeout, noticeExpiredMsg{tagged: p.c.tag(), id: p.notice.id})
}

func (n notice) visible() bool { return n.text != "" }

// view renders the notice into the two bottom rows; keep is whether the
// help footer keeps its row.
func (n notice) view(st *style.Styles, width int, footer string) (string, string) {
	switch {
	case !n.visible():
		return "", footer
	case !n.isErr:
		return style.FitLine(st.Toast.Render("✓ "+n.text), width), footer
	}
	line := "✗ " + n.text
	if ansi.StringWidth(line) <= width {
		detail := n.detail
		if detail != "" {
			detail += " · "
		}
		return style.Mark("notice", st.Error.Render(line)), style.Mark("notice", style.FitLine(st.ErrorDetail.Render(detail+"esc dismiss"), width))
	}
	// A long message wraps onto the footer's row.
	wrapped := ansi.Hardwrap(line, width, true)
	first, rest := wrapped, ""
	for i := 0; i < len(wrapped); i++ {
		if wrapped[i] == '\n' {
			first, rest = wrapped[:i], wrapped[i+1:]
			break
		}
	}
	return style.Mark("notice", st.Error.Render(first)), style.Mark("notice", style.FitLine(st.Error.Render(rest), width))
}
