package phone

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/pushsim/pushsim/device/verifyclient"
)

// handleKey routes a key press: a dialog or the help takes every key; a
// text field takes letters; then the banner, the global keys and the
// screen.
func (p *Phone) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := p.c.keys
	if key.Matches(msg, k.ForceQuit) {
		return tea.Quit
	}
	if p.numbers != nil {
		return p.numberPromptDid(p.numbers.update(msg, k))
	}
	if p.dialog != nil {
		done, cmd := p.dialog.update(msg, k)
		if done {
			p.dialog = nil
		}
		return cmd
	}
	if p.showHelp {
		if key.Matches(msg, k.CloseHelp) {
			p.showHelp = false
		}
		return nil
	}
	top := p.top()
	if top.typing() {
		return top.update(msg)
	}
	if p.banner.visible {
		switch {
		case key.Matches(msg, k.Open):
			p.banner.visible = false
			return cmdOf(p.banner.openMsg(p.c.tag()))
		case key.Matches(msg, k.Cancel):
			p.banner.visible = false
			return nil
		}
	}
	if p.notice.isErr && key.Matches(msg, k.Cancel) {
		p.notice = notice{}
		return nil
	}
	switch {
	case key.Matches(msg, k.Quit):
		return tea.Quit
	case key.Matches(msg, k.Help):
		p.showHelp = true
		return nil
	case key.Matches(msg, k.Settings):
		return cmdOf(openSettingsMsg{tagged: p.c.tag()})
	case key.Matches(msg, k.Log):
		return cmdOf(openLogMsg{tagged: p.c.tag()})
	case key.Matches(msg, k.Back):
		if l, ok := top.(*logScreen); ok && l.closes() {
			return top.update(msg)
		}
		if top.kind() != ScreenEnroll {
			return p.pop()
		}
	}
	return top.update(msg)
}

// handleClick routes a click on a zone of the last frame.
func (p *Phone) handleClick(msg clickMsg) tea.Cmd {
	if p.numbers != nil {
		return p.numberPromptDid(p.numbers.update(msg, p.c.keys))
	}
	if p.dialog != nil {
		done, cmd := p.dialog.update(msg, p.c.keys)
		if done {
			p.dialog = nil
		}
		return cmd
	}
	switch msg.zone {
	case "banner":
		p.banner.visible = false
		return cmdOf(p.banner.openMsg(p.c.tag()))
	case "notice":
		p.notice = notice{}
		return nil
	case "nav:back":
		return p.pop()
	}
	return p.top().update(msg)
}

// numberPromptDid closes the number prompt once it is answered: the right
// number approves, a wrong one denies, as Authenticator apps do.
func (p *Phone) numberPromptDid(outcome promptOutcome) tea.Cmd {
	n := p.numbers
	switch outcome {
	case promptCancelled:
		p.numbers = nil
	case promptSubmitted:
		p.numbers = nil
		status := verifyclient.ChallengeApproved
		if !n.matches() {
			status = verifyclient.ChallengeDenied
			p.mismatched[n.challengeSid] = true
		}
		return cmdOf(answerMsg{tagged: p.c.tag(), factorSid: n.factorSid, challengeSid: n.challengeSid, status: status, matched: true})
	}
	return nil
}
