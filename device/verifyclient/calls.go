package verifyclient

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/pushsim/pushsim/device/sdkjose"
)

// CreateFactorParams are the inputs of create-factor.
type CreateFactorParams struct {
	ServiceSid   string
	Identity     string
	FriendlyName string
	// AccessToken is the enrollment token from the app's backend; it is the
	// Basic-auth password of this one call.
	AccessToken string
	// PushToken registers the phone for pushes (platform fcm); empty means
	// platform none and no token parameter.
	PushToken string
	// Metadata, when not nil, is sent as a JSON string of string values.
	Metadata  map[string]string
	PublicKey *ecdsa.PublicKey
}

func factorsPath(serviceSid, identity string) []string {
	return []string{"Services", serviceSid, "Entities", identity, "Factors"}
}

func factorPath(cred *Credentials) []string {
	return append(factorsPath(cred.ServiceSid, cred.Identity), cred.FactorSid)
}

func challengePath(cred *Credentials, challengeSid string) []string {
	return []string{"Services", cred.ServiceSid, "Entities", cred.Identity, "Challenges", challengeSid}
}

// configParams are the Config.* parameters shared by create and update.
func (c *Client) configParams(pushToken string) []param {
	params := []param{{"Config.SdkVersion", SDKVersion}, {"Config.AppId", c.app.PackageName}}
	if pushToken == "" {
		return append(params, param{"Config.NotificationPlatform", PlatformNone})
	}
	return append(params, param{"Config.NotificationPlatform", PlatformFCM}, param{"Config.NotificationToken", pushToken})
}

func platformFor(pushToken string) string {
	if pushToken == "" {
		return PlatformNone
	}
	return PlatformFCM
}

// CreateFactor registers a new push factor: POST .../Entities/{Identity}/Factors
// with the parameters in the SDK's order, authenticated by the access token.
// It is never retried. The returned factor is unverified until VerifyFactor.
func (c *Client) CreateFactor(ctx context.Context, p CreateFactorParams) (*Factor, error) {
	switch {
	case p.ServiceSid == "":
		return nil, Wrap(CodeInput, errors.New("missing service sid"))
	case p.Identity == "":
		return nil, Wrap(CodeInput, errors.New("missing identity"))
	case p.AccessToken == "":
		return nil, Wrap(CodeInput, errors.New("missing access token"))
	}
	publicKey, err := sdkjose.EncodePublicKey(p.PublicKey)
	if err != nil {
		return nil, Wrap(CodeKeyStorage, err)
	}
	form := []param{
		{"FriendlyName", p.FriendlyName},
		{"FactorType", "push"},
		{"Binding.PublicKey", publicKey},
		{"Binding.Alg", sdkjose.Algorithm},
	}
	form = append(form, c.configParams(p.PushToken)...)
	if p.Metadata != nil {
		meta, err := json.Marshal(p.Metadata)
		if err != nil {
			return nil, Wrap(CodeInput, err)
		}
		form = append(form, param{"Metadata", string(meta)})
	}
	resp, err := c.call(ctx, &request{
		method:      http.MethodPost,
		path:        factorsPath(p.ServiceSid, p.Identity),
		form:        form,
		accessToken: p.AccessToken,
	})
	if err != nil {
		return nil, err
	}
	f, err := parseFactor(resp.body)
	if err != nil {
		return nil, err
	}
	if f.NotificationPlatform == "" {
		f.NotificationPlatform = platformFor(p.PushToken)
	}
	return f, nil
}

// VerifyFactor proves possession of the factor's key: POST AuthPayload = the
// DER signature of the factor SID. It returns the status the server reports.
func (c *Client) VerifyFactor(ctx context.Context, cred Credentials) (string, error) {
	if err := checkCredentials(&cred); err != nil {
		return "", err
	}
	payload, err := sdkjose.FactorAuthPayload(cred.Key, cred.FactorSid)
	if err != nil {
		return "", Wrap(CodeKeyStorage, err)
	}
	resp, err := c.call(ctx, &request{
		method: http.MethodPost,
		path:   factorPath(&cred),
		form:   []param{{"AuthPayload", payload}},
		cred:   &cred,
	})
	if err != nil {
		return "", err
	}
	return parseFactorStatus(resp.body)
}

// UpdateFactor re-registers the push token (empty = platform none),
// re-sending the factor's friendly name, as the SDK does on a token refresh.
func (c *Client) UpdateFactor(ctx context.Context, cred Credentials, friendlyName, pushToken string) (*Factor, error) {
	if err := checkCredentials(&cred); err != nil {
		return nil, err
	}
	form := append([]param{{"FriendlyName", friendlyName}}, c.configParams(pushToken)...)
	resp, err := c.call(ctx, &request{method: http.MethodPost, path: factorPath(&cred), form: form, cred: &cred})
	if err != nil {
		return nil, err
	}
	f, err := parseFactor(resp.body)
	if err != nil {
		return nil, err
	}
	if f.NotificationPlatform == "" {
		f.NotificationPlatform = platformFor(pushToken)
	}
	return f, nil
}

// DeleteFactor deletes the factor on the server. As in the SDK, a 404 (the
// server no longer has it) and a 401 that persists after the clock-correcting
// retry both count as success, so the phone can always forget the factor.
func (c *Client) DeleteFactor(ctx context.Context, cred Credentials) error {
	if err := checkCredentials(&cred); err != nil {
		return err
	}
	resp, err := c.call(ctx, &request{method: http.MethodDelete, path: factorPath(&cred), cred: &cred})
	if err != nil && resp != nil {
		if resp.status == http.StatusNotFound || resp.status == http.StatusUnauthorized && resp.retried {
			return nil
		}
	}
	return err
}

// GetChallenge fetches one challenge and checks that it belongs to the
// factor. A pending challenge comes back with its SignatureFields.
func (c *Client) GetChallenge(ctx context.Context, cred Credentials, challengeSid string) (*Challenge, error) {
	ch, err := c.fetchChallenge(ctx, &cred, challengeSid)
	if err != nil {
		return nil, err
	}
	if ch.FactorSid != cred.FactorSid {
		return nil, Wrap(CodeInput, ErrInvalidChallenge)
	}
	return ch, nil
}

func (c *Client) fetchChallenge(ctx context.Context, cred *Credentials, challengeSid string) (*Challenge, error) {
	if err := checkCredentials(cred); err != nil {
		return nil, err
	}
	if challengeSid == "" {
		return nil, Wrap(CodeInput, ErrEmptyChallengeSid)
	}
	resp, err := c.call(ctx, &request{method: http.MethodGet, path: challengePath(cred, challengeSid), cred: cred})
	if err != nil {
		return nil, err
	}
	ch, err := parseChallenge(resp.body)
	if err != nil {
		return nil, err
	}
	// The SDK keeps the header and body only for a pending challenge.
	if fields := parseSignatureFields(resp.header.Get("Twilio-Verify-Signature-Fields")); ch.Status == ChallengePending && fields != nil {
		ch.SignatureFields, ch.body = fields, resp.body
	}
	return ch, nil
}

// Challenge list orders.
const (
	OrderAsc  = "asc"
	OrderDesc = "desc"
)

// ListParams select a page of a factor's challenges.
type ListParams struct {
	PageSize  int    // default 20, as the sample app uses
	Status    string // optional filter: pending, approved, denied, expired
	Order     string // OrderAsc (default) or OrderDesc
	PageToken string // from a previous page's NextPageToken
}

// ListChallenges fetches one page of the factor's challenges with the query
// parameters in the SDK's order: PageSize, FactorSid, Order, [Status],
// [PageToken].
func (c *Client) ListChallenges(ctx context.Context, cred Credentials, p ListParams) (*ChallengeList, error) {
	if err := checkCredentials(&cred); err != nil {
		return nil, err
	}
	if p.PageSize <= 0 {
		p.PageSize = 20
	}
	if p.Order == "" {
		p.Order = OrderAsc
	}
	query := []param{{"PageSize", strconv.Itoa(p.PageSize)}, {"FactorSid", cred.FactorSid}, {"Order", p.Order}}
	if p.Status != "" {
		query = append(query, param{"Status", p.Status})
	}
	if p.PageToken != "" {
		query = append(query, param{"PageToken", p.PageToken})
	}
	resp, err := c.call(ctx, &request{
		method: http.MethodGet,
		path:   []string{"Services", cred.ServiceSid, "Entities", cred.Identity, "Challenges"},
		query:  query,
		cred:   &cred,
	})
	if err != nil {
		return nil, err
	}
	return parseChallengeList(resp.body)
}

// UpdateChallenge answers a challenge the way the SDK does: GET it, refuse
// locally if it belongs to another factor, has expired, was already answered
// or came without Twilio-Verify-Signature-Fields; sign the listed fields plus
// status; POST the JWS as AuthPayload; GET it again and succeed only if the
// server now reports the requested status. It returns that final challenge.
func (c *Client) UpdateChallenge(ctx context.Context, cred Credentials, challengeSid, status string) (*Challenge, error) {
	ch, err := c.fetchChallenge(ctx, &cred, challengeSid)
	if err != nil {
		return nil, err
	}
	switch {
	case ch.FactorSid != cred.FactorSid:
		return nil, Wrap(CodeInput, ErrWrongFactor)
	case ch.Status == ChallengeExpired:
		return nil, Wrap(CodeInput, ErrExpiredChallenge)
	case ch.Status != ChallengePending:
		return nil, Wrap(CodeInput, ErrAlreadyUpdatedChallenge)
	case len(ch.SignatureFields) == 0 || len(ch.body) == 0:
		return nil, Wrap(CodeInput, ErrSignatureFields)
	}
	payload, err := sdkjose.ChallengeAuthPayload(cred.Key, ch.body, ch.SignatureFields, status)
	if err != nil {
		var missing *sdkjose.MissingFieldError
		if errors.As(err, &missing) {
			return nil, Wrap(CodeInput, err)
		}
		return nil, Wrap(CodeToken, err)
	}
	if _, err := c.call(ctx, &request{
		method: http.MethodPost,
		path:   challengePath(&cred, challengeSid),
		form:   []param{{"AuthPayload", payload}},
		cred:   &cred,
	}); err != nil {
		return nil, err
	}
	final, err := c.fetchChallenge(ctx, &cred, challengeSid)
	if err != nil {
		return nil, err
	}
	if final.Status != status {
		return final, Wrap(CodeInput, fmt.Errorf("%w (status is %s)", ErrNotUpdatedChallenge, final.Status))
	}
	return final, nil
}

func checkCredentials(cred *Credentials) error {
	switch {
	case cred.FactorSid == "":
		return Wrap(CodeInput, ErrEmptyFactorSid)
	case cred.ServiceSid == "" || cred.Identity == "" || cred.AccountSid == "" || cred.CredentialSid == "":
		return Wrap(CodeInput, ErrInvalidFactor)
	}
	return nil
}
