// Package console is the app backend's pane of `pushsim demo`: who the
// user is and the identity that reaches Verify, the sign-ins a login page
// would start (plain, number matching, push bombing), resends and expiry,
// and live lists of the user's challenges and of the signed webhooks the
// backend received.
//
// It is a view over the sample backend's HTTP API, reached through
// internal/backendclient as a customer's backend would reach its own. It
// holds no backend logic: fanning a sign-in out to every phone of the user
// and withdrawing the siblings of an answered one happen in server/backend;
// the console only notices a withdrawal (WithdrawnMsg) so that its host can
// tell the other phones to look. It knows nothing of the phones.
//
// Background work runs as commands that report back as messages; the
// backend's answers are exported messages, so a host's tests can play the
// backend and draw the console without a server.
package console
