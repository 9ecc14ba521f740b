package phone

import (
	"context"

	tea "charm.land/bubbletea/v2"

	"github.com/pushsim/pushsim/device"
)

// launcher runs device.Launch, the app's "open" (push registration, the
// poller, the push socket), in a background command, and restarts it when
// push is switched or the first factor is enrolled from the UI.
type launcher struct {
	gen     int
	running bool
	push    bool // whether the running launch registered for pushes
	cancel  context.CancelFunc
}

// startLaunch (re)starts the app. Only the first launch enrolls the
// identity it was given; later ones just run, so deleting the last factor
// and switching push does not enroll it again behind the user's back.
func (p *Phone) startLaunch() tea.Cmd {
	if p.c.opts.NoLaunch {
		return nil // the host runs the device
	}
	l := &p.launch
	if l.cancel != nil {
		l.cancel()
	}
	l.gen++
	ctx, cancel := context.WithCancel(p.c.ctx)
	l.cancel, l.running, l.push = cancel, true, p.pushOn
	o := p.c.opts
	opts := device.LaunchOptions{Identity: o.Identity, FriendlyName: o.FriendlyName, AutoAnswer: o.AutoAnswer}
	if p.pushOn {
		opts.PushURL = p.c.dev.PushURL()
	}
	if l.gen > 1 {
		opts.Identity, opts.FriendlyName = "", ""
	}
	if opts.Identity != "" {
		p.c.busy["launch-enroll"] = "Enrolling " + opts.Identity + "…"
	}
	gen, tag, dev := l.gen, p.c.tag(), p.c.dev
	return tea.Batch(p.startSpinner(), func() tea.Msg {
		if opts.Identity == "" {
			// With no factor and no one to enroll the app has nothing to
			// run yet; it starts when the user enrolls from the form.
			if factors, err := dev.GetAllFactors(); err == nil && len(factors) == 0 {
				return launchEndedMsg{tagged: tag, gen: gen}
			}
		}
		err := dev.Launch(ctx, opts)
		if ctx.Err() != nil {
			err = nil
		}
		return launchEndedMsg{tagged: tag, gen: gen, err: err}
	})
}

// launchEnded records that the app stopped; an enrolment that failed at
// start opens the form, prefilled, with the error on screen.
func (p *Phone) launchEnded(msg launchEndedMsg) tea.Cmd {
	if msg.gen != p.launch.gen {
		return nil
	}
	p.launch.running = false
	delete(p.c.busy, "launch-enroll")
	if msg.err == nil {
		return p.c.loadFactors()
	}
	cmds := []tea.Cmd{p.showError(msg.err), p.c.loadFactors()}
	if p.top().kind() != ScreenEnroll {
		cmds = append(cmds, p.push(newEnrollScreen(p.c, p.c.opts.Identity, p.pushOn)))
	}
	return tea.Batch(cmds...)
}

// setPush switches push for the whole phone. Launch settles the push
// registration for its options, so switching is a relaunch: on registers
// every factor for pushes, off moves them to platform none and polling.
func (p *Phone) setPush(on bool) tea.Cmd {
	if on && p.c.dev.PushURL() == "" {
		return p.showError(errNoPushService)
	}
	p.pushOn = on
	if !p.launch.running && len(p.c.inbox.factors) == 0 {
		return nil // the next enrolment uses the new setting
	}
	return p.startLaunch()
}
