package tui

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/pushsim/pushsim/device"
)

// The sample backend's endpoints the console uses, and what they answer.

// backendChallenge is a challenge as the sample backend returns it (Verify's
// own JSON, plus the number-matching code on create).
type backendChallenge struct {
	Sid             string    `json:"sid"`
	FactorSid       string    `json:"factor_sid"`
	Status          string    `json:"status"`
	RespondedReason string    `json:"responded_reason"`
	DateCreated     time.Time `json:"date_created"`
	ExpirationDate  time.Time `json:"expiration_date"`
	Details         struct {
		Message string `json:"message"`
		Fields  []struct {
			Label string `json:"label"`
			Value string `json:"value"`
		} `json:"fields"`
	} `json:"details"`
	HiddenDetails map[string]string `json:"hidden_details"`
}

// field is the value of one of the challenge's detail fields.
func (c backendChallenge) field(label string) string {
	for _, f := range c.Details.Fields {
		if f.Label == label {
			return f.Value
		}
	}
	return ""
}

// code is the challenge's number-matching code, if it has one.
func (c backendChallenge) code() string { return c.HiddenDetails[device.NumberMatchKey] }

// backendFactor is one of the identity's factors.
type backendFactor struct {
	Sid          string `json:"sid"`
	FriendlyName string `json:"friendly_name"`
	Status       string `json:"status"`
}

// webhookEvent is one delivery the backend's webhook sink received.
type webhookEvent struct {
	Received time.Time         `json:"received"`
	Valid    bool              `json:"signature_valid"`
	Type     string            `json:"type"`
	UUID     string            `json:"uuid"`
	Params   map[string]string `json:"params"`
}

// subject is the challenge or factor the event is about.
func (e webhookEvent) subject() string {
	if sid := e.Params["challenge_sid"]; sid != "" {
		return sid
	}
	return e.Params["factor_sid"]
}

// notification is a resent push (Verify's Notification resource).
type notification struct {
	Sid string `json:"sid"`
	TTL int    `json:"ttl"`
}

func (b *backendClient) hashIdentity(ctx context.Context, user string) (string, error) {
	var out struct {
		Identity string `json:"identity"`
	}
	err := b.do(ctx, call{method: http.MethodPost, path: "/backend/hash-identity", form: url.Values{"identity": {user}}, quiet: true}, &out)
	return out.Identity, err
}

func (b *backendClient) listFactors(ctx context.Context, user string, quiet bool) ([]backendFactor, error) {
	var out []backendFactor
	err := b.do(ctx, call{method: http.MethodGet, path: "/backend/list-factors", form: url.Values{"identity": {user}}, quiet: quiet}, &out)
	return out, err
}

// listChallenges is the identity's challenges, newest first.
func (b *backendClient) listChallenges(ctx context.Context, user string) ([]backendChallenge, error) {
	var out []backendChallenge
	err := b.do(ctx, call{method: http.MethodGet, path: "/backend/challenges", form: url.Values{"identity": {user}}, quiet: true}, &out)
	return out, err
}

// webhookEvents is what the backend's sink has received, oldest first.
func (b *backendClient) webhookEvents(ctx context.Context, quiet bool) ([]webhookEvent, error) {
	var out struct {
		Events []webhookEvent `json:"events"`
	}
	err := b.do(ctx, call{method: http.MethodGet, path: "/backend/webhook/events", quiet: quiet}, &out)
	return out.Events, err
}

func (b *backendClient) createChallenge(ctx context.Context, form url.Values) (backendChallenge, error) {
	var out backendChallenge
	err := b.do(ctx, call{method: http.MethodPost, path: "/backend/create-challenge", form: form}, &out)
	return out, err
}

func (b *backendClient) resend(ctx context.Context, user, sid string) (notification, error) {
	var out notification
	err := b.do(ctx, call{method: http.MethodPost, path: "/backend/resend", form: url.Values{"identity": {user}, "sid": {sid}}}, &out)
	return out, err
}

// expire ends a pending challenge now; reason not_needed says its user
// answered the same sign-in elsewhere.
func (b *backendClient) expire(ctx context.Context, user, sid, reason string) error {
	form := url.Values{"identity": {user}, "sid": {sid}}
	if reason != "" {
		form.Set("reason", reason)
	}
	return b.do(ctx, call{method: http.MethodPost, path: "/backend/expire", form: form}, nil)
}
