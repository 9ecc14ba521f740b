// Package verify owns the rules of the Verify v2 push API: what a valid
// service, entity, factor, challenge, notification, access token and webhook
// is, how device credentials are checked, how a challenge moves from pending
// to approved, denied or expired exactly once, and which events each change
// reports. It speaks neither HTTP nor SQL: callers hand it typed input, it
// hands back store records or an *Error carrying Twilio's code.
package verify

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is a failure the client is told about, shaped like Twilio's REST
// errors.
type Error struct {
	Code    int
	Status  int
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%d: %s", e.Code, e.Message) }

// MoreInfo is the documentation link Twilio sends with every error.
func (e *Error) MoreInfo() string {
	return fmt.Sprintf("https://www.twilio.com/docs/errors/%d", e.Code)
}

// AsError extracts an *Error from err.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

func newError(code, status int, format string, args ...any) *Error {
	return &Error{Code: code, Status: status, Message: fmt.Sprintf(format, args...)}
}

// ErrUnauthenticated is the one answer for every credential failure, so a
// caller cannot tell an unknown identity from a wrong key.
var ErrUnauthenticated = &Error{Code: 20003, Status: http.StatusUnauthorized, Message: "Authenticate"}

// ErrForbidden answers a valid phone credential used outside its factor.
var ErrForbidden = &Error{Code: 20403, Status: http.StatusForbidden, Message: "Forbidden: a device may only access its own factor"}

// NotFound reports a missing resource.
func NotFound(what string) *Error {
	return newError(20404, http.StatusNotFound, "The requested resource %s was not found", what)
}

// InvalidParam reports a parameter that fails validation.
func InvalidParam(name, why string) *Error {
	return newError(60306, http.StatusBadRequest, "Invalid parameter %s: %s", name, why)
}

// MissingParam reports a required parameter that was not sent.
func MissingParam(name string) *Error {
	return newError(60306, http.StatusBadRequest, "Missing required parameter %s in the post body", name)
}

// The Verify-specific failures, with Twilio's codes and statuses.
var (
	ErrNotificationsLimit    = newError(60309, http.StatusTooManyRequests, "Max notifications for this challenge reached (3)")
	ErrFactorVerification    = newError(60311, http.StatusForbidden, "Factor verification failed")
	ErrInvalidBinding        = newError(60314, http.StatusBadRequest, "Invalid factor binding: Binding.PublicKey must be a base64 PKIX DER ECDSA P-256 key and Binding.Alg ES256")
	ErrTooManyPushFactors    = newError(60315, http.StatusBadRequest, "Reached max limit of 20 push Factors associated per Entity")
	ErrFactorExists          = newError(60317, http.StatusConflict, "Factor already exists with the same binding")
	ErrFactorUnverified      = newError(60318, http.StatusForbidden, "Factor is unverified")
	ErrChallengeResponded    = newError(60322, http.StatusForbidden, "Challenge already responded")
	ErrChallengeExpired      = newError(60323, http.StatusForbidden, "Challenge expired")
	ErrChallengeVerification = newError(60324, http.StatusForbidden, "Challenge verification failed")
)

// TooManyPending refuses a challenge while its factor already has max
// pending: pushsim's answer to push bombing (Twilio documents none).
func TooManyPending(max int) *Error {
	return newError(20429, http.StatusTooManyRequests,
		"Too many pending challenges for this factor (%d): answer or wait for one to expire before sending another", max)
}
