package device

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/pushsim/pushsim/device/verifyclient"
)

// PushNotification is the data of a verify_push_challenge push, as the
// sample apps read it.
type PushNotification struct {
	ChallengeSid string
	FactorSid    string
	Message      string
}

// seenChallenge is what the phone remembers about a challenge it has seen,
// so that it is announced once, and again for each resend, and the phone
// itself answers it at most once.
type seenChallenge struct {
	factorSid  string
	resolved   bool // answered, expired or gone: no further events
	responding bool // an answer is in flight
	pushed     bool // a push of it has arrived: any later one is a resend
}

// maxPollPages stops a poll that a misbehaving server keeps paging.
const maxPollPages = 50

// GetChallenge fetches one challenge of a local factor.
func (d *Device) GetChallenge(ctx context.Context, factorSid, challengeSid string) (*Challenge, error) {
	cred, _, err := d.credentials(factorSid)
	if err != nil {
		return nil, err
	}
	return d.client.GetChallenge(ctx, cred, challengeSid)
}

// GetAllChallenges fetches one page of a local factor's challenges.
func (d *Device) GetAllChallenges(ctx context.Context, factorSid string, p ListParams) (*ChallengeList, error) {
	cred, _, err := d.credentials(factorSid)
	if err != nil {
		return nil, err
	}
	return d.client.ListChallenges(ctx, cred, p)
}

// UpdateChallenge answers a challenge with status approved or denied and
// reports the answer as an event. A challenge refused as expired is reported
// as expired.
func (d *Device) UpdateChallenge(ctx context.Context, factorSid, challengeSid, status string) (*Challenge, error) {
	return d.respond(ctx, factorSid, challengeSid, status, false)
}

func (d *Device) respond(ctx context.Context, factorSid, challengeSid, status string, silent bool) (*Challenge, error) {
	d.setResponding(challengeSid, factorSid, true)
	defer d.setResponding(challengeSid, factorSid, false)
	cred, _, err := d.credentials(factorSid)
	if err != nil {
		return nil, err
	}
	final, err := d.client.UpdateChallenge(ctx, cred, challengeSid, status)
	switch {
	case err == nil:
		d.resolve(challengeSid, factorSid)
		kind := EventDenied
		if status == verifyclient.ChallengeApproved {
			kind = EventApproved
		}
		d.emit(Event{Kind: kind, FactorSid: factorSid, ChallengeSid: challengeSid, Message: final.Details.Message, Silent: silent, Challenge: final})
	case errors.Is(err, verifyclient.ErrExpiredChallenge):
		d.expired(factorSid, challengeSid, nil)
	case errors.Is(err, verifyclient.ErrAlreadyUpdatedChallenge):
		d.resolve(challengeSid, factorSid)
	}
	return final, err
}

// HandlePush processes a push the phone received: fetch the challenge,
// announce it if it is new, and approve it at once if the app is in the
// foreground and silent approval is on for the factor. A push for a
// challenge that has expired reports it as expired. Failures are returned and
// also reported as error events, since pushes arrive with no one waiting.
//
// In airplane mode a push cannot have reached the phone: HandlePush returns
// ErrAirplaneMode and reports nothing, and the poll after reconnecting
// picks the challenge up.
func (d *Device) HandlePush(ctx context.Context, n PushNotification) error {
	if d.AirplaneMode() {
		return verifyclient.Wrap(verifyclient.CodeNetwork, ErrAirplaneMode)
	}
	err := d.handlePush(ctx, n)
	if err != nil {
		d.emitError("push", n.FactorSid, n.ChallengeSid, err)
	}
	return err
}

func (d *Device) handlePush(ctx context.Context, n PushNotification) error {
	ch, err := d.GetChallenge(ctx, n.FactorSid, n.ChallengeSid)
	if err != nil {
		return err
	}
	switch ch.Status {
	case verifyclient.ChallengePending:
		d.receive(ch, ViaPush)
	case verifyclient.ChallengeExpired:
		d.expired(n.FactorSid, n.ChallengeSid, ch)
		return nil
	default:
		d.resolve(ch.Sid, n.FactorSid)
		return nil
	}
	silent, err := d.SilentApproval(n.FactorSid)
	if err != nil || !silent || !d.Foreground() || NeedsNumberMatch(ch) || !d.claimForSilentApproval(ch.Sid) {
		return err
	}
	_, err = d.respond(ctx, n.FactorSid, ch.Sid, verifyclient.ChallengeApproved, true)
	if err != nil {
		return fmt.Errorf("silent approval: %w", err)
	}
	return nil
}

// NumberMatchKey is the hidden-details key of a number-matching challenge:
// the sign-in page shows a code and the app asks its user to type it.
const NumberMatchKey = "number_match"

// NeedsNumberMatch reports whether answering ch takes the user's typed code,
// which silent approval, having no user, can never supply.
func NeedsNumberMatch(ch *Challenge) bool { return ch.HiddenDetails[NumberMatchKey] != "" }

// claimForSilentApproval reports whether the phone may answer the challenge
// by itself, and if so marks the answer as in flight, in one step: a push
// delivered twice must not approve twice.
func (d *Device) claimForSilentApproval(challengeSid string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.seen[challengeSid]
	if s == nil || s.resolved || s.responding {
		return false
	}
	s.responding = true
	return true
}

// receive records a pending challenge and announces it the first time it
// is seen, and again for every resend: a push the backend sends again
// (Verify's Notifications resource) is meant to be noticed. A challenge
// has one original push, so every push after the first is a resend (the
// push client drops a message delivered twice); the first push of a
// challenge a poll found first is that original push arriving late, and
// announces nothing new. A challenge being answered is not announced
// again.
func (d *Device) receive(ch *Challenge, via string) {
	d.mu.Lock()
	s, known := d.seen[ch.Sid]
	if !known {
		s = &seenChallenge{factorSid: ch.FactorSid}
		d.seen[ch.Sid] = s
	}
	resent := via == ViaPush && s.pushed
	announce := !known || resent && !s.resolved && !s.responding
	if via == ViaPush {
		s.pushed = true
	}
	d.mu.Unlock()
	if announce {
		d.emit(Event{Kind: EventChallenge, FactorSid: ch.FactorSid, ChallengeSid: ch.Sid, Via: via, Resent: resent, Message: ch.Details.Message, Challenge: ch})
	}
}

// resolve marks a challenge as finished without an event.
func (d *Device) resolve(challengeSid, factorSid string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.seen[challengeSid]
	if s == nil {
		s = &seenChallenge{factorSid: factorSid}
		d.seen[challengeSid] = s
	}
	was := s.resolved
	s.resolved = true
	return !was
}

// expired marks a challenge as finished and reports its expiry once.
func (d *Device) expired(factorSid, challengeSid string, ch *Challenge) {
	if d.resolve(challengeSid, factorSid) {
		e := Event{Kind: EventExpired, FactorSid: factorSid, ChallengeSid: challengeSid, Challenge: ch}
		if ch != nil {
			e.Message = ch.Details.Message
		}
		d.emit(e)
	}
}

// settled reports whether the phone has answered a challenge, or is
// answering it, or knows it is over.
func (d *Device) settled(challengeSid string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.seen[challengeSid]
	return s != nil && (s.resolved || s.responding)
}

func (d *Device) setResponding(challengeSid, factorSid string, on bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.seen[challengeSid]
	if s == nil {
		s = &seenChallenge{factorSid: factorSid}
		d.seen[challengeSid] = s
	}
	s.responding = on
}

// forgetFactor drops what the phone remembers about a factor's challenges.
func (d *Device) forgetFactor(factorSid string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for sid, s := range d.seen {
		if s.factorSid == factorSid {
			delete(d.seen, sid)
		}
	}
}

func (d *Device) forgetAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	clear(d.seen)
}

// pollSoon asks the poller to poll without waiting for the next tick.
func (d *Device) pollSoon() {
	select {
	case d.nudge <- struct{}{}:
	default:
	}
}

// Run polls for pending challenges every PollInterval, and at once after
// SetForeground(true) or leaving airplane mode, until ctx ends. Polling
// pauses in airplane mode. Poll failures are reported as error events.
// It emits EventReady when it starts.
func (d *Device) Run(ctx context.Context) error {
	ticks, stop := d.cfg.Ticker(d.PollInterval())
	defer stop()
	factors, err := d.GetAllFactors()
	if err != nil {
		return err
	}
	ready := Event{Kind: EventReady}
	for _, f := range factors {
		ready.Factors = append(ready.Factors, f.Sid)
	}
	d.emit(ready)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticks:
		case <-d.nudge:
		}
		if d.AirplaneMode() {
			continue
		}
		_ = d.PollNow(ctx) // reported as events
	}
}

// PollNow lists the pending challenges of every verified local factor,
// announces the new ones (Via poll), and reports as expired those the phone
// knew as pending that the server no longer lists and reports expired.
// Errors are returned joined and also reported as error events.
func (d *Device) PollNow(ctx context.Context) error {
	factors, err := d.GetAllFactors()
	if err != nil {
		d.emitError("poll", "", "", err)
		return err
	}
	var errs []error
	for _, f := range factors {
		if f.Status != verifyclient.FactorVerified {
			continue // the server refuses challenges for unverified factors
		}
		if err := d.pollFactor(ctx, f.Sid); err != nil {
			errs = append(errs, err)
			// A poll cut short by shutdown is not worth reporting.
			if ctx.Err() == nil {
				d.emitError("poll", f.Sid, "", err)
			}
		}
	}
	return errors.Join(errs...)
}

func (d *Device) pollFactor(ctx context.Context, factorSid string) error {
	cred, _, err := d.credentials(factorSid)
	if err != nil {
		return err
	}
	listed := map[string]bool{}
	params := ListParams{Status: verifyclient.ChallengePending, Order: verifyclient.OrderAsc}
	for page := 0; ; page++ {
		if page == maxPollPages {
			return fmt.Errorf("poll: still paging after %d pages", maxPollPages)
		}
		list, err := d.client.ListChallenges(ctx, cred, params)
		if err != nil {
			return err
		}
		for i := range list.Challenges {
			ch := &list.Challenges[i]
			if ch.FactorSid != factorSid || ch.Status != verifyclient.ChallengePending {
				continue
			}
			listed[ch.Sid] = true
			d.receive(ch, ViaPoll)
		}
		next := list.Meta.NextPageToken
		if next == "" || next == params.PageToken {
			break
		}
		params.PageToken = next
	}
	return d.settleUnlisted(ctx, cred, listed)
}

// settleUnlisted looks at each challenge the phone knows as pending for the
// factor that the server no longer lists as pending, to learn why.
func (d *Device) settleUnlisted(ctx context.Context, cred verifyclient.Credentials, listed map[string]bool) error {
	d.mu.Lock()
	var gone []string
	for sid, s := range d.seen {
		if s.factorSid == cred.FactorSid && !s.resolved && !s.responding && !listed[sid] {
			gone = append(gone, sid)
		}
	}
	d.mu.Unlock()
	var errs []error
	for _, sid := range gone {
		ch, err := d.client.GetChallenge(ctx, cred, sid)
		var httpErr *verifyclient.HTTPError
		switch {
		case errors.As(err, &httpErr) && httpErr.StatusCode == http.StatusNotFound:
			d.resolve(sid, cred.FactorSid)
		case err != nil:
			errs = append(errs, err)
		case ch.Status == verifyclient.ChallengeExpired:
			d.expired(cred.FactorSid, sid, ch)
		case ch.Status != verifyclient.ChallengePending:
			d.resolve(sid, cred.FactorSid)
		}
	}
	return errors.Join(errs...)
}
