// Package tui draws pushsim's simulated phone in the terminal with Bubble Tea:
// the phone outline and its status bar, the heads-up banner for pushes, and
// the screens of the Verify Push sample app (factor list, enrolment, factor
// inbox, challenge detail) plus the settings and HTTP log a simulator needs.
//
// The package owns presentation only. Everything the phone does is done by a
// *device.Device; the UI calls it from background commands that report back
// as typed messages, and learns about pushes, polls and silent approvals
// from the device's event stream.
//
// A Phone is an embeddable component: several can live in one program (a
// demo with many phones) and several programs in one process (one per SSH
// session). Nothing here is package-level mutable state; each Phone carries
// its own styles, key map, clock and device in a shared common context, and
// tags its messages so phones never consume each other's. RunPhone runs one
// phone full-screen, which is what `pushsim device` does.
//
// RunDemo is `pushsim demo`: beside one or more phones of one user, the app
// backend's console (sign-ins, number matching, push bombing, resends and
// expiry, with live lists of challenges and signed webhooks) or the guided
// tour of the Verify Push quickstart. Both are clients of the server's HTTP
// API, as a customer's backend is; neither imports the server.
package tui
