package verifyclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Code is one of the SDK's own error codes (60401–60407).
type Code int

// The SDK's error kinds, with the codes both mobile SDKs use.
const (
	CodeNetwork        Code = 60401
	CodeMapper         Code = 60402
	CodeStorage        Code = 60403
	CodeInput          Code = 60404
	CodeKeyStorage     Code = 60405
	CodeInitialization Code = 60406
	CodeToken          Code = 60407
)

var codeMessages = map[Code]string{
	CodeNetwork:        "Exception while calling the API",
	CodeMapper:         "Exception while mapping an entity",
	CodeStorage:        "Exception while storing/loading an entity",
	CodeInput:          "Exception while loading input",
	CodeKeyStorage:     "Exception while storing/loading key pairs",
	CodeInitialization: "Exception while initializing",
	CodeToken:          "Exception while generating token",
}

// Error is the SDK's exception: a code with its fixed message and the cause
// that produced it. Match the kind with errors.Is(err, ErrNetwork) and the
// cause with errors.Is/As on the cause's own type.
type Error struct {
	Code  Code
	Cause error
}

// Error renders the Android SDK's text, "{60401} Exception while calling the
// API", followed by the cause.
func (e *Error) Error() string {
	msg := fmt.Sprintf("{%d} %s", int(e.Code), codeMessages[e.Code])
	if e.Cause != nil {
		msg += ": " + e.Cause.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Cause }

// Is makes the kind sentinels match any Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Cause == nil && t.Code == e.Code
}

// Kind sentinels for errors.Is.
var (
	ErrNetwork        = &Error{Code: CodeNetwork}
	ErrMapper         = &Error{Code: CodeMapper}
	ErrStorage        = &Error{Code: CodeStorage}
	ErrInput          = &Error{Code: CodeInput}
	ErrKeyStorage     = &Error{Code: CodeKeyStorage}
	ErrInitialization = &Error{Code: CodeInitialization}
	ErrToken          = &Error{Code: CodeToken}
)

// Wrap returns cause as an SDK error of the given kind.
func Wrap(code Code, cause error) error { return &Error{Code: code, Cause: cause} }

// Input-error causes, with the SDK's messages copied verbatim (capitals
// included): apps and tests compare them with the Android SDK's.
var (
	//lint:ignore ST1005 the Android SDK's message, verbatim
	ErrExpiredChallenge = errors.New("Expired challenge can not be updated")
	//lint:ignore ST1005 the Android SDK's message, verbatim
	ErrAlreadyUpdatedChallenge = errors.New("Responded challenge can not be updated")
	ErrNotUpdatedChallenge     = errors.New("Challenge was not updated")
	//lint:ignore ST1005 the Android SDK's message, verbatim
	ErrInvalidChallenge = errors.New("Invalid challenge for received factor")
	//lint:ignore ST1005 the Android SDK's message, verbatim
	ErrEmptyChallengeSid = errors.New("Empty challenge sid")
	//lint:ignore ST1005 the Android SDK's message, verbatim
	ErrEmptyFactorSid = errors.New("Empty factor sid")
	//lint:ignore ST1005 the Android SDK's message, verbatim
	ErrWrongFactor = errors.New("Wrong factor for challenge")
	//lint:ignore ST1005 the Android SDK's message, verbatim
	ErrInvalidFactor = errors.New("Invalid factor")
	//lint:ignore ST1005 the Android SDK's message, verbatim
	ErrSignatureFields = errors.New("Signature fields or response not set")
)

// ErrKeyPairNotSet is the key-storage and token-generation cause when a
// factor has no private key.
//
//lint:ignore ST1005 the Android SDK's message, copied verbatim.
var ErrKeyPairNotSet = errors.New("Key pair not set")

// APIError is a Twilio error body: {"code", "message", "more_info", "status"}.
type APIError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// Error renders the sample app's "Code: X - message" with the HTTP status.
func (e *APIError) Error() string {
	return fmt.Sprintf("Code: %d - %s (HTTP %d)", e.Code, e.Message, e.Status)
}

// HTTPError is a response with status 300 or above: the SDK's
// NetworkException. API holds the Twilio error body when there was one, and
// errors.As reaches it through Unwrap.
type HTTPError struct {
	StatusCode int
	Header     http.Header
	Body       []byte
	API        *APIError
}

func (e *HTTPError) Error() string {
	if e.API != nil {
		return e.API.Error()
	}
	return fmt.Sprintf("Network exception with status code %d and body: %s", e.StatusCode, clip(string(e.Body), 200))
}

func (e *HTTPError) Unwrap() error {
	if e.API == nil {
		return nil
	}
	return e.API
}

// newHTTPError keeps the Twilio error body if the response carries one. The
// SDK reads code and message only; a numeric code is required, as iOS
// decodes it as an Int. status falls back to the HTTP status when absent.
func newHTTPError(status int, header http.Header, body []byte) *HTTPError {
	e := &HTTPError{StatusCode: status, Header: header, Body: body}
	var raw struct {
		Code     *int   `json:"code"`
		Message  string `json:"message"`
		MoreInfo string `json:"more_info"`
		Status   *int   `json:"status"`
	}
	if json.Unmarshal(body, &raw) == nil && raw.Code != nil {
		e.API = &APIError{Code: *raw.Code, Message: raw.Message, MoreInfo: raw.MoreInfo, Status: status}
		if raw.Status != nil {
			e.API.Status = *raw.Status
		}
	}
	return e
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
