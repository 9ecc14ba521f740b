package phone

import (
	"context"
	"errors"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/verifyclient"
	"github.com/pushsim/pushsim/tui/style"
)

// Update handles one message. Messages another phone sent itself are
// ignored, so several phones can share a program.
func (p *Phone) Update(msg tea.Msg) (*Phone, tea.Cmd) {
	if m, ok := msg.(phoneMsg); ok && m.phoneID() != p.c.id {
		return p, nil
	}
	switch msg := msg.(type) {
	case tea.ColorProfileMsg:
		p.setColour(msg.Profile > colorprofile.ASCII)
		return p, nil
	case spinner.TickMsg:
		return p, p.spin(msg)
	case tea.KeyPressMsg:
		if !p.focused {
			return p, nil
		}
		return p, p.handleKey(msg)
	case tea.MouseClickMsg:
		if msg.Button != tea.MouseLeft {
			return p, nil
		}
		if name := p.zones.Hit(msg.X, msg.Y); name != "" {
			return p, p.handleClick(clickMsg{tagged: p.c.tag(), zone: name})
		}
		return p, nil
	case tea.PasteMsg:
		if p.focused && p.dialog == nil && p.numbers == nil {
			return p, p.top().update(msg)
		}
		return p, nil
	}
	return p, p.handleInternal(msg)
}

// handleInternal handles the phone's own messages: ticks, device events,
// the results of background work and navigation.
func (p *Phone) handleInternal(msg tea.Msg) tea.Cmd {
	c := p.c
	switch msg := msg.(type) {
	case clockTickMsg:
		// Countdowns and expiry are judged as each frame is drawn, never
		// written into the inbox: the clock they are judged with can be
		// wrong for a moment (a new clock offset, before a 401 teaches the
		// correction), and a wrong verdict must not outlive it.
		return c.clockTick()
	case refreshTickMsg:
		if msg.gen != p.refreshGen {
			return nil
		}
		return tea.Batch(p.refreshOpenScreen(), p.rearmRefreshSame())
	case EventMsg:
		return tea.Batch(p.handleEvent(msg.Event), waitForEvent(c.tag(), p.events))
	case eventsClosedMsg:
		return nil
	case launchEndedMsg:
		return p.launchEnded(msg)

	case factorsLoadedMsg:
		if msg.err != nil {
			return p.showError(msg.err)
		}
		c.inbox.setFactors(msg.factors, msg.silent)
		if len(msg.factors) > 0 {
			delete(c.busy, "launch-enroll")
		}
		return p.leaveDeletedFactor()
	case challengesLoadedMsg:
		var cmd tea.Cmd
		if msg.err != nil {
			cmd = p.quietError(msg.err)
		} else {
			c.inbox.replaceFactorPage(msg.factorSid, msg.challenges)
		}
		return tea.Batch(cmd, p.top().update(msg))
	case challengeLoadedMsg:
		if msg.err != nil {
			return p.quietError(msg.err)
		}
		if msg.challenge != nil {
			c.inbox.upsert(*msg.challenge)
		}
		return nil
	case answerMsg:
		return p.answer(msg)
	case answeredMsg:
		delete(c.busy, msg.challengeSid)
		if msg.challenge != nil {
			c.inbox.upsert(*msg.challenge)
		}
		if msg.err != nil {
			if errors.Is(msg.err, verifyclient.ErrExpiredChallenge) {
				c.inbox.setStatus(msg.challengeSid, verifyclient.ChallengeExpired)
			}
			return tea.Batch(p.showError(msg.err), c.loadChallenge(msg.factorSid, msg.challengeSid))
		}
		return nil
	case enrollMsg:
		c.busy["enroll"] = "Creating factor…"
		p.pushOn = msg.push
		return tea.Batch(p.startSpinner(), c.enroll(msg.params, msg.push))
	case enrolledMsg:
		delete(c.busy, "enroll")
		cmds := []tea.Cmd{c.loadFactors()}
		if msg.err != nil {
			return tea.Batch(append(cmds, p.showError(msg.err))...)
		}
		cmds = append(cmds, p.showToast("Factor "+style.Shorten(msg.factor.Sid, 14)+" created"))
		if p.top().kind() == ScreenEnroll {
			cmds = append(cmds, p.pop())
		}
		// The app runs once there is a factor, registered as the form said.
		if !p.launch.running || p.launch.push != p.pushOn {
			cmds = append(cmds, p.startLaunch())
		}
		return tea.Batch(cmds...)
	case deleteFactorMsg:
		c.busy[msg.factorSid] = "Deleting…"
		return tea.Batch(p.startSpinner(), c.deleteFactor(msg.factorSid))
	case factorDeletedMsg:
		delete(c.busy, msg.factorSid)
		if msg.err != nil {
			return tea.Batch(p.showError(msg.err), c.loadFactors())
		}
		return tea.Batch(p.showToast("Factor deleted"), c.loadFactors())
	case reinstallMsg:
		dev := c.dev
		return c.setting("reinstall", func(context.Context) error { return dev.ClearLocalStorage() })
	case settingDoneMsg:
		if msg.err != nil {
			return tea.Batch(p.showError(msg.err), c.loadFactors())
		}
		if msg.what == "reinstall" {
			return tea.Batch(p.popTo(ScreenFactors), p.showToast("App reinstalled: keystore wiped"), c.loadFactors())
		}
		return nil
	case noticeExpiredMsg:
		if msg.id == p.notice.id {
			p.notice = notice{}
		}
		return nil
	case bannerExpiredMsg:
		if msg.id == p.banner.id {
			p.banner.visible = false
		}
		return nil

	case openEnrollMsg:
		return p.push(newEnrollScreen(c, c.opts.Identity, p.pushOn))
	case openFactorMsg:
		return p.push(newFactorScreen(c, msg.factorSid))
	case openChallengeMsg:
		return p.openChallenge(msg)
	case openSettingsMsg:
		if p.top().kind() == ScreenSettings {
			return nil
		}
		return p.push(newSettingsScreen(p))
	case openLogMsg:
		if p.top().kind() == ScreenLog {
			return nil
		}
		return p.push(newLogScreen(c))
	case backMsg:
		return p.pop()
	case confirmMsg:
		p.dialog = &dialog{question: msg.question, detail: msg.detail, yes: msg.yes}
		return nil
	}
	return nil
}

// answer starts an approve or deny, once per challenge.
func (p *Phone) answer(msg answerMsg) tea.Cmd {
	c := p.c
	if c.isBusy(msg.challengeSid) {
		return nil
	}
	if msg.status == verifyclient.ChallengeApproved && !msg.matched {
		if want := numberToMatch(c.inbox.challenges[msg.challengeSid]); want != "" {
			p.numbers = newNumberPrompt(msg.factorSid, msg.challengeSid, want)
			return nil
		}
	}
	label := "Approving…"
	if msg.status == verifyclient.ChallengeDenied {
		label = "Denying…"
	}
	c.busy[msg.challengeSid] = label
	return tea.Batch(p.startSpinner(), c.answer(msg.factorSid, msg.challengeSid, msg.status))
}

// quietError shows an error unless it is airplane mode, which the status
// bar already shows.
func (p *Phone) quietError(err error) tea.Cmd {
	if errors.Is(err, device.ErrAirplaneMode) {
		return nil
	}
	return p.showError(err)
}

// leaveDeletedFactor closes screens of a factor that is gone.
func (p *Phone) leaveDeletedFactor() tea.Cmd {
	for i, s := range p.screens {
		var sid string
		switch t := s.(type) {
		case *factorScreen:
			sid = t.factorSid
		case *challengeScreen:
			sid = t.factorSid
		default:
			continue
		}
		if _, ok := p.c.inbox.factor(sid); !ok {
			p.screens = p.screens[:i]
			return p.top().show()
		}
	}
	return nil
}
