package api

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/pushsim/pushsim/server/verify"
)

// Limits on what a request may carry.
const (
	maxBodyBytes  = 64 << 10
	maxFormPairs  = 256
	maxQueryBytes = 8 << 10
)

// repeatable names the parameters Twilio sends as a repeated key; any other
// parameter given twice is refused rather than silently picking one.
var repeatable = map[string]bool{"EventTypes": true, "Details.Fields": true}

// errBodyTooLarge is answered with 413.
var errBodyTooLarge = &verify.Error{Code: 60306, Status: http.StatusRequestEntityTooLarge, Message: "Request body is larger than 64 KiB"}

// parseForm decodes an application/x-www-form-urlencoded body or query
// strictly: bad escapes, too many pairs and repeated scalar parameters are
// errors.
func parseForm(raw string) (url.Values, error) {
	if raw == "" {
		return url.Values{}, nil
	}
	if strings.Count(raw, "&") >= maxFormPairs {
		return nil, verify.InvalidParam("body", "has too many parameters")
	}
	v, err := url.ParseQuery(raw)
	if err != nil {
		return nil, verify.InvalidParam("body", "is not valid form encoding")
	}
	for name, values := range v {
		if name == "" {
			return nil, verify.InvalidParam("body", "has a parameter without a name")
		}
		if len(values) > 1 && !repeatable[name] {
			return nil, verify.InvalidParam(name, "was given more than once")
		}
	}
	return v, nil
}

// readForm returns the request's parameters: the query for GET and DELETE,
// the form body for POST.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	if r.Method != http.MethodPost {
		if len(r.URL.RawQuery) > maxQueryBytes {
			return nil, verify.InvalidParam("query", "is too long")
		}
		return parseForm(r.URL.RawQuery)
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return nil, &verify.Error{Code: 60306, Status: http.StatusUnsupportedMediaType,
				Message: "Content-Type must be application/x-www-form-urlencoded"}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, errBodyTooLarge
		}
		return nil, verify.InvalidParam("body", "could not be read")
	}
	return parseForm(string(body))
}

// optional returns a pointer to a parameter's value, nil when absent.
func optional(v url.Values, name string) *string {
	if _, ok := v[name]; !ok {
		return nil
	}
	s := v.Get(name)
	return &s
}
