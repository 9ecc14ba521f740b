// Package backendclient is how the demo's panes reach a pushsim server the
// way a customer's backend does: over HTTP, with the account's
// credentials, the bundled sample backend under /backend/ and the Verify
// API under /v2. It shares no code with the server: the console and the tour must
// show what is on the wire, so they go through it.
//
// Every call made for the user (not background refreshes) is kept in an
// exchange log, so a UI can show the request and its answer.
package backendclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/verifyclient"
)

// Client calls one server.
type Client struct {
	base       string // the server's base URL, without a trailing slash
	accountSid string
	authToken  string
	http       *http.Client
	log        *device.ExchangeLog
}

// New returns a client of the server at baseURL. The account's credentials
// sign calls to /v2 that ask for them (Call.Account) and every call to the
// sample backend but access-token, which a server reachable from the
// network refuses without them; the log's exchanges are stamped by clock
// (default time.Now).
func New(baseURL, accountSid, authToken string, httpClient *http.Client, clock func() time.Time) *Client {
	return &Client{
		base: strings.TrimRight(baseURL, "/"), accountSid: accountSid, authToken: authToken,
		http: httpClient, log: device.NewExchangeLog(0, clock),
	}
}

// Base is the server's base URL, without a trailing slash.
func (c *Client) Base() string { return c.base }

// Log is the calls made for the user, oldest first.
func (c *Client) Log() *device.ExchangeLog { return c.log }

// Call is one request: Form is the query of a GET and the body of a POST;
// Account signs it with the account's credentials (calls to the sample
// backend are signed without asking); Quiet leaves it out of the log.
type Call struct {
	Method  string
	Path    string
	Form    url.Values
	Account bool
	Quiet   bool
}

// APIError is an error answer, from the sample backend
// ({"error":{"message":"20429: ..."}}) or from Verify ({"code","message"}).
type APIError struct {
	Status  int
	Code    int
	Message string
}

func (e *APIError) Error() string {
	head := strconv.Itoa(e.Status) + " " + http.StatusText(e.Status)
	if e.Code != 0 {
		head = strconv.Itoa(e.Status) + " · " + strconv.Itoa(e.Code)
	}
	if e.Message == "" {
		return head
	}
	return head + " " + e.Message
}

// accessTokenPath is the sample backend's one endpoint for phones: the
// app on the phone calls it with no account credentials, so the client
// does not send them there either.
const accessTokenPath = "/backend/access-token"

// signsBackendCall reports whether a call to path goes to the sample
// backend with the account's credentials, as a customer's backend calls
// its own: a server bound beyond loopback refuses those calls without
// them, and one on loopback ignores them.
func (c *Client) signsBackendCall(path string) bool {
	path, _, _ = strings.Cut(path, "?")
	return c.accountSid != "" && strings.HasPrefix(path, "/backend/") && path != accessTokenPath
}

// responseBodyLimit bounds what is read of an answer.
const responseBodyLimit = 1 << 20

// Do sends call and decodes a 2xx JSON answer into out (when not nil).
func (c *Client) Do(ctx context.Context, call Call, out any) error {
	target := c.base + call.Path
	var body []byte
	if call.Method == http.MethodPost {
		body = []byte(call.Form.Encode())
	} else if len(call.Form) > 0 {
		target += "?" + call.Form.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, call.Method, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if call.Method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "application/json")
	if call.Account || c.signsBackendCall(call.Path) {
		req.SetBasicAuth(c.accountSid, c.authToken)
	}
	ex := verifyclient.Exchange{Method: call.Method, URL: target, RequestHeader: req.Header.Clone(), RequestBody: body}
	start := time.Now()
	resp, err := c.http.Do(req)
	var raw []byte
	if err == nil {
		raw, err = io.ReadAll(io.LimitReader(resp.Body, responseBodyLimit))
		resp.Body.Close()
		ex.StatusCode, ex.ResponseHeader, ex.ResponseBody = resp.StatusCode, resp.Header, raw
	}
	ex.Duration, ex.Err = time.Since(start), err
	if !call.Quiet {
		c.log.Record(ex)
	}
	switch {
	case err != nil:
		return err
	case resp.StatusCode >= 300:
		return parseAPIError(resp.StatusCode, raw)
	case out == nil || len(bytes.TrimSpace(raw)) == 0:
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: unexpected answer: %w", call.Method, call.Path, err)
	}
	return nil
}

// parseAPIError reads the error shapes the demo meets: the sample
// backend's ({"error": {"message", "moreInfo"}}, whose Verify code is the
// end of moreInfo), access-token's ({"status", "message", "code",
// "moreInfo"}) and Verify's own ({"code", "message"}).
func parseAPIError(status int, raw []byte) *APIError {
	e := &APIError{Status: status}
	var shapes struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Error   struct {
			Message  string `json:"message"`
			MoreInfo string `json:"moreInfo"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &shapes) != nil {
		e.Message = strings.TrimSpace(string(raw))
		return e
	}
	e.Code, e.Message = shapes.Code, shapes.Message
	if m := shapes.Error.Message; m != "" {
		e.Message = m
		if rest, ok := strings.CutPrefix(shapes.Error.MoreInfo, "https://www.twilio.com/docs/errors/"); ok {
			e.Code, _ = strconv.Atoi(rest)
		}
	}
	return e
}
