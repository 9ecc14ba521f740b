package phone

import (
	"context"
	"errors"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/verifyclient"
)

// Background work: each command calls the device and reports back with one
// typed message. None of them touches the phone's state; Update does.

// inboxPageSize is how many challenges a factor's inbox loads, as the
// sample app does.
const inboxPageSize = 20

// requestTimeout bounds each call the UI makes, so a hung server never
// leaves a spinner turning forever.
const requestTimeout = 30 * time.Second

func (c *common) withTimeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.ctx, requestTimeout)
}

func (c *common) loadFactors() tea.Cmd {
	tag, dev := c.tag(), c.dev
	return func() tea.Msg {
		factors, err := dev.GetAllFactors()
		silent := map[string]bool{}
		for _, f := range factors {
			on, serr := dev.SilentApproval(f.Sid)
			err = errors.Join(err, serr)
			silent[f.Sid] = on
		}
		return factorsLoadedMsg{tagged: tag, factors: factors, silent: silent, err: err}
	}
}

func (c *common) loadChallenges(factorSid string) tea.Cmd {
	tag, dev := c.tag(), c.dev
	return func() tea.Msg {
		ctx, cancel := c.withTimeout()
		defer cancel()
		list, err := dev.GetAllChallenges(ctx, factorSid, device.ListParams{PageSize: inboxPageSize, Order: verifyclient.OrderDesc})
		msg := challengesLoadedMsg{tagged: tag, factorSid: factorSid, err: err}
		if list != nil {
			msg.challenges = list.Challenges
		}
		return msg
	}
}

func (c *common) loadChallenge(factorSid, challengeSid string) tea.Cmd {
	tag, dev := c.tag(), c.dev
	return func() tea.Msg {
		ctx, cancel := c.withTimeout()
		defer cancel()
		ch, err := dev.GetChallenge(ctx, factorSid, challengeSid)
		return challengeLoadedMsg{tagged: tag, factorSid: factorSid, challengeSid: challengeSid, challenge: ch, err: err}
	}
}

func (c *common) answer(factorSid, challengeSid, status string) tea.Cmd {
	tag, dev := c.tag(), c.dev
	return func() tea.Msg {
		ctx, cancel := c.withTimeout()
		defer cancel()
		ch, err := dev.UpdateChallenge(ctx, factorSid, challengeSid, status)
		return answeredMsg{tagged: tag, factorSid: factorSid, challengeSid: challengeSid, status: status, challenge: ch, err: err}
	}
}

// enroll settles the phone's push registration first, because a factor is
// created with whatever push token the phone has at that moment.
func (c *common) enroll(p device.EnrollParams, push bool) tea.Cmd {
	tag, dev := c.tag(), c.dev
	return func() tea.Msg {
		ctx, cancel := c.withTimeout()
		defer cancel()
		var err error
		if push {
			_, err = dev.EnsurePushToken(ctx)
		} else {
			err = dev.UpdatePushToken(ctx, "")
		}
		if err != nil {
			return enrolledMsg{tagged: tag, err: err}
		}
		f, err := dev.CreateFactor(ctx, p)
		return enrolledMsg{tagged: tag, factor: f, err: err}
	}
}

func (c *common) deleteFactor(factorSid string) tea.Cmd {
	tag, dev := c.tag(), c.dev
	return func() tea.Msg {
		ctx, cancel := c.withTimeout()
		defer cancel()
		return factorDeletedMsg{tagged: tag, factorSid: factorSid, err: dev.DeleteFactor(ctx, factorSid)}
	}
}

// setting runs a settings change that may touch the network or disk.
func (c *common) setting(what string, do func(context.Context) error) tea.Cmd {
	tag := c.tag()
	return func() tea.Msg {
		ctx, cancel := c.withTimeout()
		defer cancel()
		return settingDoneMsg{tagged: tag, what: what, err: do(ctx)}
	}
}

// waitForEvent delivers the next device event; Update issues it again after
// each one, so events arrive one at a time, in order.
func waitForEvent(tag tagged, events <-chan device.Event) tea.Cmd {
	return func() tea.Msg {
		e, ok := <-events
		if !ok {
			return eventsClosedMsg{tagged: tag}
		}
		return EventMsg{tagged: tag, Event: e}
	}
}

// clockTick fires on the next whole second of the phone's clock, so countdowns
// reach zero on the second the challenge expires.
func (c *common) clockTick() tea.Cmd {
	tag := c.tag()
	now := c.phoneNow()
	wait := now.Truncate(time.Second).Add(time.Second).Sub(now)
	if wait <= 0 || wait > time.Second {
		wait = time.Second
	}
	return tea.Tick(wait, func(time.Time) tea.Msg { return clockTickMsg{tagged: tag} })
}

func (c *common) refreshTick(gen int, every time.Duration) tea.Cmd {
	tag := c.tag()
	return tea.Tick(every, func(time.Time) tea.Msg { return refreshTickMsg{tagged: tag, gen: gen} })
}

// after delivers msg once d has passed.
func after(d time.Duration, msg tea.Msg) tea.Cmd {
	return tea.Tick(d, func(time.Time) tea.Msg { return msg })
}
