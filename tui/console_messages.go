package tui

// The console's messages. There is one console per program, so unlike the
// phones' they carry no tag.

// consoleTickMsg refreshes the live lists; it re-arms itself.
type consoleTickMsg struct{}

// consoleRefreshedMsg carries the identity's factors and challenges and the
// webhooks the backend received.
type consoleRefreshedMsg struct {
	factors    []backendFactor
	challenges []backendChallenge
	events     []webhookEvent
	err        error
}

// consoleHashedMsg carries the identity the sample backend sends Verify
// for the demo's user.
type consoleHashedMsg struct {
	hashed string
	err    error
}

// signedInMsg reports one or more sign-ins: each one's challenges (one per
// verified phone) and the phones Verify refused.
type signedInMsg struct {
	kind     signInKind
	tries    int
	attempts [][]backendChallenge
	refused  []error
	err      error // the sign-in could not start at all
}

// resentMsg reports a push sent again for a challenge.
type resentMsg struct {
	challengeSid string
	notification notification
	err          error
}

// expiredMsg reports a challenge ended by the console's Expire now.
type expiredMsg struct {
	challengeSid string
	err          error
}

// withdrawnMsg reports challenges the console has seen the sample backend
// withdraw (expired, responded reason not_needed) because their sign-in
// was answered on another phone. The demo tells the other phones to look.
type withdrawnMsg struct {
	challengeSids []string
}
