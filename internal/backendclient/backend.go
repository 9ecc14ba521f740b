package backendclient

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/pushsim/pushsim/device"
)

// The sample backend's endpoints the demo uses, and what they answer: the
// helper library's camelCase objects, as Twilio's sample backend answers.

// Challenge is a challenge as the sample backend returns it.
type Challenge struct {
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

// Field is the value of one of the challenge's detail fields.
func (c Challenge) Field(label string) string {
	for _, f := range c.Details.Fields {
		if f.Label == label {
			return f.Value
		}
	}
	return ""
}

// Code is the challenge's number-matching code, if it has one.
func (c Challenge) Code() string { return c.HiddenDetails[device.NumberMatchKey] }

// Factor is one of the identity's factors.
type Factor struct {
	Sid          string `json:"sid"`
	FriendlyName string `json:"friendlyName"`
	Status       string `json:"status"`
}

// WebhookEvent is one delivery the backend's webhook sink received.
type WebhookEvent struct {
	Received time.Time         `json:"received"`
	Valid    bool              `json:"signatureValid"`
	Type     string            `json:"type"`
	UUID     string            `json:"uuid"`
	Params   map[string]string `json:"params"`
	// Signature is the X-Twilio-Signature header the sink was given.
	Signature string `json:"signature"`
}

// Subject is the challenge or factor the event is about.
func (e WebhookEvent) Subject() string {
	if sid := e.Params["challenge_sid"]; sid != "" {
		return sid
	}
	return e.Params["factor_sid"]
}

// Notification is a resent push (Verify's Notification resource).
type Notification struct {
	Sid string `json:"sid"`
	TTL int    `json:"ttl"`
}

// HashIdentity is the identity the sample backend sends Verify for user.
func (c *Client) HashIdentity(ctx context.Context, user string) (string, error) {
	var out struct {
		Identity string `json:"identity"`
	}
	err := c.Do(ctx, Call{Method: http.MethodPost, Path: "/backend/hash-identity", Form: url.Values{"identity": {user}}, Quiet: true}, &out)
	return out.Identity, err
}

// ListFactors is the user's factors; none before the first enrolment,
// when Verify does not know the user yet (404).
func (c *Client) ListFactors(ctx context.Context, user string, quiet bool) ([]Factor, error) {
	var out []Factor
	err := c.Do(ctx, Call{Method: http.MethodGet, Path: "/backend/list-factors", Form: url.Values{"identity": {user}}, Quiet: quiet}, &out)
	return out, unknownUserIsEmpty(err)
}

// ListChallenges is the user's challenges, newest first.
func (c *Client) ListChallenges(ctx context.Context, user string) ([]Challenge, error) {
	var out []Challenge
	err := c.Do(ctx, Call{Method: http.MethodGet, Path: "/backend/challenges", Form: url.Values{"identity": {user}}, Quiet: true}, &out)
	return out, unknownUserIsEmpty(err)
}

func unknownUserIsEmpty(err error) error {
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
		return nil
	}
	return err
}

// WebhookEvents is what the backend's sink has received, oldest first.
func (c *Client) WebhookEvents(ctx context.Context, quiet bool) ([]WebhookEvent, error) {
	var out struct {
		Events []WebhookEvent `json:"events"`
	}
	err := c.Do(ctx, Call{Method: http.MethodGet, Path: "/backend/webhook/events", Quiet: quiet}, &out)
	return out.Events, err
}

// SignIn is what create-challenge answers for a sign-in without a factor:
// one challenge per verified phone of the user, and the phones Verify
// refused.
type SignIn struct {
	Challenges []Challenge `json:"challenges"`
	Refused    []struct {
		Status  int    `json:"status"`
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"refused"`
}

// Refusals are the refused phones as errors.
func (s SignIn) Refusals() []error {
	var out []error
	for _, r := range s.Refused {
		out = append(out, &APIError{Status: r.Status, Code: r.Code, Message: r.Message})
	}
	return out
}

// SignIn asks the sample backend to challenge every phone of the user.
func (c *Client) SignIn(ctx context.Context, form url.Values) (SignIn, error) {
	var out SignIn
	err := c.Do(ctx, Call{Method: http.MethodPost, Path: "/backend/create-challenge", Form: form}, &out)
	return out, err
}

// Resend pushes the challenge again; identity is as Verify knows it.
func (c *Client) Resend(ctx context.Context, identity, sid string) (Notification, error) {
	var out Notification
	err := c.Do(ctx, Call{Method: http.MethodPost, Path: "/backend/resend", Form: url.Values{"identity": {identity}, "sid": {sid}}}, &out)
	return out, err
}

// Expire ends a pending challenge now; identity is as Verify knows it.
func (c *Client) Expire(ctx context.Context, identity, sid string) error {
	return c.Do(ctx, Call{Method: http.MethodPost, Path: "/backend/expire", Form: url.Values{"identity": {identity}, "sid": {sid}}}, nil)
}
