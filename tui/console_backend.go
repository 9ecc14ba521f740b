package tui

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/pushsim/pushsim/device"
)

// The sample backend's endpoints the console uses, and what they answer:
// the helper library's camelCase objects, as Twilio's sample backend
// answers.

// backendChallenge is a challenge as the sample backend returns it.
type backendChallenge struct {
	Sid             string    `json:"sid"`
	Identity        string    `json:"identity"`
	FactorSid       string    `json:"factorSid"`
	Status          string    `json:"status"`
	RespondedReason string    `json:"respondedReason"`
	DateCreated     time.Time `json:"dateCreated"`
	ExpirationDate  time.Time `json:"expirationDate"`
	Details         struct {
		Message string `json:"message"`
		Fields  []struct {
			Label string `json:"label"`
			Value string `json:"value"`
		} `json:"fields"`
	} `json:"details"`
	HiddenDetails map[string]string `json:"hiddenDetails"`
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
	FriendlyName string `json:"friendlyName"`
	Status       string `json:"status"`
}

// webhookEvent is one delivery the backend's webhook sink received.
type webhookEvent struct {
	Received time.Time         `json:"received"`
	Valid    bool              `json:"signatureValid"`
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

// listFactors is the user's factors; none before the first enrolment,
// when Verify does not know the user yet (404).
func (b *backendClient) listFactors(ctx context.Context, user string, quiet bool) ([]backendFactor, error) {
	var out []backendFactor
	err := b.do(ctx, call{method: http.MethodGet, path: "/backend/list-factors", form: url.Values{"identity": {user}}, quiet: quiet}, &out)
	return out, unknownUserIsEmpty(err)
}

// listChallenges is the user's challenges, newest first.
func (b *backendClient) listChallenges(ctx context.Context, user string) ([]backendChallenge, error) {
	var out []backendChallenge
	err := b.do(ctx, call{method: http.MethodGet, path: "/backend/challenges", form: url.Values{"identity": {user}}, quiet: true}, &out)
	return out, unknownUserIsEmpty(err)
}

func unknownUserIsEmpty(err error) error {
	var apiErr *apiError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
		return nil
	}
	return err
}

// webhookEvents is what the backend's sink has received, oldest first.
func (b *backendClient) webhookEvents(ctx context.Context, quiet bool) ([]webhookEvent, error) {
	var out struct {
		Events []webhookEvent `json:"events"`
	}
	err := b.do(ctx, call{method: http.MethodGet, path: "/backend/webhook/events", quiet: quiet}, &out)
	return out.Events, err
}

// signIn is what create-challenge answers for a sign-in without a factor:
// one challenge per verified phone of the user, and the phones Verify
// refused.
type signIn struct {
	Challenges []backendChallenge `json:"challenges"`
	Refused    []struct {
		Status  int    `json:"status"`
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"refused"`
}

// refusals are the refused phones as errors.
func (s signIn) refusals() []error {
	var out []error
	for _, r := range s.Refused {
		out = append(out, &apiError{Status: r.Status, Code: r.Code, Message: r.Message})
	}
	return out
}

// signIn asks the sample backend to challenge every phone of the user.
func (b *backendClient) signIn(ctx context.Context, form url.Values) (signIn, error) {
	var out signIn
	err := b.do(ctx, call{method: http.MethodPost, path: "/backend/create-challenge", form: form}, &out)
	return out, err
}

// resend pushes the challenge again; identity is as Verify knows it.
func (b *backendClient) resend(ctx context.Context, identity, sid string) (notification, error) {
	var out notification
	err := b.do(ctx, call{method: http.MethodPost, path: "/backend/resend", form: url.Values{"identity": {identity}, "sid": {sid}}}, &out)
	return out, err
}

// expire ends a pending challenge now; identity is as Verify knows it.
func (b *backendClient) expire(ctx context.Context, identity, sid string) error {
	return b.do(ctx, call{method: http.MethodPost, path: "/backend/expire", form: url.Values{"identity": {identity}, "sid": {sid}}}, nil)
}
