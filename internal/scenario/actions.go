package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/verifyclient"
	"github.com/pushsim/pushsim/internal/backendclient"
)

// wireChallenge is a challenge as the sample backend (camelCase) or Verify
// (snake_case) answers it.
type wireChallenge struct {
	Sid           string            `json:"sid"`
	Identity      string            `json:"identity"`
	FactorSid     string            `json:"factorSid"`
	ServiceSid    string            `json:"serviceSid"`
	HiddenDetails map[string]string `json:"hiddenDetails"`
	Status        string            `json:"status"`

	FactorSidV2  string `json:"factor_sid"`
	ServiceSidV2 string `json:"service_sid"`
}

func (r *run) challengeFrom(w wireChallenge) *challenge {
	c := &challenge{sid: w.Sid, identity: w.Identity, factorSid: w.FactorSid, serviceSid: w.ServiceSid,
		code: w.HiddenDetails[device.NumberMatchKey]}
	if c.factorSid == "" {
		c.factorSid = w.FactorSidV2
	}
	if c.serviceSid == "" {
		c.serviceSid = w.ServiceSidV2
	}
	c.phone = r.phoneOfFactor(c.factorSid)
	return c
}

func (s *signInStep) run(ctx context.Context, r *run) error {
	u := r.user(s.user)
	form := url.Values{"identity": {u.real}, "message": {s.message}}
	if len(s.details) > 0 {
		type field struct {
			Label string `json:"label"`
			Value string `json:"value"`
		}
		var fields []field
		for _, d := range s.details {
			fields = append(fields, field{d[0], d[1]})
		}
		raw, _ := json.Marshal(fields)
		form.Set("details", string(raw))
	}
	if s.numberMatch {
		form.Set("numberMatch", "true")
	}
	if s.factor != "" {
		sid := r.phones[s.factor].factor()
		if sid == "" {
			return fmt.Errorf("phone %s has no factor to challenge", s.factor)
		}
		form.Set("factor", sid)
	}
	var answer struct {
		wireChallenge
		Challenges []wireChallenge `json:"challenges"`
		Refused    []struct {
			FactorSid string `json:"factorSid"`
			Status    int    `json:"status"`
			Code      int    `json:"code"`
			Message   string `json:"message"`
		} `json:"refused"`
	}
	if err := r.client.Do(ctx, backendclient.Call{Method: http.MethodPost, Path: "/backend/create-challenge", Form: form}, &answer); err != nil {
		return err
	}
	list := answer.Challenges
	if len(list) == 0 {
		list = []wireChallenge{answer.wireChallenge}
	}
	var created []*challenge
	for _, w := range list {
		created = append(created, r.challengeFrom(w))
	}
	r.name(s.as, created)
	for _, c := range created {
		r.noteCreated(c)
	}
	for _, f := range answer.Refused {
		who := r.phoneOfFactor(f.FactorSid)
		if who == "" {
			who = f.FactorSid
		}
		r.log.note("refused for %s: %d · %d %s", who, f.Status, f.Code, f.Message)
	}
	if s.numberMatch && len(created) > 0 {
		r.log.note("the sign-in page shows %s", created[0].code)
	}
	return nil
}

// noteCreated logs a challenge a step created and where it went.
func (r *run) noteCreated(c *challenge) {
	if name := r.nameOf(c.sid); name != c.sid {
		r.log.note("%s: %s on %s", name, c.sid, c.reachedPhone())
		return
	}
	r.log.note("%s on %s", c.sid, c.reachedPhone())
}

func (s *challengeStep) run(ctx context.Context, r *run) error {
	p := r.phones[s.phone]
	factor := p.factor()
	if factor == "" || p.user.identity == "" {
		return fmt.Errorf("phone %s has no factor to challenge", s.phone)
	}
	path := "/v2/Services/" + url.PathEscape(p.user.serviceSid) + "/Entities/" + url.PathEscape(p.user.identity) + "/Challenges"
	form := url.Values{"FactorSid": {factor}, "Details.Message": {s.message}}
	var w wireChallenge
	if err := r.client.Do(ctx, backendclient.Call{Method: http.MethodPost, Path: path, Form: form, Account: true}, &w); err != nil {
		return err
	}
	c := r.challengeFrom(w)
	r.name(s.as, []*challenge{c})
	r.noteCreated(c)
	return nil
}

func (s *answerStep) run(ctx context.Context, r *run) error {
	p := r.phones[s.phone]
	var want *challenge
	if s.ch != nil {
		c, err := r.resolve(*s.ch)
		if err != nil {
			return err
		}
		want = c
	}
	if s.status == "" {
		if want != nil {
			r.log.note("%s is left unanswered", r.nameOf(want.sid))
		}
		return nil
	}
	dev, err := p.device()
	if err != nil {
		return err
	}
	// The user answers what the phone shows: wait for it to arrive.
	var entry inboxEntry
	err = r.await(ctx, 0, func(context.Context) (bool, string, error) {
		var ok bool
		if want != nil {
			entry, ok = p.entry(want.sid)
		} else {
			entry, ok = p.newestPending()
		}
		if !ok {
			return false, p.inboxSummary(), nil
		}
		return true, "", nil
	})
	if err != nil {
		what := "no challenge"
		if want != nil {
			what = r.nameOf(want.sid)
		}
		return fmt.Errorf("%s never reached %s: %w", what, s.phone, err)
	}
	name := r.nameOf(entry.sid)
	shown := entry.hidden[device.NumberMatchKey]
	if c := r.challengeBySid(entry.sid); c != nil && c.code != "" {
		shown = c.code
	}
	if s.code == "" {
		if shown != "" && s.status == "approved" {
			return fmt.Errorf("%s asks for the number the sign-in shows: write code=shown (or code=N to type another)", name)
		}
		_, err := dev.UpdateChallenge(ctx, entry.factorSid, entry.sid, s.status)
		return err
	}
	code := s.code
	if code == codeShown {
		if shown == "" {
			return fmt.Errorf("%s has no number to match", name)
		}
		code = shown
	}
	_, err = dev.AnswerNumberMatch(ctx, entry.factorSid, entry.sid, code)
	var mismatch *device.NumberMismatchError
	if errors.As(err, &mismatch) {
		r.log.note("typed %s, the sign-in showed %s: %s denied %s", mismatch.Typed, mismatch.Shown, s.phone, name)
		return nil
	}
	return err
}

func (s *appStep) run(ctx context.Context, r *run) error {
	p := r.phones[s.phone]
	if s.what == "reinstall" {
		return p.reinstall(ctx)
	}
	dev, err := p.device()
	if err != nil {
		return err
	}
	switch s.what {
	case "open":
		dev.SetForeground(true)
	case "close":
		dev.SetForeground(false)
	case "offline":
		dev.SetAirplaneMode(true)
	case "online":
		dev.SetAirplaneMode(false)
	}
	return nil
}

func (s *phoneClockStep) run(ctx context.Context, r *run) error {
	dev, err := r.phones[s.phone].device()
	if err != nil {
		return err
	}
	return dev.SetClockOffset(s.offset)
}

func (s *silentStep) run(ctx context.Context, r *run) error {
	p := r.phones[s.phone]
	dev, err := p.device()
	if err != nil {
		return err
	}
	return dev.SetSilentApproval(p.factor(), s.on)
}

func (s *resendStep) run(ctx context.Context, r *run) error {
	c, err := r.resolve(s.ch)
	if err != nil {
		return err
	}
	n, err := r.client.Resend(ctx, c.identity, c.sid)
	if err == nil {
		r.log.note("notification %s", n.Sid)
	}
	return err
}

func (s *expireStep) run(ctx context.Context, r *run) error {
	c, err := r.resolve(s.ch)
	if err != nil {
		return err
	}
	path := "/_pushsim/Services/" + url.PathEscape(c.serviceSid) + "/Entities/" + url.PathEscape(c.identity) + "/Challenges/" + url.PathEscape(c.sid) + "/Expire"
	return r.client.Do(ctx, backendclient.Call{Method: http.MethodPost, Path: path, Account: true}, nil)
}

func (s *pushFaultStep) run(ctx context.Context, r *run) error {
	rule := backendclient.PushFault{Mode: s.mode, Delay: s.delay}
	if s.phone != "" {
		rule.FactorSid = r.phones[s.phone].factor()
		if rule.FactorSid == "" {
			return fmt.Errorf("phone %s has no factor yet", s.phone)
		}
	}
	_, err := r.client.SetPushFault(ctx, rule)
	if err == nil {
		r.pushFaults[rule.FactorSid] = s.mode != backendclient.FaultOff
	}
	return err
}

func (s *webhookFaultStep) run(ctx context.Context, r *run) error {
	_, err := r.client.SetWebhookFault(ctx, backendclient.WebhookFault{Mode: s.mode, Status: s.status})
	if err == nil {
		r.webhookFault = s.mode != backendclient.FaultOff
	}
	return err
}

func (s *clearFaultsStep) run(ctx context.Context, r *run) error {
	_, err := r.client.ClearFaults(ctx)
	if err == nil {
		clear(r.pushFaults)
		r.webhookFault = false
	}
	return err
}

func (s *clockStep) run(ctx context.Context, r *run) error {
	clock, err := r.client.AdvanceClock(ctx, s.advance)
	if err == nil {
		r.log.note("the server's clock reads %s (%s ahead)", clock.Now.Format(time.RFC3339), clock.Offset)
	}
	return err
}

func (s *restartStep) run(ctx context.Context, r *run) error {
	next, err := r.client.Restart(ctx)
	if err != nil {
		return err
	}
	if err := r.waitHealthy(ctx, next.Generation); err != nil {
		return err
	}
	r.log.note("the server serves again (generation %d)", next.Generation)
	return nil
}

func (s *waitStep) run(ctx context.Context, r *run) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(s.d):
		return nil
	}
}

func (s *repeatStep) run(ctx context.Context, r *run) error {
	for i := 1; i <= s.times; i++ {
		if err := s.do.run(ctx, r); err != nil {
			return fmt.Errorf("round %d of %d: %w", i, s.times, err)
		}
	}
	return nil
}

// httpFailure is the HTTP status and Twilio error code of a failed call,
// whichever client made it.
func httpFailure(err error) (status, code int, ok bool) {
	var backendErr *backendclient.APIError
	var verifyErr *verifyclient.HTTPError
	var tokenErr *device.AccessTokenError
	switch {
	case errors.As(err, &backendErr):
		return backendErr.Status, backendErr.Code, true
	case errors.As(err, &verifyErr):
		s, c := verifyErr.StatusCode, 0
		if verifyErr.API != nil {
			c = verifyErr.API.Code
		}
		return s, c, true
	case errors.As(err, &tokenErr) && tokenErr.StatusCode != 0:
		return tokenErr.StatusCode, 0, true
	}
	return 0, 0, false
}
