package scenario

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/verifyclient"
)

// Poll intervals of the runner's phones. A phone without push polls
// often, so that scenarios stay short. A phone with push polls when the
// app starts, reconnects or is opened (open PHONE), as a real app in the
// background does: a challenge that reaches it came by push unless the
// scenario says otherwise.
const (
	pollWithoutPush = 250 * time.Millisecond
	pollWithPush    = time.Hour
)

// phone is one of the scenario's phones: a device in this process, what it
// reported, and its inbox as its screen would show it.
type phone struct {
	r    *run
	decl *phoneStep
	user *user
	home string
	poll time.Duration
	http *http.Client

	mu        sync.Mutex
	dev       *device.Device
	install   int
	events    []device.Event // every install's, in order
	inbox     map[string]*inboxEntry
	arrivals  int
	factorSid string
	ready     bool
	pushUp    bool
	exited    bool
	exitErr   error
	stop      context.CancelFunc
	stopped   chan struct{}

	// requests numbers the phone's HTTP requests as they start; polled is
	// the number of the latest challenge list to have finished.
	requests, polled int
}

// inboxEntry is a challenge as the phone knows it.
type inboxEntry struct {
	sid, factorSid string
	status, reason string
	expires        time.Time
	hidden         map[string]string
	arrival        int
}

func (r *run) newPhone(s *phoneStep) *phone {
	p := &phone{r: r, decl: s, user: r.user(s.user), home: filepath.Join(r.tmp, "phones", s.name), poll: s.poll}
	if p.poll == 0 {
		p.poll = pollWithPush
		if !s.push {
			p.poll = pollWithoutPush
		}
	}
	p.http = &http.Client{Timeout: 30 * time.Second, Transport: &watchedTransport{p: p, next: r.transport}}
	return p
}

func (s *phoneStep) run(ctx context.Context, r *run) error {
	p := r.newPhone(s)
	r.phones[s.name] = p
	if p.user.real != p.user.name {
		r.log.note("%s enrolls %s as %s on the shared server", s.name, p.user.name, p.user.real)
	}
	return p.launch(ctx)
}

// launch installs the app if its home is empty and opens it, which
// enrolls the user, and waits until the phone is ready for challenges.
func (p *phone) launch(ctx context.Context) error {
	dev, err := device.New(device.Config{
		ServerURL: p.r.base, Home: p.home, App: verifyclient.DefaultApp(p.r.version),
		PollInterval: p.poll, HTTPClient: p.http,
	})
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	events := dev.Subscribe(runCtx)
	stopped := make(chan struct{})

	p.mu.Lock()
	p.install++
	install := p.install
	p.dev, p.stop, p.stopped = dev, cancel, stopped
	p.inbox = map[string]*inboxEntry{}
	p.factorSid, p.ready, p.pushUp, p.exited, p.exitErr = "", false, false, false, nil
	p.mu.Unlock()

	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		for e := range events {
			p.record(install, e)
		}
	}()
	opts := device.LaunchOptions{Identity: p.user.real, AutoAnswer: p.decl.auto}
	if p.decl.push {
		opts.PushURL = dev.PushURL()
	}
	go func() {
		err := dev.Launch(runCtx, opts)
		p.mu.Lock()
		p.exited, p.exitErr = true, err
		p.mu.Unlock()
		cancel()
		<-recorded
		close(stopped)
	}()

	err = p.r.await(ctx, 0, func(context.Context) (bool, string, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		switch {
		case p.exited && p.exitErr != nil:
			return false, "", p.exitErr
		case p.exited:
			return false, "", errors.New("the app stopped")
		case p.factorSid == "":
			return false, "no enrollment", nil
		case !p.ready:
			return false, "enrolled, app not ready", nil
		case p.decl.push && !p.pushUp:
			return false, "push socket not connected", nil
		}
		return true, "", nil
	})
	if err != nil {
		return err
	}
	if p.decl.push {
		// The app polls when its socket connects. Were that poll still to
		// come, it could find the scenario's first challenge before the
		// push does. Asking for a poll now, as opening the app does, and
		// waiting for a poll that starts after the asking, waits for every
		// poll asked for before.
		p.mu.Lock()
		asked := p.requests
		p.mu.Unlock()
		dev.SetForeground(true)
		err = p.r.await(ctx, 0, func(context.Context) (bool, string, error) {
			p.mu.Lock()
			defer p.mu.Unlock()
			return p.polled > asked, "the app's first poll", nil
		})
		if err != nil {
			return err
		}
	}
	factors, err := dev.GetAllFactors()
	if err != nil {
		return err
	}
	for _, f := range factors {
		if f.Sid == p.factor() {
			p.user.identity, p.user.serviceSid = f.Identity, f.ServiceSid
		}
	}
	return nil
}

// shutdown closes the app, if it runs, and waits until it has stopped.
func (p *phone) shutdown() {
	p.mu.Lock()
	stop, stopped := p.stop, p.stopped
	p.mu.Unlock()
	if stop != nil {
		stop()
		<-stopped
	}
}

// reinstall uninstalls the app (its keys and factor are gone from the
// phone, not from the server) and installs and opens it again.
func (p *phone) reinstall(ctx context.Context) error {
	p.shutdown()
	if err := os.RemoveAll(p.home); err != nil {
		return err
	}
	return p.launch(ctx)
}

// device is the running app, or why there is none.
func (p *phone) device() (*device.Device, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dev == nil || p.exited {
		return nil, fmt.Errorf("the app on %s is not running: its last launch failed", p.decl.name)
	}
	return p.dev, nil
}

// factor is the phone's current factor.
func (p *phone) factor() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.factorSid
}

// record keeps an event and applies it to the inbox, as the phone's
// screen does. Events of an install that has been replaced are kept but
// change nothing.
func (p *phone) record(install int, e device.Event) {
	p.mu.Lock()
	p.events = append(p.events, e)
	if install == p.install {
		p.apply(e)
	}
	p.mu.Unlock()
	p.r.log.note("%s: %s", p.decl.name, p.r.describe(e))
}

func (p *phone) apply(e device.Event) {
	switch e.Kind {
	case device.EventReady:
		p.ready = true
	case device.EventEnrolled:
		p.factorSid = e.FactorSid
	case device.EventPushConnected:
		p.pushUp = true
	case device.EventPushDisconnected:
		p.pushUp = false
	case device.EventFactorDeleted:
		for sid, c := range p.inbox {
			if c.factorSid == e.FactorSid {
				delete(p.inbox, sid)
			}
		}
	case device.EventChallenge:
		c := p.inbox[e.ChallengeSid]
		if c == nil {
			p.arrivals++
			c = &inboxEntry{sid: e.ChallengeSid, factorSid: e.FactorSid, status: verifyclient.ChallengePending, arrival: p.arrivals}
			p.inbox[e.ChallengeSid] = c
		}
		if ch := e.Challenge; ch != nil {
			c.expires, c.hidden = ch.ExpirationDate, ch.HiddenDetails
		}
	case device.EventApproved, device.EventDenied, device.EventExpired:
		c := p.inbox[e.ChallengeSid]
		if c == nil {
			p.arrivals++
			c = &inboxEntry{sid: e.ChallengeSid, factorSid: e.FactorSid, arrival: p.arrivals}
			p.inbox[e.ChallengeSid] = c
		}
		c.status = map[device.EventKind]string{
			device.EventApproved: verifyclient.ChallengeApproved,
			device.EventDenied:   verifyclient.ChallengeDenied,
			device.EventExpired:  verifyclient.ChallengeExpired,
		}[e.Kind]
		if ch := e.Challenge; ch != nil {
			c.reason = ch.RespondedReason
			if c.expires.IsZero() {
				c.expires = ch.ExpirationDate
			}
		}
	}
}

// verifyNow is the server's time as the phone estimates it (its clock
// plus the correction it learnt), which its screen judges expiry by.
// Call with p.mu held.
func (p *phone) verifyNow() time.Time {
	return p.dev.Now().Add(time.Duration(p.dev.TimeCorrection()) * time.Second)
}

// shownStatus is the status the phone shows for a challenge: a pending one
// past its expiration shows as expired before the server says so. Call
// with p.mu held.
func (p *phone) shownStatus(c *inboxEntry) string {
	if c.status == verifyclient.ChallengePending && !c.expires.IsZero() && !p.verifyNow().Before(c.expires) {
		return verifyclient.ChallengeExpired
	}
	return c.status
}

// badge counts the challenges the phone shows as still to answer.
func (p *phone) badge() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.inbox {
		if p.shownStatus(c) == verifyclient.ChallengePending {
			n++
		}
	}
	return n
}

// inboxStatus is how the phone shows a challenge, and whether it has it.
func (p *phone) inboxStatus(sid string) (status, reason string, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.inbox[sid]
	if c == nil {
		return "", "", false
	}
	return p.shownStatus(c), c.reason, true
}

// entry is a copy of what the phone knows of a challenge.
func (p *phone) entry(sid string) (inboxEntry, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.inbox[sid]
	if c == nil {
		return inboxEntry{}, false
	}
	return *c, true
}

// newestPending is the last challenge to arrive that the phone shows as
// still to answer.
func (p *phone) newestPending() (inboxEntry, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var best *inboxEntry
	for _, c := range p.inbox {
		if p.shownStatus(c) == verifyclient.ChallengePending && (best == nil || c.arrival > best.arrival) {
			best = c
		}
	}
	if best == nil {
		return inboxEntry{}, false
	}
	return *best, true
}

// inboxSummary describes the inbox for failure messages.
func (p *phone) inboxSummary() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.inbox) == 0 {
		return "an empty inbox"
	}
	entries := make([]*inboxEntry, 0, len(p.inbox))
	for _, c := range p.inbox {
		entries = append(entries, c)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].arrival < entries[j].arrival })
	var parts []string
	for _, c := range entries {
		parts = append(parts, p.r.nameOf(c.sid)+" "+p.shownStatus(c))
	}
	return "an inbox of " + strings.Join(parts, ", ")
}

// eventsCopy is every event the phone reported so far.
func (p *phone) eventsCopy() []device.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]device.Event(nil), p.events...)
}

// describe is an event as the step log shows it.
func (r *run) describe(e device.Event) string {
	var b strings.Builder
	b.WriteString(string(e.Kind))
	if e.ChallengeSid != "" {
		b.WriteString(" " + sidRef(e.ChallengeSid))
	}
	if e.Via != "" {
		b.WriteString(" via " + e.Via)
	}
	if e.Resent {
		b.WriteString(" (resent)")
	}
	if e.Silent {
		b.WriteString(" (silently)")
	}
	if e.Kind == device.EventEnrolled || e.Kind == device.EventFactorDeleted {
		b.WriteString(" " + e.FactorSid)
	}
	if e.Op != "" {
		b.WriteString(" op=" + e.Op)
	}
	if e.Error != "" {
		b.WriteString(": " + e.Error)
	}
	return b.String()
}

// watchedTransport tells the phone which of its polls have finished, so
// that a phone step can wait for the app's start-up polls to end.
type watchedTransport struct {
	p    *phone
	next http.RoundTripper
}

func (t *watchedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.p.mu.Lock()
	t.p.requests++
	n := t.p.requests
	t.p.mu.Unlock()
	resp, err := t.next.RoundTrip(req)
	if req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, "/Challenges") {
		t.p.mu.Lock()
		t.p.polled = max(t.p.polled, n)
		t.p.mu.Unlock()
	}
	return resp, err
}
