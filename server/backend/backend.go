// Package backend is pushsim's bundled sample app backend, modelled on
// Twilio's Verify Push sample backend: it hands phones enrollment tokens,
// creates challenges for an identity, reads their outcome, lists factors and
// receives the service's signed webhooks. Like a customer's backend it talks
// to Verify only through the /v2 REST API with the account's credentials.
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
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pushsim/pushsim/server/webhook"
)

// ServiceName is the friendly name of the service the backend creates on
// first start and finds again afterwards.
const ServiceName = "pushsim sample"

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
	Client    *http.Client
	Logger    *slog.Logger
	Now       func() time.Time
	// KeepEvents is how many webhook events the sink remembers (default 100).
	KeepEvents int
	// Rand draws number-matching codes; default crypto/rand.
	Rand io.Reader
}

// Backend serves /backend/*.
type Backend struct {
	cfg Config
	mux *http.ServeMux

	mu         sync.Mutex
	serviceSid string
	events     []Event
}

// Event is one webhook delivery the sink received.
type Event struct {
	Received time.Time         `json:"received"`
	Valid    bool              `json:"signature_valid"`
	Type     string            `json:"type"`
	UUID     string            `json:"uuid"`
	Params   map[string]string `json:"params"`
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
	cfg.VerifyURL = strings.TrimRight(cfg.VerifyURL, "/")
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	b := &Backend{cfg: cfg, mux: http.NewServeMux()}
	b.mux.HandleFunc("POST /backend/access-token", b.accessToken)
	b.mux.HandleFunc("POST /backend/create-challenge", b.createChallenge)
	b.mux.HandleFunc("GET /backend/challenge-status", b.challengeStatus)
	b.mux.HandleFunc("POST /backend/challenge-status", b.challengeStatus)
	b.mux.HandleFunc("GET /backend/list-factors", b.listFactors)
	b.mux.HandleFunc("POST /backend/list-factors", b.listFactors)
	b.mux.HandleFunc("POST /backend/hash-identity", b.hashIdentity)
	b.mux.HandleFunc("POST /backend/resend", b.resend)
	b.mux.HandleFunc("POST /backend/expire", b.expire)
	b.mux.HandleFunc("GET /backend/challenges", b.listChallenges)
	b.mux.HandleFunc("POST /backend/webhook", b.receiveWebhook)
	b.mux.HandleFunc("GET /backend/webhook/events", b.listEvents)
	b.mux.HandleFunc("/backend/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such backend endpoint: "+r.Method+" "+r.URL.Path, "")
	})
	return b
}

// ServeHTTP serves the backend's endpoints.
func (b *Backend) ServeHTTP(w http.ResponseWriter, r *http.Request) { b.mux.ServeHTTP(w, r) }

// WebhookURL is the sink's address as registered with Verify.
func (b *Backend) WebhookURL() string { return b.cfg.PublicURL + "/backend/webhook" }

// HashIdentity is what the sample backend does to a user name before it
// reaches Verify: SHA-256, lower-case hex, so no PII leaves the backend.
func HashIdentity(identity string) string {
	sum := sha256.Sum256([]byte(identity))
	return hex.EncodeToString(sum[:])
}

// Ensure finds or creates the default service and its webhook, and returns
// the service SID.
func (b *Backend) Ensure(ctx context.Context) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.serviceSid != "" {
		return b.serviceSid, nil
	}
	var services struct {
		Services []struct {
			Sid          string `json:"sid"`
			FriendlyName string `json:"friendly_name"`
		} `json:"services"`
	}
	if err := b.verify(ctx, http.MethodGet, "/v2/Services", url.Values{"PageSize": {"1000"}}, &services); err != nil {
		return "", err
	}
	sid := ""
	for _, s := range services.Services {
		if s.FriendlyName == ServiceName {
			sid = s.Sid
			break
		}
	}
	if sid == "" {
		var created struct{ Sid string }
		if err := b.verify(ctx, http.MethodPost, "/v2/Services", url.Values{"FriendlyName": {ServiceName}}, &created); err != nil {
			return "", err
		}
		sid = created.Sid
	}
	var hooks struct {
		Webhooks []struct {
			WebhookURL string `json:"webhook_url"`
		} `json:"webhooks"`
	}
	if err := b.verify(ctx, http.MethodGet, "/v2/Services/"+sid+"/Webhooks", url.Values{"PageSize": {"1000"}}, &hooks); err != nil {
		return "", err
	}
	registered := false
	for _, h := range hooks.Webhooks {
		registered = registered || h.WebhookURL == b.WebhookURL()
	}
	if !registered {
		form := url.Values{"FriendlyName": {"pushsim sample backend"}, "EventTypes": {"*"}, "WebhookUrl": {b.WebhookURL()}}
		if err := b.verify(ctx, http.MethodPost, "/v2/Services/"+sid+"/Webhooks", form, nil); err != nil {
			return "", fmt.Errorf("register webhook sink: %w", err)
		}
	}
	b.serviceSid = sid
	return sid, nil
}

// APIError is a Verify error as the backend received it.
type APIError struct {
	Status   int    `json:"status"`
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
}

func (e *APIError) Error() string { return fmt.Sprintf("verify: %d %s", e.Code, e.Message) }

// verify calls the Verify REST API as the account and decodes the body.
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

// params reads a form or JSON object body (the iOS sample sends JSON) into
// flat string values.
func params(w http.ResponseWriter, r *http.Request) (map[string]string, error) {
	out := map[string]string{}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if strings.EqualFold(mt, "application/json") {
		var m map[string]any
		dec := json.NewDecoder(r.Body)
		if err := dec.Decode(&m); err != nil {
			return nil, errors.New("body must be a JSON object")
		}
		for k, v := range m {
			switch v := v.(type) {
			case string:
				out[k] = v
			case float64, bool:
				out[k] = fmt.Sprint(v)
			default:
				return nil, fmt.Errorf("parameter %s must be a string", k)
			}
		}
		return out, nil
	}
	if err := r.ParseForm(); err != nil {
		return nil, errors.New("body must be form-encoded or JSON")
	}
	for k, v := range r.Form {
		if len(v) > 0 {
			out[k] = v[0]
		}
	}
	return out, nil
}

// writeError answers in the sample backend's error shape.
func writeError(w http.ResponseWriter, status int, message, moreInfo string) {
	body := map[string]any{"error": map[string]any{"message": message, "moreInfo": moreInfo}}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// fail reports an error from Verify with Verify's status, anything else as
// a 502 (the backend could not reach Verify) or 400 (bad request).
func (b *Backend) fail(w http.ResponseWriter, err error) {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		writeError(w, apiErr.Status, fmt.Sprintf("%d: %s", apiErr.Code, apiErr.Message), apiErr.MoreInfo)
		return
	}
	b.cfg.Logger.Error("sample backend", "err", err)
	writeError(w, http.StatusBadGateway, "could not reach Verify: "+err.Error(), "")
}

// identityParam returns the Verify identity for a request: "identity" is a
// user name the backend hashes; "entity" is an already-hashed identity.
func identityParam(p map[string]string) (string, bool) {
	if e := p["entity"]; e != "" {
		return e, true
	}
	if id := p["identity"]; id != "" {
		return HashIdentity(id), true
	}
	return "", false
}

func (b *Backend) accessToken(w http.ResponseWriter, r *http.Request) {
	p, err := params(w, r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), "")
		return
	}
	if p["identity"] == "" {
		writeError(w, http.StatusBadRequest, "missing parameter identity", "")
		return
	}
	sid, err := b.Ensure(r.Context())
	if err != nil {
		b.fail(w, err)
		return
	}
	identity := HashIdentity(p["identity"])
	var at struct {
		Token string `json:"token"`
	}
	form := url.Values{"Identity": {identity}, "FactorType": {"push"}}
	if err := b.verify(r.Context(), http.MethodPost, "/v2/Services/"+sid+"/AccessTokens", form, &at); err != nil {
		b.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"token": at.Token, "serviceSid": sid, "identity": identity, "factorType": "push"})
}

// reserved are create-challenge parameters that are not detail fields.
var reserved = map[string]bool{"identity": true, "entity": true, "factor": true, "message": true, "hidden": true, "expiration": true, "number_match": true}

// NumberMatchKey is the hidden-details key that carries a number-matching
// code: the backend shows the code on the sign-in screen and the phone asks
// its user to type it, denying on a mismatch. It is an extension of
// pushsim's sample app, not of the Verify API: the code travels in hidden
// details, which the phone signs with the rest of the challenge.
const NumberMatchKey = "number_match"

// numberMatchCode draws a two-digit code, 10 to 99.
func (b *Backend) numberMatchCode() (string, error) {
	var buf [1]byte
	for {
		if _, err := io.ReadFull(b.cfg.Rand, buf[:]); err != nil {
			return "", err
		}
		if buf[0] < 180 { // 180 = 2 × 90: no modulo bias
			return fmt.Sprint(10 + int(buf[0])%90), nil
		}
	}
}

func (b *Backend) createChallenge(w http.ResponseWriter, r *http.Request) {
	p, entity, ok := b.entityRequest(w, r, "message")
	if !ok {
		return
	}
	var err error
	factor := p["factor"]
	if factor == "" {
		if factor, err = b.newestVerifiedFactor(r.Context(), entity); err != nil {
			b.fail(w, err)
			return
		}
		if factor == "" {
			writeError(w, http.StatusNotFound, "no verified push factor for this identity: enroll a phone first", "")
			return
		}
	}
	form := url.Values{"FactorSid": {factor}, "Details.Message": {p["message"]}}
	keys := make([]string, 0, len(p))
	for k := range p {
		if !reserved[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		field, _ := json.Marshal(map[string]string{"label": k, "value": p[k]})
		form.Add("Details.Fields", string(field))
	}
	hidden := map[string]string{}
	if p["hidden"] != "" {
		if err := json.Unmarshal([]byte(p["hidden"]), &hidden); err != nil {
			writeError(w, http.StatusBadRequest, "hidden must be a JSON object of strings", "")
			return
		}
	}
	code := ""
	if on, _ := strconv.ParseBool(p["number_match"]); on {
		if code, err = b.numberMatchCode(); err != nil {
			b.fail(w, err)
			return
		}
		hidden[NumberMatchKey] = code
	}
	if len(hidden) > 0 {
		raw, _ := json.Marshal(hidden)
		form.Set("HiddenDetails", string(raw))
	}
	if p["expiration"] != "" {
		form.Set("ExpirationDate", p["expiration"])
	}
	var challenge map[string]any
	if err := b.verify(r.Context(), http.MethodPost, entity+"/Challenges", form, &challenge); err != nil {
		b.fail(w, err)
		return
	}
	if code != "" {
		// What the sign-in page would show next to "check your phone".
		challenge[NumberMatchKey] = code
	}
	writeJSON(w, http.StatusCreated, challenge)
}

func (b *Backend) newestVerifiedFactor(ctx context.Context, entity string) (string, error) {
	var factors struct {
		Factors []struct {
			Sid    string `json:"sid"`
			Status string `json:"status"`
		} `json:"factors"`
	}
	err := b.verify(ctx, http.MethodGet, entity+"/Factors", url.Values{"PageSize": {"20"}}, &factors)
	if err != nil {
		return "", err
	}
	newest := ""
	for _, f := range factors.Factors {
		if f.Status == "verified" {
			newest = f.Sid // listed oldest first
		}
	}
	return newest, nil
}

func (b *Backend) challengeStatus(w http.ResponseWriter, r *http.Request) {
	_, path, ok := b.challengeRequest(w, r)
	if !ok {
		return
	}
	var challenge map[string]any
	if err := b.verify(r.Context(), http.MethodGet, "/v2"+path, nil, &challenge); err != nil {
		b.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, challenge)
}

func (b *Backend) listFactors(w http.ResponseWriter, r *http.Request) {
	if _, entity, ok := b.entityRequest(w, r); ok {
		b.listUnder(w, r, entity+"/Factors", url.Values{"PageSize": {"20"}}, "factors")
	}
}

// entityRequest reads a request about one user: "identity" (or "entity")
// and the other required parameters. It returns the parameters and the
// entity's /v2 path, or answers the request itself and returns false.
func (b *Backend) entityRequest(w http.ResponseWriter, r *http.Request, required ...string) (p map[string]string, entity string, ok bool) {
	p, err := params(w, r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), "")
		return nil, "", false
	}
	identity, ok := identityParam(p)
	for _, name := range required {
		ok = ok && p[name] != ""
	}
	if !ok {
		writeError(w, http.StatusBadRequest, strings.Join(append([]string{"identity (or entity)"}, required...), ", ")+" required", "")
		return nil, "", false
	}
	sid, err := b.Ensure(r.Context())
	if err != nil {
		b.fail(w, err)
		return nil, "", false
	}
	return p, "/v2/Services/" + sid + "/Entities/" + url.PathEscape(identity), true
}

// challengeRequest is an entityRequest about one challenge ("sid"); path
// is the challenge's path below /v2.
func (b *Backend) challengeRequest(w http.ResponseWriter, r *http.Request) (p map[string]string, path string, ok bool) {
	p, entity, ok := b.entityRequest(w, r, "sid")
	if !ok {
		return nil, "", false
	}
	return p, strings.TrimPrefix(entity, "/v2") + "/Challenges/" + url.PathEscape(p["sid"]), true
}

// listUnder answers with the items of a Verify list, or an empty list when
// the user has no entity yet.
func (b *Backend) listUnder(w http.ResponseWriter, r *http.Request, path string, q url.Values, key string) {
	var page map[string]json.RawMessage
	if err := b.verify(r.Context(), http.MethodGet, path, q, &page); err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
			writeJSON(w, http.StatusOK, []any{})
			return
		}
		b.fail(w, err)
		return
	}
	items := page[key]
	if len(items) == 0 || string(items) == "null" {
		items = json.RawMessage("[]")
	}
	writeJSON(w, http.StatusOK, items)
}

// resend pushes a pending challenge again through the Notifications
// resource (at most three times per challenge).
func (b *Backend) resend(w http.ResponseWriter, r *http.Request) {
	p, path, ok := b.challengeRequest(w, r)
	if !ok {
		return
	}
	form := url.Values{}
	if p["ttl"] != "" {
		form.Set("Ttl", p["ttl"])
	}
	var n map[string]any
	if err := b.verify(r.Context(), http.MethodPost, "/v2"+path+"/Notifications", form, &n); err != nil {
		b.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, n)
}

// expire ends a pending challenge now, through the emulator's control
// endpoint (Verify itself has no such call). reason=not_needed marks it
// answered on another device.
func (b *Backend) expire(w http.ResponseWriter, r *http.Request) {
	p, path, ok := b.challengeRequest(w, r)
	if !ok {
		return
	}
	form := url.Values{}
	if p["reason"] != "" {
		form.Set("RespondedReason", p["reason"])
	}
	var out map[string]any
	if err := b.verify(r.Context(), http.MethodPost, "/_pushsim"+path+"/Expire", form, &out); err != nil {
		b.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// listChallenges lists an identity's challenges, newest first.
func (b *Backend) listChallenges(w http.ResponseWriter, r *http.Request) {
	p, entity, ok := b.entityRequest(w, r)
	if !ok {
		return
	}
	q := url.Values{"Order": {"desc"}, "PageSize": {"50"}}
	if p["status"] != "" {
		q.Set("Status", p["status"])
	}
	b.listUnder(w, r, entity+"/Challenges", q, "challenges")
}

func (b *Backend) hashIdentity(w http.ResponseWriter, r *http.Request) {
	p, err := params(w, r)
	if err != nil || p["identity"] == "" {
		writeError(w, http.StatusBadRequest, "missing parameter identity", "")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"identity": HashIdentity(p["identity"])})
}

// receiveWebhook keeps every delivery with whether its X-Twilio-Signature
// checks out against the URL the sink was registered under.
func (b *Backend) receiveWebhook(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "webhook body must be form-encoded", "")
		return
	}
	valid := webhook.Verify(b.cfg.AuthToken, b.WebhookURL(), r.PostForm, r.Header.Get("X-Twilio-Signature"))
	ev := Event{Received: b.cfg.Now().UTC(), Valid: valid, Type: r.PostForm.Get("type"), UUID: r.PostForm.Get("uuid"), Params: map[string]string{}}
	for k := range r.PostForm {
		ev.Params[k] = r.PostForm.Get(k)
	}
	b.mu.Lock()
	b.events = append(b.events, ev)
	if len(b.events) > b.cfg.KeepEvents {
		b.events = b.events[len(b.events)-b.cfg.KeepEvents:]
	}
	b.mu.Unlock()
	if !valid {
		// A real backend refuses forged deliveries; Verify will retry.
		writeError(w, http.StatusForbidden, "invalid X-Twilio-Signature", "")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Events returns the webhook deliveries received, oldest first.
func (b *Backend) Events() []Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Event(nil), b.events...)
}

func (b *Backend) listEvents(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"events": b.Events()})
}
