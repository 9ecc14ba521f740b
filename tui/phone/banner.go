package phone

import (
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/pushsim/pushsim/internal/termtext"
	"github.com/pushsim/pushsim/tui/style"
)

// banner is the heads-up notification a push raises: "New challenge" and
// the message, over the top of the screen until it times out, is opened
// (enter or a click) or dismissed (esc).
type banner struct {
	id           int
	visible      bool
	title        string
	message      string
	factorSid    string
	challengeSid string
}

// bannerTimeout is how long a heads-up banner stays, as on Android.
const bannerTimeout = 8 * time.Second

func (p *Phone) showBanner(title, message, factorSid, challengeSid string) tea.Cmd {
	b := &p.banner
	b.id++
	b.visible = true
	b.title, b.message = title, termtext.Line(message)
	b.factorSid, b.challengeSid = factorSid, challengeSid
	return after(bannerTimeout, bannerExpiredMsg{tagged: p.c.tag(), id: b.id})
}

// openMsg opens the banner's challenge, as tapping the notification does.
func (b *banner) openMsg(tag tagged) openChallengeMsg {
	return openChallengeMsg{tagged: tag, factorSid: b.factorSid, challengeSid: b.challengeSid, fromNotification: true}
}

func (b *banner) view(st *style.Styles, width int) string {
	inner := width - st.Banner.Box.GetHorizontalFrameSize()
	message := b.message
	if message == "" {
		message = "(no message)"
	}
	lines := []string{
		style.Spread(st.Banner.Title.Render("◆ "+b.title), st.Banner.Hint.Render("now"), inner),
		style.FitLine(st.Banner.Text.Render(message), inner),
		style.FitLine(st.Banner.Hint.Render("enter open · esc dismiss"), inner),
	}
	return style.Mark("banner", st.Banner.Box.Width(width).Render(strings.Join(lines, "\n")))
}
