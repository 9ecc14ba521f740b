package phone

import (
	tea "charm.land/bubbletea/v2"

	"github.com/pushsim/pushsim/device"
)

// Every message a phone sends itself carries the phone's id, so that in a
// program with several phones each one takes only its own.
type tagged struct{ phone string }

func (t tagged) phoneID() string { return t.phone }

// phoneMsg is a message addressed to one phone.
type phoneMsg interface{ phoneID() string }

// EventMsg is one event from a phone's device, on its way to the phone.
// A host hands it to its phones like any message (each takes only its
// own) and may read Event first: it is how a console or a tour beside the
// phone hears what the phone did.
type EventMsg struct {
	tagged
	Event device.Event
}

// eventsClosedMsg says the device's event stream ended (the phone closed).
type eventsClosedMsg struct{ tagged }

// launchEndedMsg says device.Launch returned: err is why it stopped early,
// nil when it was stopped on purpose.
type launchEndedMsg struct {
	tagged
	gen int
	err error
}

// clockTickMsg redraws the clock and countdowns and expires challenges; it
// re-arms itself once a second.
type clockTickMsg struct{ tagged }

// refreshTickMsg reloads the open inbox while the app is in the
// foreground; it re-arms itself at the poll interval. gen retires ticks of
// an earlier chain when the interval changes.
type refreshTickMsg struct {
	tagged
	gen int
}

// factorsLoadedMsg carries the factors stored on the phone.
type factorsLoadedMsg struct {
	tagged
	factors []device.Factor
	silent  map[string]bool
	err     error
}

// challengesLoadedMsg carries the newest page of one factor's challenges.
type challengesLoadedMsg struct {
	tagged
	factorSid  string
	challenges []device.Challenge
	err        error
}

// challengeLoadedMsg carries one freshly fetched challenge.
type challengeLoadedMsg struct {
	tagged
	factorSid    string
	challengeSid string
	challenge    *device.Challenge
	err          error
}

// answeredMsg reports an approve or deny the user asked for.
type answeredMsg struct {
	tagged
	factorSid    string
	challengeSid string
	status       string
	challenge    *device.Challenge
	err          error
}

// enrolledMsg reports a factor created from the enrolment screen.
type enrolledMsg struct {
	tagged
	factor device.Factor
	err    error
}

// factorDeletedMsg reports a deletion the user confirmed.
type factorDeletedMsg struct {
	tagged
	factorSid string
	err       error
}

// settingDoneMsg reports a settings change that needed the device's work.
type settingDoneMsg struct {
	tagged
	what string
	err  error
}

// noticeExpiredMsg retires a toast or error once its time is up.
type noticeExpiredMsg struct {
	tagged
	id int
}

// bannerExpiredMsg retires a heads-up banner.
type bannerExpiredMsg struct {
	tagged
	id int
}

// Navigation between screens.
type (
	openEnrollMsg struct{ tagged }
	openFactorMsg struct {
		tagged
		factorSid string
	}
	openChallengeMsg struct {
		tagged
		factorSid, challengeSid string
		// fromNotification: the user tapped a banner (or the host did so
		// for them), rather than picking the challenge from an inbox.
		fromNotification bool
	}
	openSettingsMsg struct{ tagged }
	openLogMsg      struct{ tagged }
	backMsg         struct{ tagged }
)

// confirmMsg asks the user to confirm a destructive action; yes is the
// command to run when they do.
type confirmMsg struct {
	tagged
	question string
	detail   string
	yes      tea.Cmd
}

// clickMsg is a mouse click on a named zone of the phone's last frame.
type clickMsg struct {
	tagged
	zone string
}

// deleteFactorMsg is a confirmed request to delete a factor.
type deleteFactorMsg struct {
	tagged
	factorSid string
}

// reinstallMsg is a confirmed request to wipe the app's storage.
type reinstallMsg struct{ tagged }

// enrollMsg is the enrolment form submitted.
type enrollMsg struct {
	tagged
	params device.EnrollParams
	push   bool
}

// answerMsg asks to approve or deny a challenge. matched says the user
// has already typed the number of a number-matching challenge.
type answerMsg struct {
	tagged
	factorSid, challengeSid, status string
	matched                         bool
}
