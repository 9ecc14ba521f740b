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
// It also switches the server's failures on and off through pushsim's
// control API (the faults panel, key f): pushes dropped, delayed or
// doubled for every phone or one, the webhook sink failing, the server's
// clock moved on, the server restarted or reset. A tester walks the
// failure paths by hand with it, so the console's sections and a
// challenge's detail are headed by the faults in force, and each row of
// the panel shows what the server answered, never what was only asked for.
//
// Background work runs as commands that report back as messages; the
// backend's answers are exported messages, so a host's tests can play the
// backend and draw the console without a server.
package console
