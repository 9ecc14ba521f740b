package scenario

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/internal/backendclient"
)

func (e *expectBadge) run(ctx context.Context, r *run) error {
	p := r.phones[e.phone]
	return r.await(ctx, e.within, func(context.Context) (bool, string, error) {
		n := p.badge()
		return n == e.n, fmt.Sprintf("badge %d (%s)", n, p.inboxSummary()), nil
	})
}

func (e *expectInbox) run(ctx context.Context, r *run) error {
	p := r.phones[e.phone]
	c, err := r.resolve(e.ch)
	if err != nil {
		return err
	}
	return r.await(ctx, e.within, func(context.Context) (bool, string, error) {
		status, reason, ok := p.inboxStatus(c.sid)
		if !ok {
			return false, fmt.Sprintf("it is not in the inbox (%s)", p.inboxSummary()), nil
		}
		seen := status
		if reason != "" && reason != "none" {
			seen += " (" + reason + ")"
		}
		return status == e.status, seen, nil
	})
}

func (e *expectEvent) run(ctx context.Context, r *run) error {
	p := r.phones[e.phone]
	sid, err := r.optionalSid(e.ch)
	if err != nil {
		return err
	}
	return r.await(ctx, e.within, func(context.Context) (bool, string, error) {
		events := p.eventsCopy()
		n := 0
		for _, ev := range events {
			if e.matches(ev, sid) {
				n++
			}
		}
		switch {
		case e.count < 0 && n > 0, n == e.count:
			return true, "", nil
		case e.count >= 0 && n > e.count:
			return false, "", fmt.Errorf("saw %d such events, more than %d", n, e.count)
		}
		return false, fmt.Sprintf("%d such events; %s's events: %s", n, e.phone, r.eventKinds(events)), nil
	})
}

func (e *expectEvent) matches(ev device.Event, sid string) bool {
	return string(ev.Kind) == e.kind &&
		(sid == "" || ev.ChallengeSid == sid) &&
		(e.via == "" || ev.Via == e.via) &&
		(e.op == "" || ev.Op == e.op) &&
		(!e.silent || ev.Silent)
}

// eventKinds summarizes a phone's last events for a failure message.
func (r *run) eventKinds(events []device.Event) string {
	const shown = 8
	if len(events) == 0 {
		return "none"
	}
	var parts []string
	if len(events) > shown {
		parts = append(parts, "…")
		events = events[len(events)-shown:]
	}
	for _, ev := range events {
		s := string(ev.Kind)
		if ev.ChallengeSid != "" {
			s += " " + r.nameOf(ev.ChallengeSid)
		}
		if ev.Via != "" {
			s += " via " + ev.Via
		}
		if ev.Op != "" {
			s += " op=" + ev.Op
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func (e *expectStatus) run(ctx context.Context, r *run) error {
	c, err := r.resolve(e.ch)
	if err != nil {
		return err
	}
	path := "/v2/Services/" + url.PathEscape(c.serviceSid) + "/Entities/" + url.PathEscape(c.identity) + "/Challenges/" + url.PathEscape(c.sid)
	return r.await(ctx, e.within, func(ctx context.Context) (bool, string, error) {
		var got struct {
			Status          string `json:"status"`
			RespondedReason string `json:"responded_reason"`
		}
		if err := r.client.Do(ctx, backendclient.Call{Method: http.MethodGet, Path: path, Account: true, Quiet: true}, &got); err != nil {
			return false, err.Error(), nil
		}
		seen := fmt.Sprintf("%s (responded_reason %s)", got.Status, got.RespondedReason)
		return got.Status == e.status && (e.reason == "" || got.RespondedReason == e.reason), seen, nil
	})
}

func (e *expectFactors) run(ctx context.Context, r *run) error {
	u := r.users[e.user]
	return r.await(ctx, e.within, func(ctx context.Context) (bool, string, error) {
		if u == nil || u.identity == "" {
			return false, "", fmt.Errorf("%s has no enrolled phone, so Verify does not know the user", e.user)
		}
		path := "/v2/Services/" + url.PathEscape(u.serviceSid) + "/Entities/" + url.PathEscape(u.identity) + "/Factors"
		var got struct {
			Factors []struct {
				Status string `json:"status"`
			} `json:"factors"`
		}
		err := r.client.Do(ctx, backendclient.Call{Method: http.MethodGet, Path: path, Form: url.Values{"PageSize": {"1000"}}, Account: true, Quiet: true}, &got)
		var apiErr *backendclient.APIError
		if err != nil && !(errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound) {
			return false, err.Error(), nil
		}
		n, byStatus := 0, map[string]int{}
		for _, f := range got.Factors {
			byStatus[f.Status]++
			if e.status == "" || f.Status == e.status {
				n++
			}
		}
		seen := fmt.Sprintf("%d factors", len(got.Factors))
		if len(byStatus) > 0 {
			var parts []string
			for _, s := range keys(byStatus) {
				parts = append(parts, fmt.Sprintf("%d %s", byStatus[s], s))
			}
			seen += " (" + strings.Join(parts, ", ") + ")"
		}
		return n == e.n, seen, nil
	})
}

func (e *expectPush) run(ctx context.Context, r *run) error {
	c, err := r.resolve(e.ch)
	if err != nil {
		return err
	}
	return r.await(ctx, e.within, func(ctx context.Context) (bool, string, error) {
		var got struct {
			Pushes []struct {
				ChallengeSid string `json:"challenge_sid"`
				State        string `json:"state"`
				Attempts     int    `json:"attempts"`
			} `json:"pushes"`
		}
		err := r.client.Do(ctx, backendclient.Call{Method: http.MethodGet, Path: "/_pushsim/pushes", Form: url.Values{"limit": {"1000"}}, Account: true, Quiet: true}, &got)
		if err != nil {
			return false, err.Error(), nil
		}
		var seen []string
		for _, p := range got.Pushes {
			if p.ChallengeSid != c.sid {
				continue
			}
			if (e.state == "" || p.State == e.state) && (e.attempts < 0 || p.Attempts == e.attempts) {
				return true, "", nil
			}
			seen = append(seen, fmt.Sprintf("state=%s attempts=%d", p.State, p.Attempts))
		}
		if len(seen) == 0 {
			return false, "no push for " + r.nameOf(c.sid), nil
		}
		return false, "a push with " + strings.Join(seen, "; "), nil
	})
}

// hook is one webhook to the sample backend's sink: what the server's
// delivery log says of it, and what the sink received.
type hook struct {
	uuid, typ          string
	challenge, factor  string
	inLog              bool
	state              string
	attempts, status   int
	received, verified bool
	created            time.Time
}

func (h hook) String() string {
	s := h.typ
	if h.inLog {
		s += fmt.Sprintf(" state=%s attempts=%d", h.state, h.attempts)
		if h.status != 0 {
			s += fmt.Sprintf(" last_status=%d", h.status)
		}
	}
	switch {
	case h.verified:
		s += " (received, signed)"
	case h.received:
		s += " (received, signature invalid)"
	default:
		s += " (not received)"
	}
	return s
}

func (e *expectWebhook) run(ctx context.Context, r *run) error {
	sid, err := r.optionalSid(e.ch)
	if err != nil {
		return err
	}
	return r.await(ctx, e.within, func(ctx context.Context) (bool, string, error) {
		hooks, err := r.hooks(ctx)
		if err != nil {
			return false, err.Error(), nil
		}
		var seen []string
		for _, h := range hooks {
			if h.typ != e.typ || sid != "" && h.challenge != sid {
				continue
			}
			if (!e.signed || h.verified) &&
				(e.attempts < 0 || h.inLog && h.attempts == e.attempts) &&
				(e.state == "" || h.inLog && h.state == e.state) {
				return true, "", nil
			}
			seen = append(seen, h.String())
		}
		if len(seen) == 0 {
			what := "no " + e.typ + " webhook"
			if sid != "" {
				what += " for " + r.nameOf(sid)
			}
			return false, what, nil
		}
		return false, strings.Join(seen, "; "), nil
	})
}

// hooks are the webhooks of this scenario: the server's delivery log to
// the sink joined with what the sink received. On a shared server only
// those about the scenario's own factors and challenges count, and, when
// the scenario runs alone, those the log cannot tie to anything that are
// newer than the scenario.
func (r *run) hooks(ctx context.Context) ([]hook, error) {
	var log struct {
		Deliveries []struct {
			backendclient.Delivery
			// Not in every server's log: when present they tie a failed
			// delivery to its challenge.
			ChallengeSid string `json:"challenge_sid"`
			FactorSid    string `json:"factor_sid"`
		} `json:"deliveries"`
	}
	err := r.client.Do(ctx, backendclient.Call{Method: http.MethodGet, Path: "/_pushsim/webhooks", Form: url.Values{"limit": {"1000"}}, Account: true, Quiet: true}, &log)
	if err != nil {
		return nil, err
	}
	received, err := r.client.WebhookEvents(ctx, true)
	if err != nil {
		return nil, err
	}
	byUUID := map[string]*hook{}
	var order []string
	for _, d := range log.Deliveries {
		if !strings.HasSuffix(d.URL, "/backend/webhook") {
			continue
		}
		byUUID[d.UUID] = &hook{uuid: d.UUID, typ: d.Type, challenge: d.ChallengeSid, factor: d.FactorSid,
			inLog: true, state: d.State, attempts: d.Attempts, status: d.LastStatus, created: d.Created}
		order = append(order, d.UUID)
	}
	for _, ev := range received {
		h := byUUID[ev.UUID]
		if h == nil {
			h = &hook{uuid: ev.UUID, typ: ev.Type, created: ev.Received}
			byUUID[ev.UUID] = h
			order = append(order, ev.UUID)
		}
		h.received = true
		h.verified = h.verified || ev.Valid
		if h.challenge == "" {
			h.challenge = ev.Params["challenge_sid"]
		}
		if h.factor == "" {
			h.factor = ev.Params["factor_sid"]
		}
	}
	var out []hook
	for _, id := range order {
		h := byUUID[id]
		if r.ownsHook(h) {
			out = append(out, *h)
		}
	}
	return out, nil
}

// ownsHook reports whether a webhook is this scenario's.
func (r *run) ownsHook(h *hook) bool {
	if r.suffix == "" {
		return true // the scenario's own server
	}
	if h.challenge != "" {
		return r.challengeBySid(h.challenge) != nil
	}
	if h.factor != "" {
		for _, p := range r.phones {
			for _, ev := range p.eventsCopy() {
				if ev.Kind == device.EventEnrolled && ev.FactorSid == h.factor {
					return true
				}
			}
		}
		return false
	}
	return r.alone && !h.created.Before(r.started.Truncate(time.Second))
}

func (e *expectError) run(ctx context.Context, r *run) error {
	err := r.lastErr
	r.lastErr = nil
	if err == nil {
		return errors.New("the step before succeeded")
	}
	status, code, ok := httpFailure(err)
	if !ok {
		return fmt.Errorf("saw a failure without an HTTP status: %v", err)
	}
	if status != e.status || e.code != 0 && code != e.code {
		return fmt.Errorf("saw %d code %d: %v", status, code, err)
	}
	r.log.note("failed as expected: %v", err)
	return nil
}
