package phone

import (
	"context"
	"errors"
	"fmt"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/verifyclient"
)

// describeError turns a device error into the error bar's two parts: the
// headline, which leads with the Twilio error code and message as the
// sample app shows them ("Code: 60323 - ..."), and the detail, the SDK's
// own error kind.
func describeError(err error) (headline, detail string) {
	if err == nil {
		return "", ""
	}
	var sdk *verifyclient.Error
	if errors.As(err, &sdk) {
		detail = fmt.Sprintf("SDK %d", int(sdk.Code))
	}
	var api *verifyclient.APIError
	var httpErr *verifyclient.HTTPError
	var tokenErr *device.AccessTokenError
	switch {
	case errors.As(err, &api):
		headline = fmt.Sprintf("Code: %d - %s", api.Code, api.Message)
		detail = joinDetail(detail, fmt.Sprintf("HTTP %d", api.Status))
	case errors.Is(err, device.ErrAirplaneMode):
		headline = "No network: airplane mode is on"
	case errors.As(err, &tokenErr):
		headline = "Access token: " + tokenErr.Message
		if tokenErr.StatusCode != 0 {
			detail = joinDetail(detail, fmt.Sprintf("HTTP %d", tokenErr.StatusCode))
		}
		if tokenErr.Message == "" && tokenErr.Err != nil {
			headline = "Access token: " + tokenErr.Err.Error()
		}
	case errors.As(err, &httpErr):
		headline = fmt.Sprintf("HTTP %d from the server", httpErr.StatusCode)
	case errors.Is(err, context.DeadlineExceeded):
		headline = "The server did not answer in time"
	case sdk != nil && sdk.Cause != nil:
		headline = sdk.Cause.Error()
	default:
		headline = err.Error()
	}
	return headline, detail
}

func joinDetail(a, b string) string {
	if a == "" {
		return b
	}
	return a + " · " + b
}

// errNoPushService is why push cannot be turned on for a phone started
// without a server to push from.
var errNoPushService = errors.New("this phone has no push service to connect to")

// errNumberMismatch is why a number-matching challenge was denied: the
// number typed on the phone was not the one the sign-in screen showed.
var errNumberMismatch = errors.New("wrong number: the challenge was denied")
