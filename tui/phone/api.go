package phone

import (
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/verifyclient"
)

// What a host can ask of a phone besides Update and View. Each method is
// called from the host's Update, like the phone's own, and returns the
// background work it starts, as a command.

// Device is the phone's device: its settings, its event stream and the log
// of its HTTP exchanges (Device().Exchanges()).
func (p *Phone) Device() *device.Device { return p.c.dev }

// Approve approves a challenge as its user would, asking first for the
// number of a number-matching one.
func (p *Phone) Approve(factorSid, challengeSid string) tea.Cmd {
	return p.answer(answerMsg{tagged: p.c.tag(), factorSid: factorSid, challengeSid: challengeSid, status: verifyclient.ChallengeApproved})
}

// Reload reads the phone's factors again, after the host changed them on
// the device.
func (p *Phone) Reload() tea.Cmd { return p.c.loadFactors() }

// Relaunch opens the app again: after the host enrolled the device, the
// app registers the new factor for pushes and starts polling for it.
func (p *Phone) Relaunch() tea.Cmd { return tea.Batch(p.c.loadFactors(), p.startLaunch()) }

// OpenChallenge shows a challenge's screen, as tapping its notification
// does.
func (p *Phone) OpenChallenge(factorSid, challengeSid string) tea.Cmd {
	return p.handleInternal(openChallengeMsg{tagged: p.c.tag(), factorSid: factorSid, challengeSid: challengeSid, fromNotification: true})
}

// Preload shows factors and challenges as though the phone had loaded them
// from its device and the server: for drawing a phone that has neither
// (goldens, pictures for the README).
func (p *Phone) Preload(factors []device.Factor, challenges ...device.Challenge) {
	p.c.inbox.setFactors(factors, map[string]bool{})
	for _, ch := range challenges {
		p.c.inbox.upsert(ch)
	}
}

// State is what a host can read of a phone between messages, to lay out
// around it, and what a host's tests wait on instead of reaching in.
type State struct {
	// Screen is the screen on top.
	Screen Screen
	// Badge counts the challenges that can still be answered.
	Badge int
	// Banner says a heads-up notification is showing; NumberPrompt that
	// the phone asks for a number-matching code.
	Banner       bool
	NumberPrompt bool
	// NewestPending is the newest challenge that can still be answered.
	NewestPending string
	// Selected is the challenge under the inbox cursor on a factor's
	// screen.
	Selected string
}

// State reports what the phone shows now.
func (p *Phone) State() State {
	now := p.c.verifyNow()
	s := State{
		Screen:       p.top().kind(),
		Badge:        p.c.inbox.pendingCount(now),
		Banner:       p.banner.visible,
		NumberPrompt: p.numbers != nil,
	}
	var newest time.Time
	for _, ch := range p.c.inbox.challenges {
		if isPending(ch, now) && (s.NewestPending == "" || ch.CreatedAt.After(newest)) {
			s.NewestPending, newest = ch.Sid, ch.CreatedAt
		}
	}
	if f, ok := p.top().(*factorScreen); ok {
		s.Selected = f.selectedSid
	}
	return s
}
