package phone

import (
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
)

// refreshOpenScreen reloads what the top screen shows, while the app is in
// the foreground and online, as an open app keeps its list fresh.
func (p *Phone) refreshOpenScreen() tea.Cmd {
	dev := p.c.dev
	if dev.AirplaneMode() || !dev.Foreground() {
		return nil
	}
	switch t := p.top().(type) {
	case *factorScreen:
		return p.c.loadChallenges(t.factorSid)
	case *challengeScreen:
		return p.c.loadChallenge(t.factorSid, t.challengeSid)
	}
	return nil
}

// rearmRefresh starts a new refresh chain at the current poll interval,
// retiring the old one.
func (p *Phone) rearmRefresh() tea.Cmd {
	p.refreshGen++
	return p.rearmRefreshSame()
}

func (p *Phone) rearmRefreshSame() tea.Cmd {
	return p.c.refreshTick(p.refreshGen, p.c.dev.PollInterval())
}

// startSpinner starts the spinner's ticks if they are not running.
func (p *Phone) startSpinner() tea.Cmd {
	if p.spinning {
		return nil
	}
	p.spinning = true
	return p.spinner.Tick
}

// spin advances the spinner while work is in flight and lets its ticks
// stop when there is none.
func (p *Phone) spin(msg spinner.TickMsg) tea.Cmd {
	if msg.ID != p.spinner.ID() {
		return nil
	}
	if len(p.c.busy) == 0 {
		p.spinning = false
		return nil
	}
	var cmd tea.Cmd
	p.spinner, cmd = p.spinner.Update(msg)
	p.c.spin = p.spinner.View()
	return cmd
}
