package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxResponseBody caps how much of a receiver's answer is read; the body is
// discarded, and a hostile receiver must not be able to make us read forever.
const maxResponseBody = 64 << 10

// DefaultUserAgent names the sender so receivers can tell it from Twilio.
const DefaultUserAgent = "pushsim-webhook/1"

// ClientConfig tunes a Client. Zero values take the defaults noted.
type ClientConfig struct {
	Policy   Policy
	Resolver Resolver // default net.DefaultResolver

	Timeout        time.Duration // whole attempt; default 10s
	ConnectTimeout time.Duration // TCP connect; default 5s
	UserAgent      string        // default DefaultUserAgent
	Now            func() time.Time
}

// Request is one signed POST.
type Request struct {
	URL       string // exactly as configured; it is what gets signed
	AuthToken string
	// IdempotencyToken goes out as I-Twilio-Idempotency-Token; keep it the
	// same on every retry of one event.
	IdempotencyToken string
	Params           url.Values
}

// Attempt is the outcome of one POST.
type Attempt struct {
	At       time.Time // when it started, on the configured clock
	Status   int       // HTTP status, 0 if none was received
	Err      string    // empty on success
	Duration time.Duration
}

// OK reports a 2xx answer.
func (a Attempt) OK() bool { return a.Err == "" && a.Status >= 200 && a.Status < 300 }

// Client makes single webhook attempts under a Policy.
type Client struct {
	cfg   ClientConfig
	guard Guard
	http  *http.Client
}

// NewClient builds a client whose every connection goes through the
// policy's Guard.
func NewClient(cfg ClientConfig) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 5 * time.Second
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	guard := Guard{Policy: cfg.Policy, Resolver: cfg.Resolver, ConnectTimeout: cfg.ConnectTimeout}
	transport := &http.Transport{
		// No proxy: the guard must judge the real destination, and a proxy
		// from the environment would hide it.
		Proxy:                 nil,
		DialContext:           guard.DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   cfg.ConnectTimeout,
		ResponseHeaderTimeout: cfg.Timeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       30 * time.Second,
	}
	return &Client{
		cfg:   cfg,
		guard: guard,
		http: &http.Client{
			Transport: transport,
			Timeout:   cfg.Timeout,
			// A redirect could lead anywhere, including past the policy's
			// intent; Twilio does not follow them either.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// Post makes one attempt. Any outcome other than a 2xx answer, including a
// redirect, is a failure described in Attempt.Err.
func (c *Client) Post(ctx context.Context, r Request) Attempt {
	start := time.Now()
	a := Attempt{At: c.cfg.Now()}
	finish := func(err error) Attempt {
		if err != nil {
			a.Err = err.Error()
		}
		a.Duration = time.Since(start)
		return a
	}
	if _, err := c.guard.parse(r.URL); err != nil {
		return finish(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, strings.NewReader(r.Params.Encode()))
	if err != nil {
		return finish(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", Sign(r.AuthToken, r.URL, r.Params))
	req.Header.Set("I-Twilio-Idempotency-Token", r.IdempotencyToken)
	req.Header.Set("User-Agent", c.cfg.UserAgent)

	resp, err := c.http.Do(req)
	if err != nil {
		return finish(unwrapURLError(err))
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBody))
	resp.Body.Close()
	a.Status = resp.StatusCode
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return finish(nil)
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return finish(fmt.Errorf("redirect not followed: %s", resp.Status))
	default:
		return finish(fmt.Errorf("unexpected status: %s", resp.Status))
	}
}

// CloseIdleConnections releases pooled connections, for shutdown.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// unwrapURLError drops net/http's "Post \"<url>\": " prefix, which would
// repeat the URL (and any query secrets in it) in every stored attempt.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
