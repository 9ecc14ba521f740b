// Package backend is pushsim's bundled sample app backend. Its four
// functions (access-token, create-challenge, challenge-status,
// list-factors) answer exactly as Twilio's "verify-push-backend" function
// template does, so the template's web page and the SDK sample apps work
// against it unchanged; what pushsim adds (several phones per sign-in,
// number matching, resend, expire, a webhook sink) only ever adds
// parameters, endpoints and fields. Like a customer's backend it reaches
// Verify only through the /v2 REST API with the account's credentials.
//
// On loopback it is open, for zero set-up. A server reachable from a
// network sets Config.Guarded: the account-side calls then need the
// account's credentials, and a second phone for a user needs an
// enrollment code from the host (docs/security.md has the threat model).
package backend

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// ServiceName is the friendly name of the service the backend creates on
// first start and finds again afterwards.
const ServiceName = "pushsim sample"

// Identity processing, the template's IDENTITY_PROCESSING: what happens to
// a user name before it reaches Verify.
const (
	// IdentityHash sends SHA-256 in lower-case hex, so no PII leaves the
	// backend (the template's default).
	IdentityHash = "hash"
	// IdentityRaw sends the name as it is.
	IdentityRaw = "raw"
)

// ParseIdentityProcessing checks an IDENTITY_PROCESSING value; empty
// means hash.
func ParseIdentityProcessing(s string) (string, error) {
	switch s {
	case "", IdentityHash:
		return IdentityHash, nil
	case IdentityRaw:
		return IdentityRaw, nil
	}
	return "", fmt.Errorf("identity processing %q: use hash or raw", s)
}

// Config sets up the backend.
type Config struct {
	// VerifyURL is where the Verify API is reached, e.g.
	// "http://127.0.0.1:4010" (no /v2).
	VerifyURL  string
	AccountSid string
	AuthToken  string
	// PublicURL is the base URL phones and Verify use to reach the backend;
	// the webhook sink is registered as PublicURL + "/backend/webhook".
	PublicURL string
	// IdentityProcessing is IdentityHash (default) or IdentityRaw.
	IdentityProcessing string
	// Guarded is set when the server is reachable beyond loopback: the
	// account-side endpoints then require the account's credentials, and
	// enrolling another phone for a user who has a verified one requires
	// an enrollment code.
	Guarded bool
	// EnrollmentCodeTTL is how long an enrollment code stays usable
	// (default 10 minutes).
	EnrollmentCodeTTL time.Duration
	Client            *http.Client
	Logger            *slog.Logger
	Now               func() time.Time
	// KeepEvents is how many webhook events the sink remembers (default 100).
	KeepEvents int
	// Rand draws number-matching codes, sign-in ids and enrollment codes;
	// default crypto/rand.
	Rand io.Reader
}

// Backend serves /backend/*.
type Backend struct {
	cfg Config
	mux *http.ServeMux

	mu         sync.Mutex
	serviceSid string
	events     []Event
	codes      map[string][]enrollmentCode // by Verify identity
}

// access is who may call a route.
type access int

const (
	// open routes answer anyone: phones fetching enrollment tokens, and
	// Verify posting webhooks (which carry their own signature).
	open access = iota
	// accountOnly routes act for the app's operator; once the server is
	// guarded they need the account's credentials.
	accountOnly
)

// route is one endpoint. An empty method accepts any, as a Twilio
// Function does.
type route struct {
	method, path string
	access       access
	handle       func(*Backend, http.ResponseWriter, *http.Request, params)
}

// routes is the backend's whole surface: the template's four functions
// first, then pushsim's additions (docs/decisions.md lists them).
var routes = []route{
	{"", "/backend/access-token", open, (*Backend).accessToken},
	{"", "/backend/create-challenge", accountOnly, (*Backend).createChallenge},
	{"", "/backend/challenge-status", accountOnly, (*Backend).challengeStatus},
	{"", "/backend/list-factors", accountOnly, (*Backend).listFactors},

	{"", "/backend/challenges", accountOnly, (*Backend).listChallenges},
	{"", "/backend/resend", accountOnly, (*Backend).resend},
	{"", "/backend/expire", accountOnly, (*Backend).expire},
	{"", "/backend/hash-identity", accountOnly, (*Backend).hashIdentity},
	{"", "/backend/enrollment-code", accountOnly, (*Backend).enrollmentCode},
	{http.MethodPost, "/backend/webhook", open, (*Backend).receiveWebhook},
	{http.MethodGet, "/backend/webhook/events", accountOnly, (*Backend).listEvents},
}

// New returns the backend; the default service is found or created on the
// first request that needs it (or by Ensure).
func New(cfg Config) *Backend {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.KeepEvents <= 0 {
		cfg.KeepEvents = 100
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.EnrollmentCodeTTL <= 0 {
		cfg.EnrollmentCodeTTL = 10 * time.Minute
	}
	if cfg.IdentityProcessing == "" {
		cfg.IdentityProcessing = IdentityHash
	}
	cfg.VerifyURL = strings.TrimRight(cfg.VerifyURL, "/")
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	b := &Backend{cfg: cfg, mux: http.NewServeMux(), codes: map[string][]enrollmentCode{}}
	for _, rt := range routes {
		pattern := strings.TrimSpace(rt.method + " " + rt.path)
		b.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if rt.access == accountOnly && b.cfg.Guarded && !b.isAccount(r) {
				refuseUnauthenticated(w)
				return
			}
			p, err := readParams(w, r)
			if err != nil {
				writeError(w, http.StatusBadRequest, err.Error(), "")
				return
			}
			rt.handle(b, w, r, p)
		})
	}
	b.mux.HandleFunc("/backend/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such backend endpoint: "+r.Method+" "+r.URL.Path, "")
	})
	return b
}

// ServeHTTP serves the backend's endpoints.
func (b *Backend) ServeHTTP(w http.ResponseWriter, r *http.Request) { b.mux.ServeHTTP(w, r) }

// WebhookURL is the sink's address as registered with Verify.
func (b *Backend) WebhookURL() string { return b.cfg.PublicURL + "/backend/webhook" }

// HashIdentity is the template's digestMessage: SHA-256 in lower-case hex.
func HashIdentity(identity string) string {
	sum := sha256.Sum256([]byte(identity))
	return hex.EncodeToString(sum[:])
}

// identity is the Verify identity for a user name, as IDENTITY_PROCESSING
// says.
func (b *Backend) identity(user string) string {
	if b.cfg.IdentityProcessing == IdentityRaw {
		return user
	}
	return HashIdentity(user)
}

// Ensure finds or creates the default service and its webhook, and returns
// the service SID.
func (b *Backend) Ensure(ctx context.Context) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.serviceSid != "" {
		return b.serviceSid, nil
	}
	sid, err := b.ensureOne(ctx, "/v2/Services", "services", "friendly_name", ServiceName,
		url.Values{"FriendlyName": {ServiceName}})
	if err != nil {
		return "", err
	}
	form := url.Values{"FriendlyName": {"pushsim sample backend"}, "EventTypes": {"*"}, "WebhookUrl": {b.WebhookURL()}}
	if _, err := b.ensureOne(ctx, "/v2/Services/"+sid+"/Webhooks", "webhooks", "webhook_url", b.WebhookURL(), form); err != nil {
		return "", fmt.Errorf("register webhook sink: %w", err)
	}
	b.serviceSid = sid
	return sid, nil
}

// ensureOne finds the resource in the list at path whose field is value,
// creating it if there is none, and returns its SID. Servers sharing one
// database run this at once when they start, and each may create one: so
// after creating, it lists again and keeps the oldest, deleting its own
// if another server's came first. Every server picks the same one.
func (b *Backend) ensureOne(ctx context.Context, path, key, field, value string, create url.Values) (string, error) {
	matching := func() ([]string, error) {
		var page map[string]json.RawMessage
		if err := b.verify(ctx, http.MethodGet, path, url.Values{"PageSize": {"1000"}}, &page); err != nil {
			return nil, err
		}
		var items []map[string]any
		if err := json.Unmarshal(page[key], &items); err != nil {
			return nil, fmt.Errorf("list %s: %w", key, err)
		}
		var sids []string // oldest first, as Verify lists them
		for _, it := range items {
			if v, _ := it[field].(string); v == value {
				sid, _ := it["sid"].(string)
				sids = append(sids, sid)
			}
		}
		return sids, nil
	}
	found, err := matching()
	if err != nil || len(found) > 0 {
		if len(found) > 0 {
			return found[0], nil
		}
		return "", err
	}
	var created struct{ Sid string }
	if err := b.verify(ctx, http.MethodPost, path, create, &created); err != nil {
		return "", err
	}
	if found, err = matching(); err != nil {
		return "", err
	}
	if len(found) == 0 || found[0] == created.Sid {
		return created.Sid, nil
	}
	if err := b.verify(ctx, http.MethodDelete, path+"/"+created.Sid, nil, nil); err != nil {
		return "", fmt.Errorf("remove the duplicate %s %s: %w", key, created.Sid, err)
	}
	return found[0], nil
}

// APIError is a Verify error as the backend received it.
type APIError struct {
	Status   int    `json:"status"`
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
}

func (e *APIError) Error() string { return fmt.Sprintf("verify: %d %s", e.Code, e.Message) }

// verify calls the Verify REST API (or the emulator's /_pushsim controls)
// as the account and decodes the body.
func (b *Backend) verify(ctx context.Context, method, path string, form url.Values, out any) error {
	target := b.cfg.VerifyURL + path
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(form.Encode())
	} else if len(form) > 0 {
		target += "?" + form.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return err
	}
	req.SetBasicAuth(b.cfg.AccountSid, b.cfg.AuthToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := b.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		apiErr := &APIError{Status: resp.StatusCode}
		if json.Unmarshal(raw, apiErr) != nil || apiErr.Code == 0 {
			apiErr.Message = strings.TrimSpace(string(raw))
		}
		return apiErr
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// servicePath is the default service's path below the API root, e.g.
// "/v2/Services/VA…", finding or creating the service first.
func (b *Backend) servicePath(ctx context.Context) (string, error) {
	sid, err := b.Ensure(ctx)
	return "/v2/Services/" + sid, err
}

// entityPath is an identity's path: identity is the Verify identity,
// already processed.
func (b *Backend) entityPath(ctx context.Context, identity string) (string, error) {
	svc, err := b.servicePath(ctx)
	return svc + "/Entities/" + url.PathEscape(identity), err
}

// fail answers with a Verify error as the template does, or with 502 when
// Verify could not be reached.
func (b *Backend) fail(w http.ResponseWriter, err error) {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		writeVerifyError(w, apiErr)
		return
	}
	b.cfg.Logger.Error("sample backend", "err", err)
	writeError(w, http.StatusBadGateway, "could not reach Verify: "+err.Error(), "")
}
