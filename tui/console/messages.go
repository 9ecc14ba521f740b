package console

import "github.com/pushsim/pushsim/internal/backendclient"

// The console's messages. There is one console per program, so unlike the
// phones' they carry no tag. The answers of the sample backend are
// exported, so a host's tests can play the backend's part and draw the
// console without a server.

// tickMsg refreshes the live lists; it re-arms itself.
type tickMsg struct{}

// RefreshedMsg carries the identity's factors and challenges and the
// webhooks the backend received.
type RefreshedMsg struct {
	Factors    []backendclient.Factor
	Challenges []backendclient.Challenge
	Events     []backendclient.WebhookEvent
	Err        error

	// What the control API says of the server, read beside the lists so
	// that a change made elsewhere (curl, a CI job) shows: the faults in
	// force and the server's clock, nil when not read, and the sink's
	// deliveries when they were read (Deliveries non-nil). ControlErr
	// is why they could not be; the lists stand without them.
	Faults     *backendclient.Faults
	Clock      *backendclient.ServerClock
	Deliveries []backendclient.Delivery
	ControlErr error
	// controlSeq is the console's count of its own changes when the
	// refresh began.
	controlSeq int
}

// HashedMsg carries the identity the sample backend sends Verify for the
// demo's user.
type HashedMsg struct {
	Hashed string
	Err    error
}

// SignedInMsg reports one or more sign-ins: each one's challenges (one per
// verified phone) and the phones Verify refused.
type SignedInMsg struct {
	Kind     SignInKind
	Tries    int
	Attempts [][]backendclient.Challenge
	Refused  []error
	Err      error // the sign-in could not start at all
}

// resentMsg reports a push sent again for a challenge.
type resentMsg struct {
	challengeSid string
	notification backendclient.Notification
	err          error
}

// expiredMsg reports a challenge ended by the console's Expire now.
type expiredMsg struct {
	challengeSid string
	err          error
}

// WithdrawnMsg reports challenges the console has seen the sample backend
// withdraw (expired, responded reason not_needed) because their sign-in
// was answered on another phone. Verify sends no push for that, so the
// host tells the other phones to look.
type WithdrawnMsg struct {
	ChallengeSids []string
}
