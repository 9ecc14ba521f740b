package phone

import (
	"errors"

	tea "charm.land/bubbletea/v2"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/verifyclient"
)

// handleEvent applies one device event: a challenge raises the badge and,
// when it came by push, the banner (again for every push: a resend is the
// backend asking the user to look); answers and expiries update the inbox
// and say so.
func (p *Phone) handleEvent(e device.Event) tea.Cmd {
	c := p.c
	switch e.Kind {
	case device.EventReady:
		return c.loadFactors()
	case device.EventEnrolled:
		delete(c.busy, "launch-enroll")
		return c.loadFactors()
	case device.EventFactorDeleted:
		c.inbox.forgetFactor(e.FactorSid)
		return c.loadFactors()
	case device.EventChallenge:
		ch := eventChallenge(e, verifyclient.ChallengePending)
		c.inbox.upsert(ch)
		c.inbox.via[e.ChallengeSid] = e.Via
		if e.Via != device.ViaPush {
			return nil
		}
		title := "New challenge"
		if e.Resent {
			title = "Challenge sent again"
		}
		return p.showBanner(title, e.Message, e.FactorSid, e.ChallengeSid)
	case device.EventApproved, device.EventDenied:
		status := verifyclient.ChallengeApproved
		if e.Kind == device.EventDenied {
			status = verifyclient.ChallengeDenied
		}
		c.inbox.upsert(eventChallenge(e, status))
		if e.Challenge == nil {
			c.inbox.setStatus(e.ChallengeSid, status)
		}
		if p.banner.challengeSid == e.ChallengeSid {
			p.banner.visible = false
		}
		switch {
		case status == verifyclient.ChallengeDenied && p.mismatched[e.ChallengeSid]:
			delete(p.mismatched, e.ChallengeSid)
			return p.showError(errNumberMismatch)
		case e.Silent:
			return p.showToast("Approved silently: " + quoteMessage(e.Message))
		case status == verifyclient.ChallengeApproved:
			return p.showToast("Challenge approved")
		default:
			return p.showToast("Challenge denied")
		}
	case device.EventExpired:
		c.inbox.setStatus(e.ChallengeSid, verifyclient.ChallengeExpired)
		if e.Challenge != nil {
			c.inbox.upsert(*e.Challenge)
		}
		if !answeredElsewhere(e.Challenge) {
			return nil
		}
		if p.banner.challengeSid == e.ChallengeSid {
			p.banner.visible = false
		}
		if p.numbers != nil && p.numbers.challengeSid == e.ChallengeSid {
			p.numbers = nil
		}
		return p.showToast("Answered on another device")
	case device.EventError:
		if errors.Is(e.Err, device.ErrAirplaneMode) {
			return nil // the status bar already says the phone is offline
		}
		return p.showError(e.Err)
	}
	return nil
}

// eventChallenge is the challenge an event carries, or what the event says
// about it when it carries none.
func eventChallenge(e device.Event, status string) device.Challenge {
	if e.Challenge != nil {
		return *e.Challenge
	}
	return device.Challenge{Sid: e.ChallengeSid, FactorSid: e.FactorSid, Status: status, Details: verifyclient.Details{Message: e.Message}}
}

func quoteMessage(m string) string {
	if m == "" {
		return "a challenge"
	}
	return "“" + m + "”"
}
