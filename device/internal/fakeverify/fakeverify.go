// Package fakeverify is a strict, in-memory Verify v2 server for the device
// packages' tests. It answers the calls the Verify Push SDK makes, in the
// shapes the SDK's own fixtures use (dates with -08:00 offsets, details.date,
// hidden_details null, meta URLs carrying PageToken), and it reports through
// the test's Errorf every deviation of a request from the SDK's wire format:
// method, path, each header, each form and query parameter in order, and
// every device JWT, challenge JWS and factor AuthPayload, which it verifies
// against the public key the phone registered.
//
// It is test support only: no production code imports it.
package fakeverify

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/pushsim/pushsim/device/sdkjose"
	"github.com/pushsim/pushsim/internal/testclock"
)

// Reporter receives protocol violations; *testing.T satisfies it.
type Reporter interface {
	Errorf(format string, args ...any)
	Helper()
}

// SignatureFields is what the server lists in Twilio-Verify-Signature-Fields.
var SignatureFields = []string{
	"sid", "account_sid", "service_sid", "entity_sid", "identity", "factor_sid",
	"date_created", "expiration_date", "details", "hidden_details", "factor_type",
}

// Options configure a Server.
type Options struct {
	// UserAgent is the exact User-Agent every request must carry.
	UserAgent string
	// AppID is the exact Config.AppId create and update must send.
	AppID string
	// Now is the server clock's starting point.
	Now time.Time
}

// Server is the fake. Its zero value is not usable; call New.
type Server struct {
	*httptest.Server
	AccountSid string
	ServiceSid string

	t    Reporter
	opts Options

	mu         sync.Mutex
	clock      *testclock.Clock
	seq        int
	tokens     map[string]string // access token -> identity; single use
	factors    map[string]*Factor
	challenges map[string]*Challenge
	faults     []*Fault
	requests   []Request
	jwts       map[string]bool
	// OmitSignatureFields drops the Twilio-Verify-Signature-Fields header.
	omitSignatureFields bool
}

// Factor is the server's record of a factor.
type Factor struct {
	Sid, Identity, FriendlyName, Status, CredentialSid string
	Platform, Token, SDKVersion, AppID                 string
	Metadata                                           map[string]string
	PublicKey                                          *ecdsa.PublicKey
	Created                                            time.Time
	EntitySid                                          string
}

// Challenge is the server's record of a challenge.
type Challenge struct {
	Sid, FactorSid, Identity, EntitySid, Status, Message string
	Fields                                               [][2]string
	Hidden                                               map[string]string
	Created, Updated, Expires                            time.Time
	Responded                                            *time.Time
}

// Request is one logged request.
type Request struct {
	Method string
	Path   string
	Query  string
	Status int
	// JWT is the device JWT the request carried, if any.
	JWT string
}

// Fault makes the next Times requests matching Method and Path (a suffix of
// the URL path) answer with Status and Body; WithDate adds a Date header from
// the server clock.
type Fault struct {
	Method   string
	Path     string
	Times    int
	Status   int
	Body     string
	WithDate bool
}

// New starts a server and stops it when the test ends.
func New(t interface {
	Reporter
	Cleanup(func())
}, opts Options) *Server {
	if opts.Now.IsZero() {
		opts.Now = time.Date(2024, 3, 20, 15, 53, 25, 0, time.UTC)
	}
	s := &Server{
		AccountSid: "AC" + strings.Repeat("a", 32),
		ServiceSid: "VA" + strings.Repeat("b", 32),
		t:          t,
		opts:       opts,
		clock:      testclock.New(opts.Now),
		tokens:     map[string]string{},
		factors:    map[string]*Factor{},
		challenges: map[string]*Challenge{},
		jwts:       map[string]bool{},
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// BaseURL is the Verify v2 root, with the trailing slash the SDK uses.
func (s *Server) BaseURL() string { return s.URL + "/v2/" }

// AccessTokenURL is the sample backend's access-token endpoint.
func (s *Server) AccessTokenURL() string { return s.URL + "/backend/access-token" }

// Now is the server clock.
func (s *Server) Now() time.Time { return s.clock.Now() }

// Advance moves the server clock.
func (s *Server) Advance(d time.Duration) { s.clock.Advance(d) }

// OmitSignatureFields makes GET challenge leave out the signature header.
func (s *Server) OmitSignatureFields(omit bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.omitSignatureFields = omit
}

// Inject queues a fault.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// Requests returns the request log.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// CountRequests counts logged requests with the method whose path contains part.
func (s *Server) CountRequests(method, part string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == method && strings.Contains(r.Path, part) {
			n++
		}
	}
	return n
}

// Factor returns a copy of the server's record of a factor.
func (s *Server) Factor(sid string) (Factor, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.factors[sid]
	if !ok {
		return Factor{}, false
	}
	return *f, true
}

// Challenge returns a copy of the server's record of a challenge.
func (s *Server) Challenge(sid string) (Challenge, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.challenges[sid]
	if !ok {
		return Challenge{}, false
	}
	s.expireLocked(c)
	return *c, true
}

// IssueAccessToken returns a single-use enrollment token for identity.
func (s *Server) IssueAccessToken(identity string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := "enroll." + s.newSidLocked("")
	s.tokens[tok] = identity
	return tok
}

// ChallengeOptions shape a new challenge.
type ChallengeOptions struct {
	Fields [][2]string
	Hidden map[string]string // nil renders hidden_details as null
	TTL    time.Duration     // default 5 minutes
}

// CreateChallenge creates a pending challenge for a factor, created at the
// current server time plus offset ticks so lists have a stable order.
func (s *Server) CreateChallenge(factorSid, message string, o ChallengeOptions) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.factors[factorSid]
	if !ok {
		s.t.Errorf("fakeverify: CreateChallenge for unknown factor %s", factorSid)
		return ""
	}
	if o.TTL == 0 {
		o.TTL = 5 * time.Minute
	}
	created := s.clock.Now().Add(time.Duration(len(s.challenges)) * time.Second)
	c := &Challenge{
		Sid: s.newSidLocked("YC"), FactorSid: factorSid, Identity: f.Identity, EntitySid: f.EntitySid,
		Status: "pending", Message: message, Fields: o.Fields, Hidden: o.Hidden,
		Created: created, Updated: created, Expires: created.Add(o.TTL),
	}
	s.challenges[c.Sid] = c
	return c.Sid
}

// SetChallengeStatus changes a challenge's status directly.
func (s *Server) SetChallengeStatus(sid, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.challenges[sid]; ok {
		c.Status = status
	}
}

func (s *Server) newSidLocked(prefix string) string {
	s.seq++
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s-%d-%d", prefix, s.seq, s.opts.Now.UnixNano())))
	return prefix + hex.EncodeToString(sum[:16])
}

// expireLocked applies lazy expiry, as the real service does on read.
func (s *Server) expireLocked(c *Challenge) {
	if c.Status == "pending" && s.clock.Now().After(c.Expires) {
		c.Status = "expired"
		c.Updated = c.Expires
	}
}

// pst renders times with a -08:00 offset, the form the SDK fixtures use and
// the one that breaks naive parsers.
var pst = time.FixedZone("PST", -8*3600)

func date(t time.Time) string { return t.In(pst).Format(time.RFC3339) }

// ---- HTTP ----

type exchange struct {
	w      http.ResponseWriter
	r      *http.Request
	status int
	jwt    string
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	x := &exchange{w: w, r: r}
	defer func() {
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Status: x.status, JWT: x.jwt})
		s.mu.Unlock()
	}()
	if r.URL.Path == "/backend/access-token" {
		s.serveAccessToken(x)
		return
	}
	path, ok := strings.CutPrefix(r.URL.EscapedPath(), "/v2/")
	if !ok {
		s.violation(x, "unexpected path %s", r.URL.Path)
		return
	}
	s.checkHeaders(x)
	if raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")); err == nil {
		x.jwt = strings.TrimPrefix(string(raw), "token:")
	}
	if f := s.takeFault(r); f != nil {
		if f.WithDate {
			w.Header().Set("Date", s.Now().UTC().Format(http.TimeFormat))
		} else {
			w.Header()["Date"] = nil // stop net/http from adding one
		}
		s.reply(x, f.Status, f.Body)
		return
	}
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		segs[i], _ = url.PathUnescape(seg)
	}
	if len(segs) < 5 || segs[0] != "Services" || segs[2] != "Entities" {
		s.violation(x, "unexpected path %s", r.URL.Path)
		return
	}
	if segs[1] != s.ServiceSid {
		s.apiError(x, 404, 20404, "The requested resource was not found")
		return
	}
	identity := segs[3]
	switch {
	case len(segs) == 5 && segs[4] == "Factors" && r.Method == http.MethodPost:
		s.createFactor(x, identity)
	case len(segs) == 6 && segs[4] == "Factors" && r.Method == http.MethodPost:
		s.updateFactor(x, identity, segs[5])
	case len(segs) == 6 && segs[4] == "Factors" && r.Method == http.MethodDelete:
		s.deleteFactor(x, identity, segs[5])
	case len(segs) == 5 && segs[4] == "Challenges" && r.Method == http.MethodGet:
		s.listChallenges(x, identity)
	case len(segs) == 6 && segs[4] == "Challenges" && r.Method == http.MethodGet:
		s.getChallenge(x, identity, segs[5])
	case len(segs) == 6 && segs[4] == "Challenges" && r.Method == http.MethodPost:
		s.updateChallenge(x, identity, segs[5])
	default:
		s.violation(x, "no such call: %s %s", r.Method, r.URL.Path)
	}
}

func (s *Server) takeFault(r *http.Request) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Method == r.Method && strings.HasSuffix(r.URL.Path, f.Path) {
			f.Times--
			if f.Times <= 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
			return f
		}
	}
	return nil
}

// violation reports a request the SDK would never send and answers 400.
func (s *Server) violation(x *exchange, format string, args ...any) {
	s.t.Helper()
	msg := fmt.Sprintf(format, args...)
	s.t.Errorf("fakeverify: %s %s: %s", x.r.Method, x.r.URL.RequestURI(), msg)
	s.apiError(x, 400, 60306, "Invalid request: "+msg)
}

func (s *Server) apiError(x *exchange, status, code int, message string) {
	body, _ := json.Marshal(map[string]any{
		"code": code, "message": message, "more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code), "status": status,
	})
	if status == 401 {
		x.w.Header().Set("Date", s.Now().UTC().Format(http.TimeFormat))
	}
	s.reply(x, status, string(body))
}

func (s *Server) reply(x *exchange, status int, body string) {
	x.status = status
	if body != "" {
		x.w.Header().Set("Content-Type", "application/json")
	}
	x.w.WriteHeader(status)
	io.WriteString(x.w, body)
}

func (s *Server) replyJSON(x *exchange, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		s.t.Errorf("fakeverify: encode response: %v", err)
	}
	s.reply(x, status, string(body))
}

func (s *Server) checkHeaders(x *exchange) {
	s.t.Helper()
	h := x.r.Header
	wantAccept := "application/json"
	if x.r.Method == http.MethodGet {
		wantAccept = "application/x-www-form-urlencoded"
	}
	for _, want := range []struct{ name, value string }{
		{"Accept", wantAccept},
		{"Content-Type", "application/x-www-form-urlencoded"},
		{"User-Agent", s.opts.UserAgent},
	} {
		if got := h.Values(want.name); len(got) != 1 || got[0] != want.value {
			s.t.Errorf("fakeverify: %s %s: header %s = %q, want exactly %q", x.r.Method, x.r.URL.Path, want.name, got, want.value)
		}
	}
	for name := range h {
		if strings.HasPrefix(strings.ToLower(name), "x-") || strings.HasPrefix(strings.ToLower(name), "twilio-") {
			s.t.Errorf("fakeverify: %s %s: custom request header %s; the SDK sends none", x.r.Method, x.r.URL.Path, name)
		}
	}
}

// basicSecret returns the password of "Basic base64(token:<secret>)".
func (s *Server) basicSecret(x *exchange) (string, bool) {
	s.t.Helper()
	auth := x.r.Header.Get("Authorization")
	enc, ok := strings.CutPrefix(auth, "Basic ")
	if !ok {
		s.violation(x, "Authorization %q is not Basic", auth)
		return "", false
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		s.violation(x, "Authorization is not standard padded base64: %v", err)
		return "", false
	}
	secret, ok := strings.CutPrefix(string(raw), "token:")
	if !ok {
		s.violation(x, "Basic auth user is not the literal \"token\"")
		return "", false
	}
	return secret, true
}

// readForm reads a form body and checks the parameter names and their order
// and that the encoding is Android's (only unreserved characters raw).
func (s *Server) readForm(x *exchange, names ...string) (map[string]string, bool) {
	s.t.Helper()
	body, err := io.ReadAll(x.r.Body)
	if err != nil {
		s.violation(x, "read body: %v", err)
		return nil, false
	}
	return s.orderedParams(x, "form", string(body), names)
}

func (s *Server) orderedParams(x *exchange, what, raw string, names []string) (map[string]string, bool) {
	s.t.Helper()
	for _, ch := range raw {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || strings.ContainsRune("_-!.~'()*%&=", ch)) {
			s.violation(x, "%s %q has raw %q; Android percent-encodes it", what, raw, ch)
			return nil, false
		}
	}
	values := map[string]string{}
	var got []string
	if raw != "" {
		for _, pair := range strings.Split(raw, "&") {
			k, v, _ := strings.Cut(pair, "=")
			name, err1 := url.PathUnescape(k)
			value, err2 := url.PathUnescape(v)
			if err1 != nil || err2 != nil {
				s.violation(x, "%s pair %q does not decode", what, pair)
				return nil, false
			}
			got = append(got, name)
			values[name] = value
		}
	}
	if !slices.Equal(got, names) {
		s.violation(x, "%s parameters %v, want exactly %v in that order", what, got, names)
		return nil, false
	}
	return values, true
}

func (s *Server) serveAccessToken(x *exchange) {
	if x.r.Method != http.MethodPost {
		s.violation(x, "access token must be POSTed")
		return
	}
	if ct := x.r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		s.violation(x, "access token Content-Type %q", ct)
		return
	}
	if err := x.r.ParseForm(); err != nil || x.r.PostForm.Get("identity") == "" {
		s.violation(x, "access token request without identity")
		return
	}
	identity := x.r.PostForm.Get("identity")
	s.replyJSON(x, 200, map[string]string{
		"token": s.IssueAccessToken(identity), "serviceSid": s.ServiceSid, "identity": identity, "factorType": "push",
	})
}

func (s *Server) createFactor(x *exchange, identity string) {
	secret, ok := s.basicSecret(x)
	if !ok {
		return
	}
	body, err := io.ReadAll(x.r.Body)
	if err != nil {
		s.violation(x, "read body: %v", err)
		return
	}
	names := []string{"FriendlyName", "FactorType", "Binding.PublicKey", "Binding.Alg", "Config.SdkVersion", "Config.AppId", "Config.NotificationPlatform"}
	probe, _ := url.ParseQuery(string(body))
	if probe.Get("Config.NotificationPlatform") == "fcm" {
		names = append(names, "Config.NotificationToken")
	}
	if probe.Has("Metadata") {
		names = append(names, "Metadata")
	}
	form, ok := s.orderedParams(x, "form", string(body), names)
	if !ok {
		return
	}
	s.mu.Lock()
	tokenIdentity, known := s.tokens[secret]
	delete(s.tokens, secret)
	s.mu.Unlock()
	if !known || tokenIdentity != identity {
		s.apiError(x, 401, 20003, "Authenticate")
		return
	}
	switch {
	case form["FactorType"] != "push" || form["Binding.Alg"] != "ES256":
		s.violation(x, "FactorType %q Binding.Alg %q", form["FactorType"], form["Binding.Alg"])
		return
	case form["Config.SdkVersion"] != "0.9.0" || form["Config.AppId"] != s.opts.AppID:
		s.violation(x, "Config.SdkVersion %q Config.AppId %q", form["Config.SdkVersion"], form["Config.AppId"])
		return
	case form["Config.NotificationPlatform"] != "fcm" && form["Config.NotificationPlatform"] != "none":
		s.violation(x, "Config.NotificationPlatform %q", form["Config.NotificationPlatform"])
		return
	}
	pub, err := sdkjose.DecodePublicKey(form["Binding.PublicKey"])
	if err != nil {
		s.violation(x, "Binding.PublicKey: %v", err)
		return
	}
	var meta map[string]string
	if m, ok := form["Metadata"]; ok {
		if err := json.Unmarshal([]byte(m), &meta); err != nil {
			s.violation(x, "Metadata %q is not a JSON object of strings", m)
			return
		}
	}
	s.mu.Lock()
	f := &Factor{
		Sid: s.newSidLocked("YF"), Identity: identity, FriendlyName: form["FriendlyName"], Status: "unverified",
		CredentialSid: s.newSidLocked("CR"), Platform: form["Config.NotificationPlatform"], Token: form["Config.NotificationToken"],
		SDKVersion: form["Config.SdkVersion"], AppID: form["Config.AppId"], Metadata: meta, PublicKey: pub,
		Created: s.clock.Now(), EntitySid: entitySid(identity),
	}
	s.factors[f.Sid] = f
	out := s.factorJSONLocked(f)
	s.mu.Unlock()
	out["binding"] = map[string]string{"alg": "ES256", "public_key": form["Binding.PublicKey"]}
	out["options"] = nil
	s.replyJSON(x, 201, out)
}

func entitySid(identity string) string {
	sum := sha256.Sum256([]byte(identity))
	return "YE" + hex.EncodeToString(sum[:16])
}

func (s *Server) factorJSONLocked(f *Factor) map[string]any {
	config := map[string]any{
		"sdk_version": f.SDKVersion, "app_id": f.AppID, "notification_platform": f.Platform, "credential_sid": f.CredentialSid,
	}
	if f.Token != "" {
		config["notification_token"] = f.Token
	}
	var meta any
	if f.Metadata != nil {
		meta = f.Metadata
	}
	return map[string]any{
		"sid": f.Sid, "account_sid": s.AccountSid, "service_sid": s.ServiceSid, "entity_sid": f.EntitySid,
		"identity": f.Identity, "date_created": date(f.Created), "date_updated": date(s.clock.Now()),
		"friendly_name": f.FriendlyName, "status": f.Status, "factor_type": "push", "config": config,
		"metadata": meta, "url": s.BaseURL() + "Services/" + s.ServiceSid + "/Entities/" + f.Identity + "/Factors/" + f.Sid,
	}
}

// authenticate verifies the device JWT in Authorization against factor, or
// against the factor its kid names when factor is nil. A token whose time
// window does not contain the server's clock gets a 401 with Date, which is
// what makes the SDK correct its clock.
func (s *Server) authenticate(x *exchange, identity string, factor *Factor) (*Factor, bool) {
	s.t.Helper()
	token, ok := s.basicSecret(x)
	if !ok {
		return nil, false
	}
	x.jwt = token
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		s.violation(x, "device JWT does not parse under an ES256-only allow-list: %v", err)
		return nil, false
	}
	header := jws.Signatures[0].Protected
	s.mu.Lock()
	if factor == nil {
		for _, f := range s.factors {
			if f.CredentialSid == header.KeyID {
				factor = f
			}
		}
	}
	reused := s.jwts[token]
	s.jwts[token] = true
	now := s.clock.Now()
	s.mu.Unlock()
	if reused {
		s.violation(x, "device JWT reused; the SDK makes a fresh one per request")
		return nil, false
	}
	if factor == nil || factor.Identity != identity {
		s.apiError(x, 401, 20003, "Authenticate")
		return nil, false
	}
	payload, err := jws.Verify(factor.PublicKey)
	if err != nil {
		s.violation(x, "device JWT signature does not verify with the registered key: %v", err)
		return nil, false
	}
	rawHeader, _ := base64.RawURLEncoding.DecodeString(strings.SplitN(token, ".", 2)[0])
	if keys := objectKeys(rawHeader); !slices.Equal(keys, []string{"cty", "kid", "typ", "alg"}) {
		s.violation(x, "device JWT header keys %v, want [cty kid typ alg] in that order", keys)
		return nil, false
	}
	var hdr struct{ Cty, Kid, Typ, Alg string }
	json.Unmarshal(rawHeader, &hdr)
	if hdr.Cty != "twilio-pba;v=1" || hdr.Typ != "JWT" || hdr.Alg != "ES256" || hdr.Kid != factor.CredentialSid {
		s.violation(x, "device JWT header %s (kid must be %s)", rawHeader, factor.CredentialSid)
		return nil, false
	}
	if keys := objectKeys(payload); !slices.Equal(keys, []string{"sub", "exp", "nbf"}) {
		s.violation(x, "device JWT claims %v, want exactly sub, exp, nbf", keys)
		return nil, false
	}
	var claims struct {
		Sub      string
		Nbf, Exp int64
	}
	json.Unmarshal(payload, &claims)
	if claims.Sub != s.AccountSid || claims.Exp-claims.Nbf != 600 {
		s.violation(x, "device JWT claims %s", payload)
		return nil, false
	}
	const leeway = 60
	if claims.Nbf > now.Unix()+leeway || claims.Exp < now.Unix()-leeway {
		s.apiError(x, 401, 20003, "Authenticate")
		return nil, false
	}
	return factor, true
}

func objectKeys(raw []byte) []string {
	var keys []string
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return keys
		}
		keys = append(keys, fmt.Sprint(tok))
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return keys
		}
	}
	return keys
}

func (s *Server) lookupFactor(x *exchange, identity, sid string) (*Factor, bool) {
	s.mu.Lock()
	f, ok := s.factors[sid]
	s.mu.Unlock()
	if !ok || f.Identity != identity {
		s.apiError(x, 404, 20404, "The requested resource was not found")
		return nil, false
	}
	return f, true
}

func (s *Server) updateFactor(x *exchange, identity, sid string) {
	f, ok := s.lookupFactor(x, identity, sid)
	if !ok {
		return
	}
	if _, ok := s.authenticate(x, identity, f); !ok {
		return
	}
	body, err := io.ReadAll(x.r.Body)
	if err != nil {
		s.violation(x, "read body: %v", err)
		return
	}
	probe, _ := url.ParseQuery(string(body))
	if probe.Has("AuthPayload") {
		form, ok := s.orderedParams(x, "form", string(body), []string{"AuthPayload"})
		if !ok {
			return
		}
		der, err := base64.StdEncoding.DecodeString(form["AuthPayload"])
		digest := sha256.Sum256([]byte(sid))
		if err != nil || !ecdsa.VerifyASN1(f.PublicKey, digest[:], der) {
			s.violation(x, "AuthPayload is not a padded-base64 DER signature of the factor SID")
			return
		}
		s.mu.Lock()
		f.Status = "verified"
		out := s.factorJSONLocked(f)
		s.mu.Unlock()
		s.replyJSON(x, 200, out)
		return
	}
	names := []string{"FriendlyName", "Config.SdkVersion", "Config.AppId", "Config.NotificationPlatform"}
	if probe.Get("Config.NotificationPlatform") == "fcm" {
		names = append(names, "Config.NotificationToken")
	}
	form, ok := s.orderedParams(x, "form", string(body), names)
	if !ok {
		return
	}
	if form["FriendlyName"] != f.FriendlyName || form["Config.AppId"] != s.opts.AppID || form["Config.SdkVersion"] != "0.9.0" {
		s.violation(x, "update re-sent FriendlyName %q AppId %q SdkVersion %q", form["FriendlyName"], form["Config.AppId"], form["Config.SdkVersion"])
		return
	}
	s.mu.Lock()
	f.Platform, f.Token = form["Config.NotificationPlatform"], form["Config.NotificationToken"]
	out := s.factorJSONLocked(f)
	s.mu.Unlock()
	s.replyJSON(x, 200, out)
}

func (s *Server) deleteFactor(x *exchange, identity, sid string) {
	f, ok := s.lookupFactor(x, identity, sid)
	if !ok {
		return
	}
	if _, ok := s.authenticate(x, identity, f); !ok {
		return
	}
	if x.r.ContentLength > 0 {
		s.violation(x, "DELETE carries a body")
		return
	}
	s.mu.Lock()
	delete(s.factors, sid)
	s.mu.Unlock()
	s.reply(x, 204, "")
}

func (s *Server) challengeJSONLocked(c *Challenge) map[string]any {
	fields := make([]map[string]string, 0, len(c.Fields))
	for _, f := range c.Fields {
		fields = append(fields, map[string]string{"label": f[0], "value": f[1]})
	}
	var hidden, responded any
	if c.Hidden != nil {
		hidden = c.Hidden
	}
	if c.Responded != nil {
		responded = date(*c.Responded)
	}
	u := s.BaseURL() + "Services/" + s.ServiceSid + "/Entities/" + c.Identity + "/Challenges/" + c.Sid
	return map[string]any{
		"sid": c.Sid, "account_sid": s.AccountSid, "service_sid": s.ServiceSid, "entity_sid": c.EntitySid,
		"identity": c.Identity, "factor_sid": c.FactorSid, "date_created": date(c.Created), "date_updated": date(c.Updated),
		"date_responded": responded, "expiration_date": date(c.Expires), "status": c.Status, "responded_reason": "none",
		"details":        map[string]any{"message": c.Message, "fields": fields, "date": date(c.Created)},
		"hidden_details": hidden, "metadata": nil, "factor_type": "push", "url": u,
		"links": map[string]string{"notifications": u + "/Notifications"},
	}
}

func (s *Server) findChallenge(x *exchange, identity, sid string) (*Challenge, bool) {
	s.mu.Lock()
	c, ok := s.challenges[sid]
	if ok {
		s.expireLocked(c)
	}
	s.mu.Unlock()
	if !ok || c.Identity != identity {
		s.apiError(x, 404, 20404, "The requested resource was not found")
		return nil, false
	}
	return c, true
}

func (s *Server) getChallenge(x *exchange, identity, sid string) {
	if x.r.URL.RawQuery != "" {
		s.violation(x, "GET challenge with a query")
		return
	}
	if _, ok := s.authenticate(x, identity, nil); !ok {
		return
	}
	c, ok := s.findChallenge(x, identity, sid)
	if !ok {
		return
	}
	s.mu.Lock()
	out, omit := s.challengeJSONLocked(c), s.omitSignatureFields
	s.mu.Unlock()
	if !omit {
		x.w.Header().Set("Twilio-Verify-Signature-Fields", strings.Join(SignatureFields, ","))
	}
	s.replyJSON(x, 200, out)
}

func (s *Server) updateChallenge(x *exchange, identity, sid string) {
	signer, ok := s.authenticate(x, identity, nil)
	if !ok {
		return
	}
	c, ok := s.findChallenge(x, identity, sid)
	if !ok {
		return
	}
	form, ok := s.readForm(x, "AuthPayload")
	if !ok {
		return
	}
	if signer.Sid != c.FactorSid {
		s.apiError(x, 403, 60324, "Challenge verification failed")
		return
	}
	jws, err := jose.ParseSignedCompact(form["AuthPayload"], []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		s.violation(x, "AuthPayload does not parse under an ES256-only allow-list: %v", err)
		return
	}
	payload, err := jws.Verify(signer.PublicKey)
	if err != nil {
		s.violation(x, "AuthPayload signature does not verify: %v", err)
		return
	}
	rawHeader, _ := base64.RawURLEncoding.DecodeString(strings.SplitN(form["AuthPayload"], ".", 2)[0])
	if string(rawHeader) != `{"typ":"JWT","alg":"ES256"}` {
		s.violation(x, "AuthPayload header %s, want only typ and alg", rawHeader)
		return
	}
	wantKeys := append(slices.Clone(SignatureFields), "status")
	if keys := objectKeys(payload); !slices.Equal(keys, wantKeys) {
		s.violation(x, "AuthPayload keys %v, want %v", keys, wantKeys)
		return
	}
	var signed map[string]any
	json.Unmarshal(payload, &signed)
	status, _ := signed["status"].(string)
	switch code, msg := s.respond(c, signed, status); code {
	case 0:
	case 60323:
		s.apiError(x, 403, code, "Challenge expired")
		return
	case 60322:
		s.apiError(x, 403, code, "Challenge already responded")
		return
	default:
		s.violation(x, "%s", msg)
		return
	}
	s.mu.Lock()
	out := s.challengeJSONLocked(c)
	s.mu.Unlock()
	s.replyJSON(x, 200, out)
}

// respond checks the signed values against the challenge, compared as
// decoded JSON and never as bytes, and applies the answer. A refusal returns
// a Twilio code for the states a real server refuses (60323 expired, 60322
// already responded) and -1 with a message for a malformed answer.
func (s *Server) respond(c *Challenge, signed map[string]any, status string) (int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	canon, _ := json.Marshal(s.challengeJSONLocked(c))
	var stored map[string]any
	json.Unmarshal(canon, &stored)
	for _, name := range SignatureFields {
		if !reflect.DeepEqual(signed[name], stored[name]) {
			return -1, fmt.Sprintf("signed %s = %v, challenge has %v", name, signed[name], stored[name])
		}
	}
	switch {
	case c.Status == "expired":
		return 60323, ""
	case c.Status != "pending":
		return 60322, ""
	case status != "approved" && status != "denied":
		return -1, fmt.Sprintf("signed status %q", status)
	}
	now := s.clock.Now()
	c.Status, c.Updated, c.Responded = status, now, &now
	return 0, ""
}

func (s *Server) listChallenges(x *exchange, identity string) {
	q := x.r.URL.RawQuery
	probe, _ := url.ParseQuery(q)
	names := []string{"PageSize", "FactorSid", "Order"}
	if probe.Has("Status") {
		names = append(names, "Status")
	}
	if probe.Has("PageToken") {
		names = append(names, "PageToken")
	}
	query, ok := s.orderedParams(x, "query", q, names)
	if !ok {
		return
	}
	f, ok := s.lookupFactor(x, identity, query["FactorSid"])
	if !ok {
		return
	}
	if _, ok := s.authenticate(x, identity, f); !ok {
		return
	}
	size, err := strconv.Atoi(query["PageSize"])
	if err != nil || size < 1 || size > 1000 {
		s.violation(x, "PageSize %q", query["PageSize"])
		return
	}
	if o := query["Order"]; o != "asc" && o != "desc" {
		s.violation(x, "Order %q", o)
		return
	}
	start := 0
	if tok := query["PageToken"]; tok != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(tok, "PT"))
		if err != nil || !strings.HasPrefix(tok, "PT") {
			s.violation(x, "PageToken %q was not issued by this server", tok)
			return
		}
		start = n
	}
	s.mu.Lock()
	var all []*Challenge
	for _, c := range s.challenges {
		s.expireLocked(c)
		if c.FactorSid == f.Sid && (query["Status"] == "" || c.Status == query["Status"]) {
			all = append(all, c)
		}
	}
	slices.SortFunc(all, func(a, b *Challenge) int {
		if query["Order"] == "desc" {
			return b.Created.Compare(a.Created)
		}
		return a.Created.Compare(b.Created)
	})
	end := min(start+size, len(all))
	start = min(start, end)
	items := make([]map[string]any, 0, end-start)
	for _, c := range all[start:end] {
		items = append(items, s.challengeJSONLocked(c))
	}
	s.mu.Unlock()
	pageURL := func(tokenIndex int, withToken bool) string {
		v := s.BaseURL() + "Services/" + s.ServiceSid + "/Entities/" + identity + "/Challenges?FactorSid=" + f.Sid
		if st := query["Status"]; st != "" {
			v += "&Status=" + st
		}
		v += "&Order=" + query["Order"] + "&PageSize=" + strconv.Itoa(size) + "&Page=" + strconv.Itoa(tokenIndex/size)
		if withToken {
			v += "&PageToken=PT" + strconv.Itoa(tokenIndex)
		}
		return v
	}
	var next, prev any
	if end < len(all) {
		next = pageURL(end, true)
	}
	if start > 0 {
		prev = pageURL(max(start-size, 0), true)
	}
	s.replyJSON(x, 200, map[string]any{
		"challenges": items,
		"meta": map[string]any{
			"page": start / size, "page_size": size, "first_page_url": pageURL(0, false),
			"previous_page_url": prev, "url": pageURL(start, start > 0), "next_page_url": next, "key": "challenges",
		},
	})
}
