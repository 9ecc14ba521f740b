// Package verifyclient is the phone's side of the Verify v2 wire: one method
// per call the Verify Push Android SDK makes, sending the same paths, headers,
// parameter order, encodings and device JWTs, and reading responses as
// tolerantly (and as strictly) as the SDK does. It owns the clock-correction
// retry, the update-challenge sequence (GET, sign, POST, GET) and the SDK's
// error kinds; it does not store anything itself.
package verifyclient

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/pushsim/pushsim/device/sdkjose"
)

// DefaultBaseURL is where a local pushsim server answers Verify v2 calls.
const DefaultBaseURL = "http://127.0.0.1:4010/v2/"

// The Android SDK release whose behaviour this client reproduces.
const (
	SDKVersion     = "0.9.0"
	SDKVersionCode = "2013"
)

// The Android release the simulated phone claims to run.
const androidRelease = "Android 14 (34)"

// maxBody bounds how much of a response is read; Verify bodies are small.
const maxBody = 4 << 20

// App describes the app that embeds the SDK, as the User-Agent and
// Config.AppId report it.
type App struct {
	Label       string // application label, e.g. "pushsim"
	VersionName string // e.g. "0.1.0"
	VersionCode string // integer build number, e.g. "1"
	PackageName string // sent as Config.AppId
	Model       string // Build.MODEL of the phone
}

// DefaultApp describes pushsim's simulated phone app at the given version.
func DefaultApp(version string) App {
	return App{
		Label:       "pushsim",
		VersionName: version,
		VersionCode: "1",
		PackageName: "dev.pushsim.phone",
		Model:       "pushsim virtual phone",
	}
}

// UserAgent is the Android SDK's User-Agent for this app:
// "<label>; Android; <version>; <code>; Android 14 (34); <model>; VerifySDK; 0.9.0; 2013".
func (a App) UserAgent() string {
	return strings.Join([]string{
		a.Label, "Android", a.VersionName, a.VersionCode, androidRelease, a.Model,
		"VerifySDK", SDKVersion, SDKVersionCode,
	}, "; ")
}

// TimeCorrectionStore persists the server-minus-device clock difference, in
// seconds, across restarts of the app.
type TimeCorrectionStore interface {
	TimeCorrection() (int64, error)
	SetTimeCorrection(seconds int64) error
}

// Exchange is one HTTP attempt, reported to Config.Observer.
type Exchange struct {
	Method         string
	URL            string
	RequestHeader  http.Header
	RequestBody    []byte
	StatusCode     int // 0 when no response arrived
	ResponseHeader http.Header
	ResponseBody   []byte
	Duration       time.Duration
	Err            error // transport failure, if any
}

// Config configures a Client.
type Config struct {
	// BaseURL is the Verify v2 root with a trailing slash; default
	// DefaultBaseURL. A missing trailing slash is added.
	BaseURL string
	// App names the embedding app in User-Agent and Config.AppId; when it
	// is left empty, DefaultApp("unknown"), as iOS reports missing fields.
	App App
	// HTTPClient sends the requests; default a client with a 30 s timeout.
	HTTPClient *http.Client
	// Now is the device clock before correction; default time.Now.
	Now func() time.Time
	// TimeCorrection persists the correction learned from a 401's Date
	// header; nil keeps it in memory only.
	TimeCorrection TimeCorrectionStore
	// Observer, if set, sees every attempt (for an HTTP log). It is called
	// synchronously and must not block for long.
	Observer func(Exchange)
}

// Client makes the SDK's calls. It is safe for concurrent use.
type Client struct {
	base     *url.URL
	app      App
	http     *http.Client
	now      func() time.Time
	store    TimeCorrectionStore
	observer func(Exchange)

	mu         sync.Mutex
	correction int64 // seconds; mirrors store
}

// Credentials identify a factor and hold its key: everything the device JWT
// and the request paths need.
type Credentials struct {
	FactorSid     string
	AccountSid    string // the JWT's sub
	ServiceSid    string
	Identity      string
	CredentialSid string // the JWT's kid
	Key           *ecdsa.PrivateKey
}

// New returns a client. Configuration problems are initialization errors.
func New(cfg Config) (*Client, error) {
	raw := cfg.BaseURL
	if raw == "" {
		raw = DefaultBaseURL
	}
	base, err := url.Parse(raw)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, Wrap(CodeInitialization, fmt.Errorf("base URL %q is not an absolute http(s) URL", raw))
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	base.RawQuery, base.Fragment = "", ""
	if cfg.App == (App{}) {
		cfg.App = DefaultApp("unknown")
	}
	c := &Client{
		base:     base,
		app:      cfg.App,
		http:     cfg.HTTPClient,
		now:      cfg.Now,
		store:    cfg.TimeCorrection,
		observer: cfg.Observer,
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.store != nil {
		if c.correction, err = c.store.TimeCorrection(); err != nil {
			return nil, Wrap(CodeInitialization, err)
		}
	}
	return c, nil
}

// BaseURL is the Verify v2 root the client talks to.
func (c *Client) BaseURL() string { return c.base.String() }

// TimeCorrection is the current server-minus-device difference in seconds.
func (c *Client) TimeCorrection() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.correction
}

// ReloadTimeCorrection reads the stored correction again, after its owner
// changed it behind the client's back (a new clock offset clears it).
func (c *Client) ReloadTimeCorrection() error {
	if c.store == nil {
		return nil
	}
	correction, err := c.store.TimeCorrection()
	if err != nil {
		return Wrap(CodeStorage, err)
	}
	c.mu.Lock()
	c.correction = correction
	c.mu.Unlock()
	return nil
}

// Now is the SDK's notion of the current time: the device clock plus the
// time correction. Device JWTs are stamped with it.
func (c *Client) Now() time.Time {
	return c.now().Add(time.Duration(c.TimeCorrection()) * time.Second)
}

// syncTime applies a server Date header: correction = server - device.
func (c *Client) syncTime(date time.Time) error {
	correction := date.Unix() - c.now().Unix()
	c.mu.Lock()
	c.correction = correction
	c.mu.Unlock()
	if c.store != nil {
		if err := c.store.SetTimeCorrection(correction); err != nil {
			return Wrap(CodeStorage, err)
		}
	}
	return nil
}

// param is one form or query parameter; order matters on the wire.
type param struct{ name, value string }

// encodeParams joins params the way Android's Uri.Builder does: everything
// but letters, digits and _-!.~'()* is percent-encoded, a space as %20.
func encodeParams(params []param) string {
	var b strings.Builder
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(androidEscape(p.name))
		b.WriteByte('=')
		b.WriteString(androidEscape(p.value))
	}
	return b.String()
}

func androidEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := range len(s) {
		ch := s[i]
		if 'a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' || strings.IndexByte("_-!.~'()*", ch) >= 0 {
			b.WriteByte(ch)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[ch>>4])
		b.WriteByte(hex[ch&15])
	}
	return b.String()
}

type request struct {
	method string
	path   []string // segments after the base URL, escaped when joined
	query  []param
	form   []param
	// accessToken authenticates create-factor; otherwise cred signs a device
	// JWT for every attempt.
	accessToken string
	cred        *Credentials
}

type response struct {
	status int
	header http.Header
	body   []byte
	// retried reports that a 401 with Date made the client try again.
	retried bool
}

func (c *Client) url(req *request) string {
	segs := make([]string, len(req.path))
	for i, s := range req.path {
		segs[i] = url.PathEscape(s)
	}
	u := c.base.String() + strings.Join(segs, "/")
	if len(req.query) > 0 {
		u += "?" + encodeParams(req.query)
	}
	return u
}

// call sends req. Device-JWT requests that get a 401 carrying a Date header
// correct the clock and are retried once with a fresh JWT; create-factor is
// never retried. A status of 300 or more is returned as a network error
// wrapping *HTTPError, together with the response.
func (c *Client) call(ctx context.Context, req *request) (*response, error) {
	attempts := 1
	if req.cred != nil {
		attempts = 2
	}
	for attempt := 1; ; attempt++ {
		secret := req.accessToken
		if req.cred != nil {
			var err error
			if secret, err = c.deviceJWT(req.cred); err != nil {
				return nil, err
			}
		}
		resp, err := c.send(ctx, req, secret)
		if err != nil {
			return nil, Wrap(CodeNetwork, err)
		}
		resp.retried = attempt > 1
		if resp.status < 300 {
			return resp, nil
		}
		if resp.status == http.StatusUnauthorized && attempt < attempts {
			if date, err := http.ParseTime(resp.header.Get("Date")); err == nil {
				if err := c.syncTime(date); err != nil {
					return nil, err
				}
				continue
			}
		}
		return resp, Wrap(CodeNetwork, newHTTPError(resp.status, resp.header, resp.body))
	}
}

func (c *Client) deviceJWT(cred *Credentials) (string, error) {
	if cred.Key == nil {
		return "", Wrap(CodeToken, ErrKeyPairNotSet)
	}
	token, err := sdkjose.DeviceJWT(cred.Key, cred.CredentialSid, cred.AccountSid, c.Now())
	if err != nil {
		return "", Wrap(CodeToken, err)
	}
	return token, nil
}

// send performs one attempt and reports it to the observer.
func (c *Client) send(ctx context.Context, req *request, secret string) (*response, error) {
	target := c.url(req)
	var body []byte
	if req.form != nil {
		body = []byte(encodeParams(req.form))
	}
	httpReq, err := http.NewRequestWithContext(ctx, req.method, target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if body == nil {
		httpReq.Body, httpReq.GetBody, httpReq.ContentLength = nil, nil, 0
	}
	// The SDK asks GETs for form-encoded responses; it is a quirk of the
	// SDK, reproduced because servers may see it.
	accept := "application/json"
	if req.method == http.MethodGet {
		accept = "application/x-www-form-urlencoded"
	}
	httpReq.Header.Set("Accept", accept)
	httpReq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	httpReq.Header.Set("User-Agent", c.app.UserAgent())
	httpReq.SetBasicAuth("token", secret)

	ex := Exchange{Method: req.method, URL: target, RequestHeader: httpReq.Header.Clone(), RequestBody: body}
	start := time.Now() // a real stopwatch: durations are measurements, not device time
	resp, err := c.http.Do(httpReq)
	var out *response
	if err == nil {
		var data []byte
		data, err = io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
		resp.Body.Close()
		if err == nil && len(data) > maxBody {
			err = fmt.Errorf("response body larger than %d bytes", maxBody)
		}
		ex.StatusCode, ex.ResponseHeader, ex.ResponseBody = resp.StatusCode, resp.Header, data
		if err == nil {
			out = &response{status: resp.StatusCode, header: resp.Header, body: data}
		}
	}
	ex.Duration, ex.Err = time.Since(start), err
	if c.observer != nil {
		c.observer(ex)
	}
	return out, err
}
