package tui

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

	"github.com/pushsim/pushsim/device/verifyclient"
)

// backendClient is how the console and the tour reach the server: the
// bundled sample backend under /backend/ and, with the account's
// credentials, the Verify API under /v2. It goes over the wire, as a
// customer's backend would, and records the calls made for the user (not
// the console's background refreshes) so they can be shown.
type backendClient struct {
	base       string // the server's base URL, without a trailing slash
	accountSid string
	authToken  string
	http       *http.Client
	log        *ExchangeLog
}

// call is one request: form is the query of a GET and the body of a POST;
// account signs it with the account's credentials; quiet leaves it out of
// the log.
type call struct {
	method  string
	path    string
	form    url.Values
	account bool
	quiet   bool
}

// apiError is an error answer, from the sample backend
// ({"error":{"message":"20429: ..."}}) or from Verify ({"code","message"}).
type apiError struct {
	Status  int
	Code    int
	Message string
}

func (e *apiError) Error() string {
	head := strconv.Itoa(e.Status) + " " + http.StatusText(e.Status)
	if e.Code != 0 {
		head = strconv.Itoa(e.Status) + " · " + strconv.Itoa(e.Code)
	}
	if e.Message == "" {
		return head
	}
	return head + " " + e.Message
}

// responseBodyLimit bounds what is read of an answer.
const responseBodyLimit = 1 << 20

// do sends c and decodes a 2xx JSON answer into out (when not nil).
func (b *backendClient) do(ctx context.Context, c call, out any) error {
	target := b.base + c.path
	var body []byte
	if c.method == http.MethodPost {
		body = []byte(c.form.Encode())
	} else if len(c.form) > 0 {
		target += "?" + c.form.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, c.method, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if c.method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "application/json")
	if c.account {
		req.SetBasicAuth(b.accountSid, b.authToken)
	}
	ex := verifyclient.Exchange{Method: c.method, URL: target, RequestHeader: req.Header.Clone(), RequestBody: body}
	start := time.Now()
	resp, err := b.http.Do(req)
	var raw []byte
	if err == nil {
		raw, err = io.ReadAll(io.LimitReader(resp.Body, responseBodyLimit))
		resp.Body.Close()
		ex.StatusCode, ex.ResponseHeader, ex.ResponseBody = resp.StatusCode, resp.Header, raw
	}
	ex.Duration, ex.Err = time.Since(start), err
	if !c.quiet && b.log != nil {
		b.log.Record(ex)
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
		return fmt.Errorf("%s %s: unexpected answer: %w", c.method, c.path, err)
	}
	return nil
}

// parseAPIError reads the error shapes the console meets: the sample
// backend's ({"error": {"message", "moreInfo"}}, whose Verify code is the
// end of moreInfo), access-token's ({"status", "message", "code",
// "moreInfo"}) and Verify's own ({"code", "message"}).
func parseAPIError(status int, raw []byte) *apiError {
	e := &apiError{Status: status}
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
