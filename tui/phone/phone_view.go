package phone

import (
	"slices"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"

	"github.com/pushsim/pushsim/internal/termtext"
	"github.com/pushsim/pushsim/tui/style"
)

// View draws the phone centred in its box, or, when the box cannot hold
// it, the size it needs and the size it has. It also records where the
// clickable zones landed, for the next click.
func (p *Phone) View() string {
	w, h, ok := phoneSize(p.width, p.height)
	if !ok {
		p.zones = nil
		return style.TooSmall(p.c.styles, "the phone", MinWidth, MinHeight, p.width, p.height)
	}
	st := p.c.styles
	cw, ch := contentSize(w, h)

	var body []string
	if p.showHelp {
		body = style.FitBlock(p.fullHelpView(), cw, ch)
	} else {
		body = style.FitBlock(p.top().view(), cw, ch)
	}
	if p.banner.visible && !p.showHelp {
		body = style.Overlay(body, p.banner.view(st, cw), 0, cw)
	}
	if p.dialog != nil {
		dv := p.dialog.view(st, min(cw, 40))
		body = style.Overlay(body, dv, max((ch-lipgloss.Height(dv))/2, 0), cw)
	}
	if p.numbers != nil {
		nv := p.numbers.view(st, p.c.keys, min(cw, 32))
		body = style.Overlay(body, nv, max((ch-lipgloss.Height(nv))/2, 0), cw)
	}
	bottom := fitBottom(p.notice.view(st, cw, p.footerView()), ch+rowsBelow, cw)
	// A notice longer than its two rows covers the bottom of the screen.
	body = body[:ch+rowsBelow-len(bottom)]

	rows := make([]string, 0, ch+rowsAbove+rowsBelow)
	rows = append(rows, p.statusBar(cw), p.titleBar(cw))
	rows = append(rows, body...)
	for _, l := range bottom {
		rows = append(rows, style.FitLine(l, cw))
	}

	frame := st.Frame
	if p.focused {
		frame = st.FrameFocused
	}
	phone := outline(rows, w-2, st.Theme.Border, frame)
	placed := lipgloss.Place(p.width, p.height, lipgloss.Center, lipgloss.Center, phone)
	clean, zones := style.ScanZones(placed)
	p.zones = zones
	return termtext.Frame(clean)
}

// fitBottom keeps the bottom rows within most rows; a notice too long for
// the whole screen ends with a line saying how much of it is not shown.
func fitBottom(lines []string, most, width int) []string {
	if len(lines) <= most {
		return lines
	}
	kept := lines[: most-1 : most-1]
	return append(kept, style.FitLine("… "+strconv.Itoa(len(lines)-len(kept))+" more lines", width))
}

// statusBar is the phone's top line: the clock on the left; the network,
// push and app state and the pending badge on the right.
func (p *Phone) statusBar(width int) string {
	st, dev := p.c.styles, p.c.dev
	clock := st.Status.Clock.Render(p.c.phoneNow().Format("15:04"))
	var items []string
	if dev.AirplaneMode() {
		items = append(items, st.Status.Warning.Render("✈ airplane"))
	} else {
		items = append(items, st.Status.Item.Render("▂▄▆█"))
	}
	if p.pushOn {
		items = append(items, st.Status.Item.Render("push"))
	} else {
		items = append(items, st.Status.Warning.Render("poll"))
	}
	if !dev.Foreground() {
		items = append(items, st.Status.Warning.Render("background"))
	}
	if n := p.c.inbox.pendingCount(p.c.verifyNow()); n > 0 {
		items = append(items, st.Status.Badge.Render(strconv.Itoa(n)))
	}
	return style.Spread(clock, strings.Join(items, " "), width)
}

// titleBar names the screen, with a back arrow once there is somewhere to
// go back to.
func (p *Phone) titleBar(width int) string {
	st := p.c.styles
	top := p.top()
	if p.showHelp {
		return style.FitLine(st.Title.Render("Keys · "+top.title()), width)
	}
	left := st.Title.Render(top.title())
	if len(p.screens) > 1 {
		left = style.Mark("nav:back", st.Back.Render("‹ ")) + left
	}
	return style.Spread(left, top.info(), width)
}

// footerView is the short help: as many of the top screen's keys as fit,
// then '?', which always shows, last, so the keys that did not fit are one
// press away.
func (p *Phone) footerView() string {
	k, st := p.c.keys, p.c.styles
	switch {
	case p.numbers != nil:
		return style.ShortHelp(st, []key.Binding{k.Digit, k.Confirm, k.Cancel}, p.c.width)
	case p.dialog != nil:
		return style.ShortHelp(st, []key.Binding{k.Yes, k.No}, p.c.width)
	case p.showHelp:
		return style.ShortHelp(st, []key.Binding{k.CloseHelp}, p.c.width)
	}
	return style.ShortHelp(st, append(slices.Clip(p.top().help()), k.Help), p.c.width)
}

// fullHelpView lists every key, the top screen's first; cursor movement
// shares one line.
func (p *Phone) fullHelpView() string {
	st, k := p.c.styles, p.c.keys
	isMove := func(b key.Binding) bool {
		for _, m := range k.Navigation() {
			if m.Help() == b.Help() {
				return true
			}
		}
		return false
	}
	entry := func(keys, desc string) string {
		return "  " + st.Help.FullKey.Render(style.PadRight(keys, 11)) + st.Help.FullDesc.Render(desc)
	}
	var lines []string
	group := func(title string, bindings []key.Binding) {
		lines = append(lines, st.Heading.Render(title))
		moving := false
		for _, b := range bindings {
			switch {
			case !b.Enabled():
			case isMove(b):
				moving = true
			default:
				lines = append(lines, entry(b.Help().Key, b.Help().Desc))
			}
		}
		if moving {
			lines = append(lines, entry("↑↓ jk g G", "move (pgup/pgdn: pages)"))
		}
	}
	group("On this screen", p.top().keys())
	lines = append(lines, "")
	group("Everywhere", k.Global())
	lines = append(lines, st.Muted.Render("Mouse: click rows, buttons, the banner."))
	return strings.Join(lines, "\n")
}
