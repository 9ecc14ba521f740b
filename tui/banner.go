package tui

import (
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
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
	b.title, b.message = title, message
	b.factorSid, b.challengeSid = factorSid, challengeSid
	return after(bannerTimeout, bannerExpiredMsg{tagged: p.c.tag(), id: b.id})
}

func (b *banner) view(st *Styles, width int) string {
	inner := width - st.Banner.Box.GetHorizontalFrameSize()
	message := b.message
	if message == "" {
		message = "(no message)"
	}
	lines := []string{
		spread(st.Banner.Title.Render("◆ "+b.title), st.Banner.Hint.Render("now"), inner),
		fitLine(st.Banner.Text.Render(message), inner),
		fitLine(st.Banner.Hint.Render("enter open · esc dismiss"), inner),
	}
	return mark("banner", st.Banner.Box.Width(width).Render(strings.Join(lines, "\n")))
}

// bannerHeight is the rows a banner covers.
func bannerHeight(st *Styles) int {
	return 3 + st.Banner.Box.GetVerticalFrameSize()
}
