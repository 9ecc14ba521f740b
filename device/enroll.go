package device

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pushsim/pushsim/device/keystore"
	"github.com/pushsim/pushsim/device/pushclient"
	"github.com/pushsim/pushsim/device/verifyclient"
)

// AccessToken is the app backend's answer to an enrolment request.
type AccessToken struct {
	Token      string `json:"token"`
	ServiceSid string `json:"serviceSid"`
	Identity   string `json:"identity"`
	FactorType string `json:"factorType"`
}

// AccessTokenError reports a failed call to the access-token URL.
type AccessTokenError struct {
	URL        string
	StatusCode int    // 0 when no response arrived
	Message    string // the backend's error message, or what was wrong
	Err        error
}

func (e *AccessTokenError) Error() string {
	msg := "access token from " + e.URL
	if e.StatusCode != 0 {
		msg += fmt.Sprintf(": HTTP %d", e.StatusCode)
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *AccessTokenError) Unwrap() error { return e.Err }

// FetchAccessToken asks the app backend for an enrolment token, as the
// Android sample app does: POST form identity=<identity>, expecting JSON
// {token, serviceSid, identity, factorType} with none of them blank.
func (d *Device) FetchAccessToken(ctx context.Context, identity string) (*AccessToken, error) {
	// Errors name the endpoint without its query, which may carry a
	// one-time enrollment code that is still good after a failure.
	where := d.cfg.AccessTokenURL
	if u, err := url.Parse(where); err == nil && u.RawQuery != "" {
		u.RawQuery = ""
		where = u.String()
	}
	fail := func(status int, msg string, err error) (*AccessToken, error) {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			urlErr.URL = where
		}
		return nil, &AccessTokenError{URL: where, StatusCode: status, Message: msg, Err: err}
	}
	body := "identity=" + url.QueryEscape(identity)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.cfg.AccessTokenURL, strings.NewReader(body))
	if err != nil {
		return fail(0, "", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", d.cfg.App.UserAgent())

	ex := verifyclient.Exchange{Method: req.Method, URL: req.URL.String(), RequestHeader: req.Header.Clone(), RequestBody: []byte(body)}
	start := time.Now()
	resp, err := d.http.Do(req)
	var data []byte
	if err == nil {
		data, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		ex.StatusCode, ex.ResponseHeader, ex.ResponseBody = resp.StatusCode, resp.Header, data
	}
	ex.Duration, ex.Err = time.Since(start), err
	d.observe(ex)
	if err != nil {
		return fail(0, "", err)
	}
	if resp.StatusCode >= 300 {
		return fail(resp.StatusCode, backendErrorMessage(data), nil)
	}
	var tok AccessToken
	if err := json.Unmarshal(data, &tok); err != nil {
		return fail(resp.StatusCode, "response is not the expected JSON", err)
	}
	if tok.Token == "" || tok.ServiceSid == "" || tok.Identity == "" || tok.FactorType == "" {
		return fail(resp.StatusCode, "response lacks token, serviceSid, identity or factorType", nil)
	}
	if tok.FactorType != "push" {
		return fail(resp.StatusCode, fmt.Sprintf("factorType is %q, want push", tok.FactorType), nil)
	}
	return &tok, nil
}

// backendErrorMessage digs the message out of the sample backend's
// {"error":{"message"}} or a Twilio error body; otherwise the body itself.
func backendErrorMessage(body []byte) string {
	var shapes struct {
		Message string `json:"message"`
		Error   struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &shapes) == nil {
		if shapes.Error.Message != "" {
			return shapes.Error.Message
		}
		if shapes.Message != "" {
			return shapes.Message
		}
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// EnrollParams are what the user types on the sample app's enrolment screen.
type EnrollParams struct {
	Identity string
	// FriendlyName defaults to "<identity>'s factor", as in the sample app.
	FriendlyName string
	// Metadata is sent with the factor when not nil.
	Metadata map[string]string
}

// CreateFactor enrols the phone the way the sample app does: fetch an access
// token for the identity, generate a key under a fresh alias, create the
// factor with the current push token (none if there is none), store it, and
// verify it at once. If verification fails the factor stays on the phone,
// unverified, and the error is returned with it; the next Launch finishes
// the enrolment.
func (d *Device) CreateFactor(ctx context.Context, p EnrollParams) (Factor, error) {
	if p.Identity == "" {
		return Factor{}, verifyclient.Wrap(verifyclient.CodeInput, errors.New("missing identity"))
	}
	if p.FriendlyName == "" {
		p.FriendlyName = p.Identity + "'s factor"
	}
	tok, err := d.FetchAccessToken(ctx, p.Identity)
	if err != nil {
		return Factor{}, err
	}
	pushToken, err := d.PushToken()
	if err != nil {
		return Factor{}, err
	}
	alias, key, err := d.store.NewKey()
	if err != nil {
		return Factor{}, verifyclient.Wrap(verifyclient.CodeKeyStorage, err)
	}
	created, err := d.client.CreateFactor(ctx, verifyclient.CreateFactorParams{
		ServiceSid:   tok.ServiceSid,
		Identity:     tok.Identity,
		FriendlyName: p.FriendlyName,
		AccessToken:  tok.Token,
		PushToken:    pushToken,
		Metadata:     p.Metadata,
		PublicKey:    &key.PublicKey,
	})
	if err != nil {
		// The SDK deletes the alias it generated when create fails.
		_ = d.store.DeleteKey(alias)
		return Factor{}, err
	}
	f := Factor{
		Sid:                  created.Sid,
		FriendlyName:         created.FriendlyName,
		AccountSid:           created.AccountSid,
		ServiceSid:           tok.ServiceSid,
		Identity:             tok.Identity,
		Status:               created.Status,
		CredentialSid:        created.CredentialSid,
		NotificationPlatform: created.NotificationPlatform,
		NotificationToken:    pushToken,
		CreatedAt:            created.CreatedAt,
		Metadata:             created.Metadata,
		KeyAlias:             alias,
	}
	if err := d.store.SaveFactor(f); err != nil {
		_ = d.store.DeleteKey(alias)
		return Factor{}, verifyclient.Wrap(verifyclient.CodeStorage, err)
	}
	if f.Status == verifyclient.FactorVerified {
		d.emit(Event{Kind: EventEnrolled, FactorSid: f.Sid, Identity: f.Identity})
		return f, nil
	}
	verified, err := d.VerifyFactor(ctx, f.Sid)
	if err != nil {
		return f, err
	}
	return verified, nil
}

// VerifyFactor proves possession of the factor's key and stores the status
// the server reports. A factor that becomes verified is announced as
// enrolled.
func (d *Device) VerifyFactor(ctx context.Context, factorSid string) (Factor, error) {
	cred, before, err := d.credentials(factorSid)
	if err != nil {
		return Factor{}, err
	}
	status, err := d.client.VerifyFactor(ctx, cred)
	if err != nil {
		return before, err
	}
	after, err := d.store.UpdateFactor(factorSid, func(f *Factor) { f.Status = status })
	if err != nil {
		return before, storageError(err)
	}
	if before.Status != verifyclient.FactorVerified && after.Status == verifyclient.FactorVerified {
		d.emit(Event{Kind: EventEnrolled, FactorSid: after.Sid, Identity: after.Identity})
	}
	return after, nil
}

// finishEnrollments verifies again, with a fresh proof of its key, every
// local factor that is not verified: one whose verification failed, or
// whose app was killed between creating it and verifying it. A factor that
// becomes verified is announced as enrolled, as at the end of CreateFactor.
// A factor the server no longer has (it deletes unverified factors after a
// while) is forgotten locally and announced as deleted, so that the app can
// enroll anew. Any other failure leaves the factor as it is, for the next
// attempt, and is returned; failures of several factors are joined.
func (d *Device) finishEnrollments(ctx context.Context) error {
	factors, err := d.GetAllFactors()
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range factors {
		if f.Status == verifyclient.FactorVerified {
			continue
		}
		_, err := d.VerifyFactor(ctx, f.Sid)
		switch {
		case err == nil:
		case serverHasNoSuchFactor(err):
			if err := d.forgetLocalFactor(f); err != nil {
				errs = append(errs, fmt.Errorf("factor %s: %w", f.Sid, err))
			}
		default:
			errs = append(errs, fmt.Errorf("factor %s: %w", f.Sid, err))
		}
	}
	return errors.Join(errs...)
}

// serverHasNoSuchFactor reports an answer meaning the factor is gone from
// the server: not found, or its credential refused even after the clock
// correction the client retries with (Verify authenticates a device before
// it looks the factor up, so a deleted factor's JWTs are refused).
func serverHasNoSuchFactor(err error) bool {
	var httpErr *verifyclient.HTTPError
	if !errors.As(err, &httpErr) {
		return false
	}
	return httpErr.StatusCode == http.StatusNotFound || httpErr.StatusCode == http.StatusUnauthorized
}

// forgetLocalFactor removes a factor and its key from the phone only.
func (d *Device) forgetLocalFactor(f Factor) error {
	if err := d.store.DeleteFactor(f.Sid); err != nil {
		return storageError(err)
	}
	d.forgetFactor(f.Sid)
	d.emit(Event{Kind: EventFactorDeleted, FactorSid: f.Sid, Identity: f.Identity})
	return nil
}

// UpdateFactor registers a new push token for one factor (empty = platform
// none), re-sending its friendly name. Unlike the Android SDK, the local
// record keeps the platform the server reports and the token sent, so the
// phone can show them and knows which factors a token refresh must touch.
func (d *Device) UpdateFactor(ctx context.Context, factorSid, pushToken string) (Factor, error) {
	cred, f, err := d.credentials(factorSid)
	if err != nil {
		return Factor{}, err
	}
	updated, err := d.client.UpdateFactor(ctx, cred, f.FriendlyName, pushToken)
	if err != nil {
		return f, err
	}
	f, err = d.store.UpdateFactor(factorSid, func(f *Factor) {
		f.NotificationPlatform, f.NotificationToken = updated.NotificationPlatform, pushToken
	})
	if err != nil {
		return f, storageError(err)
	}
	return f, nil
}

// UpdatePushToken is what the app does when its push registration token
// changes: remember it for new factors and update every local factor not
// already registered with it (empty = platform none). Failures for some
// factors do not stop the others; they are joined in the result, and a later
// call retries them.
//
// The phone can receive pushes only for a token it derived from its own
// secret (EnsurePushToken); any other token is registered as given, and the
// next EnsurePushToken replaces it.
func (d *Device) UpdatePushToken(ctx context.Context, token string) error {
	err := d.store.UpdateSettings(func(s *keystore.Settings) {
		if s.PushSecret != "" && pushclient.RegistrationToken(s.PushSecret) != token {
			// The secret would open a queue nobody sends to any more.
			s.PushSecret = ""
		}
		s.PushToken = token
	})
	if err != nil {
		return verifyclient.Wrap(verifyclient.CodeStorage, err)
	}
	return d.registerFactors(ctx, token)
}

// registerFactors updates every local factor not yet registered with token.
func (d *Device) registerFactors(ctx context.Context, token string) error {
	factors, err := d.GetAllFactors()
	if err != nil {
		return err
	}
	want := verifyclient.PlatformNone
	if token != "" {
		want = verifyclient.PlatformFCM
	}
	var errs []error
	for _, f := range factors {
		if f.NotificationPlatform == want && f.NotificationToken == token {
			continue
		}
		if _, err := d.UpdateFactor(ctx, f.Sid, token); err != nil {
			errs = append(errs, fmt.Errorf("factor %s: %w", f.Sid, err))
		}
	}
	return errors.Join(errs...)
}

// EnsurePushToken returns the phone's push registration token, creating one
// if it has none, and makes sure every local factor is registered with it.
// Like an FCM app instance, the phone keeps a secret and registers a token
// derived from it, so the token Verify shows the account cannot be used to
// receive the phone's pushes. A token from before secrets existed, or one
// set through UpdatePushToken, is replaced: a token rotation, as after an
// app reinstall.
func (d *Device) EnsurePushToken(ctx context.Context) (string, error) {
	reg, err := d.ensurePushRegistration(ctx)
	return reg.token, err
}

// pushRegistration is a registered token and the secret the push socket
// presents for it.
type pushRegistration struct{ token, secret string }

// ensurePushRegistration is EnsurePushToken, also returning the secret. The
// token and secret are returned even when some factors could not be updated,
// since the phone can receive pushes for the others.
func (d *Device) ensurePushRegistration(ctx context.Context) (pushRegistration, error) {
	var reg pushRegistration
	var randErr error
	// Read, made and saved under the store's lock: two concurrent calls
	// making a secret each would leave one of them holding a secret for a
	// token no longer registered.
	err := d.store.UpdateSettings(func(s *keystore.Settings) {
		if !ownsToken(*s) {
			raw := make([]byte, 32)
			if _, randErr = io.ReadFull(d.rand, raw); randErr != nil {
				return
			}
			s.PushSecret = base64.RawURLEncoding.EncodeToString(raw)
			s.PushToken = pushclient.RegistrationToken(s.PushSecret)
		}
		reg = pushRegistration{token: s.PushToken, secret: s.PushSecret}
	})
	if randErr != nil {
		return pushRegistration{}, verifyclient.Wrap(verifyclient.CodeInitialization, fmt.Errorf("push secret randomness: %w", randErr))
	}
	if err != nil {
		return pushRegistration{}, verifyclient.Wrap(verifyclient.CodeStorage, err)
	}
	return reg, d.registerFactors(ctx, reg.token)
}

// ownsToken reports whether s holds a token together with the secret it was
// derived from.
func ownsToken(s keystore.Settings) bool {
	return s.PushSecret != "" && s.PushToken == pushclient.RegistrationToken(s.PushSecret)
}

// DeleteFactor deletes the factor on the server and then on the phone. A
// server that no longer knows the factor counts as success, as in the SDK.
func (d *Device) DeleteFactor(ctx context.Context, factorSid string) error {
	cred, f, err := d.credentials(factorSid)
	if err != nil {
		return err
	}
	if err := d.client.DeleteFactor(ctx, cred); err != nil {
		return err
	}
	if err := d.store.DeleteFactor(factorSid); err != nil {
		return storageError(err)
	}
	d.forgetFactor(factorSid)
	d.emit(Event{Kind: EventFactorDeleted, FactorSid: f.Sid, Identity: f.Identity})
	return nil
}

// GetAllFactors returns the factors stored on the phone, newest first. It
// makes no network call.
func (d *Device) GetAllFactors() ([]Factor, error) {
	factors, err := d.store.Factors()
	if err != nil {
		return nil, verifyclient.Wrap(verifyclient.CodeStorage, err)
	}
	return factors, nil
}

// ClearLocalStorage deletes every factor and key on the phone without
// telling the server, which keeps the factors: the SDK's clearLocalStorage.
func (d *Device) ClearLocalStorage() error {
	removed, err := d.store.Clear()
	if err != nil {
		return verifyclient.Wrap(verifyclient.CodeStorage, err)
	}
	d.forgetAll()
	for _, f := range removed {
		d.emit(Event{Kind: EventFactorDeleted, FactorSid: f.Sid, Identity: f.Identity})
	}
	return nil
}
