package phone

import (
	"time"

	tea "charm.land/bubbletea/v2"

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

// view lays out the phone's bottom rows: the notice, wrapped so that none
// of it is lost (an error's detail is what tells the user what went
// wrong), then the help footer, which an error's detail replaces. There
// are always at least two rows; more cover the bottom of the screen above
// them until the notice goes.
func (n notice) view(st *style.Styles, width int, footer string) []string {
	switch {
	case !n.visible():
		return []string{"", footer}
	case !n.isErr:
		return append(style.WrapIndented("✓ "+n.text, width, 2, st.Toast), footer)
	}
	lines := style.WrapIndented("✗ "+n.text, width, 2, st.Error)
	detail := "esc dismiss"
	if n.detail != "" {
		detail = n.detail + " · " + detail
	}
	lines = append(lines, style.WrapIndented(detail, width, 2, st.ErrorDetail)...)
	for i, l := range lines {
		lines[i] = style.Mark("notice", l)
	}
	return lines
}
