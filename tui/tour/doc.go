// Package tour is the guided quickstart of `pushsim demo --tour`: Twilio's
// Verify Push Android quickstart one step per screen, each step saying what
// happens and why, doing it for real against the server (as your backend,
// with the account's credentials, or on the phone) and showing the HTTP
// exchanges it put on the wire, decoded.
//
// The tour draws and reacts. What it needs that a UI must not do (serve
// the access-token endpoint your backend exposes, hold the phone's
// verification between two steps) is an internal/tourstage.Stage its host
// starts and hands it. It does not hold the phone either: it asks its host
// to act on it (PhoneMsg) and hears what the phone did through PhoneEvent.
package tour
