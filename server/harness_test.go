package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pushsim/pushsim/device/pushclient"
	"github.com/pushsim/pushsim/device/sdkjose"
	"github.com/pushsim/pushsim/server"
	"github.com/pushsim/pushsim/server/servertest"
	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	verifyapi "github.com/twilio/twilio-go/rest/verify/v2"
)

// testClock is the clock the tests move by hand.
type testClock = servertest.Clock

func newClock() *testClock { return servertest.NewClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)) }

// harness is a server on a loopback test listener with a fixed clock. Its
// background work waits for run, so tests can play a server that died
// before delivering.
type harness struct {
	t     testing.TB
	clock *testClock
	srv   *servertest.Server
	sid   string
	token string
}

func newHarness(t testing.TB, dir string, clock *testClock) *harness {
	return newHarnessWith(t, server.Config{DataDir: dir}, clock)
}

// newHarnessWith starts a server from cfg whose clock is clock.
func newHarnessWith(t testing.TB, cfg server.Config, clock *testClock) *harness {
	t.Helper()
	srv := servertest.Start(t, servertest.Options{Config: cfg, Clock: clock, Paused: true})
	return &harness{t: t, clock: clock, srv: srv, sid: srv.AccountSid, token: srv.Auth}
}

// run starts the server's background work (delivery, sweeps).
func (h *harness) run() { h.srv.Run() }

func (h *harness) close() { h.srv.Close() }

// host is the server's host:port.
func (h *harness) host() string { return strings.TrimPrefix(h.srv.URL, "http://") }

// rewrite sends every request meant for verify.twilio.com to the test server.
type rewrite struct {
	host string
	seen func(*http.Request)
}

func (rw rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = "http", rw.host, rw.host
	if rw.seen != nil {
		rw.seen(r)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// twilio returns the official helper library pointed at the server.
func (h *harness) twilio(seen func(*http.Request)) *verifyapi.ApiService {
	c := &client.Client{
		Credentials: client.NewCredentials(h.sid, h.token),
		HTTPClient:  &http.Client{Transport: rewrite{host: h.host(), seen: seen}},
	}
	c.SetAccountSid(h.sid)
	return twilio.NewRestClientWithParams(twilio.ClientParams{Client: c}).VerifyV2
}

// call makes a raw request and returns status, headers and body.
func (h *harness) call(method, path string, form url.Values, user, pass string) (int, http.Header, []byte) {
	h.t.Helper()
	var body io.Reader
	target := h.srv.URL + path
	if method == http.MethodPost {
		body = strings.NewReader(form.Encode())
	} else if form != nil {
		target += "?" + form.Encode()
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// account calls as the account and decodes a successful JSON body into out.
func (h *harness) account(method, path string, form url.Values, wantStatus int, out any) []byte {
	h.t.Helper()
	status, _, body := h.call(method, path, form, h.sid, h.token)
	if status != wantStatus {
		h.t.Fatalf("%s %s: status %d, want %d: %s", method, path, status, wantStatus, body)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			h.t.Fatalf("%s %s: %v: %s", method, path, err, body)
		}
	}
	return body
}

// twilioError is the error body every failure carries.
type twilioError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

func expectError(t *testing.T, status int, body []byte, wantStatus, wantCode int) {
	t.Helper()
	var e twilioError
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body is not JSON: %s", body)
	}
	if status != wantStatus || e.Code != wantCode || e.Status != wantStatus || e.Message == "" ||
		e.MoreInfo != "https://www.twilio.com/docs/errors/"+strconv.Itoa(wantCode) {
		t.Fatalf("got %d %s, want status %d code %d", status, body, wantStatus, wantCode)
	}
}

// phone plays the Android SDK on the wire with sdkjose's signer.
type phone struct {
	h             *harness
	key           *ecdsa.PrivateKey
	serviceSid    string
	identity      string
	factorSid     string
	credentialSid string
	skew          time.Duration
}

func newPhone(h *harness, serviceSid, identity string) *phone {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		h.t.Fatal(err)
	}
	return &phone{h: h, key: key, serviceSid: serviceSid, identity: identity}
}

func (p *phone) entityPath() string {
	return "/v2/Services/" + p.serviceSid + "/Entities/" + p.identity
}

func (p *phone) jwt() string {
	tok, err := sdkjose.DeviceJWT(p.key, p.credentialSid, p.h.sid, p.h.clock.Now().Add(p.skew))
	if err != nil {
		p.h.t.Fatal(err)
	}
	return tok
}

// device calls with a fresh device JWT.
func (p *phone) device(method, path string, form url.Values) (int, http.Header, []byte) {
	return p.h.call(method, path, form, "token", p.jwt())
}

func (p *phone) enrollForm(platform string) url.Values {
	pub, err := sdkjose.EncodePublicKey(&p.key.PublicKey)
	if err != nil {
		p.h.t.Fatal(err)
	}
	form := url.Values{
		"FriendlyName":                {"Pixel 7"},
		"FactorType":                  {"push"},
		"Binding.PublicKey":           {pub},
		"Binding.Alg":                 {"ES256"},
		"Config.SdkVersion":           {"0.9.0"},
		"Config.AppId":                {"com.twilio.verify.sample"},
		"Config.NotificationPlatform": {platform},
	}
	if platform != "none" {
		form.Set("Config.NotificationToken", pushclient.RegistrationToken(p.pushSecret()))
	}
	return form
}

// enroll creates the factor with an access token; it returns the response.
func (p *phone) enroll(accessToken string) (int, []byte) {
	status, _, body := p.h.call(http.MethodPost, p.entityPath()+"/Factors", p.enrollForm("fcm"), "token", accessToken)
	if status == http.StatusCreated {
		var f struct {
			Sid    string `json:"sid"`
			Config struct {
				CredentialSid string `json:"credential_sid"`
			} `json:"config"`
		}
		if err := json.Unmarshal(body, &f); err != nil {
			p.h.t.Fatal(err)
		}
		p.factorSid, p.credentialSid = f.Sid, f.Config.CredentialSid
	}
	return status, body
}

func (p *phone) verifyFactor() (int, []byte) {
	payload, err := sdkjose.FactorAuthPayload(p.key, p.factorSid)
	if err != nil {
		p.h.t.Fatal(err)
	}
	status, _, body := p.device(http.MethodPost, p.entityPath()+"/Factors/"+p.factorSid, url.Values{"AuthPayload": {payload}})
	return status, body
}

// answer does what the SDK's updateChallenge does: GET, sign the listed
// fields plus status, POST. mutate may alter the GET body before signing.
func (p *phone) answer(challengeSid, status string, mutate func(map[string]any)) (int, []byte) {
	p.h.t.Helper()
	code, hdr, body := p.device(http.MethodGet, p.entityPath()+"/Challenges/"+challengeSid, nil)
	if code != http.StatusOK {
		p.h.t.Fatalf("get challenge: %d %s", code, body)
	}
	fields := strings.Split(hdr.Get("Twilio-Verify-Signature-Fields"), ",")
	if mutate != nil {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			p.h.t.Fatal(err)
		}
		mutate(m)
		body, _ = json.Marshal(m)
	}
	payload, err := sdkjose.ChallengeAuthPayload(p.key, body, fields, status)
	if err != nil {
		p.h.t.Fatal(err)
	}
	code, _, resp := p.device(http.MethodPost, p.entityPath()+"/Challenges/"+challengeSid, url.Values{"AuthPayload": {payload}})
	return code, resp
}

// setup creates a service and an enrolled, verified phone for identity.
func setup(h *harness, identity string) (serviceSid string, p *phone) {
	h.t.Helper()
	var svc struct{ Sid string }
	h.account(http.MethodPost, "/v2/Services", url.Values{"FriendlyName": {"Test service"}}, http.StatusCreated, &svc)
	p = newPhone(h, svc.Sid, identity)
	if status, body := p.enroll(h.accessToken(svc.Sid, identity)); status != http.StatusCreated {
		h.t.Fatalf("enroll: %d %s", status, body)
	}
	if status, body := p.verifyFactor(); status != http.StatusOK {
		h.t.Fatalf("verify: %d %s", status, body)
	}
	return svc.Sid, p
}

func (h *harness) accessToken(serviceSid, identity string) string {
	h.t.Helper()
	var at struct{ Token string }
	h.account(http.MethodPost, "/v2/Services/"+serviceSid+"/AccessTokens",
		url.Values{"Identity": {identity}, "FactorType": {"push"}}, http.StatusCreated, &at)
	return at.Token
}

// challenge creates a challenge as the account and returns its sid.
func (h *harness) challenge(p *phone, extra url.Values) string {
	h.t.Helper()
	form := url.Values{"FactorSid": {p.factorSid}, "Details.Message": {"Sign in?"}}
	for k, v := range extra {
		form[k] = v
	}
	var c struct{ Sid string }
	h.account(http.MethodPost, p.entityPath()+"/Challenges", form, http.StatusCreated, &c)
	return c.Sid
}
