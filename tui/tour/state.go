package tour

import (
	"time"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/internal/tourstage"
)

// Progress is how far the tour got: what a host can read between
// messages, and what its tests wait on instead of reaching in.
type Progress struct {
	// At is the screen shown: 0 the introduction, 1 to len(Steps) the
	// steps, then the end.
	At int
	// Steps is how far each step got.
	Steps []StepState
	// Challenge is the challenge step 6 created, and Answer how it ended
	// at step 7: "approved", "denied", "expired", or "" before then.
	Challenge string
	Answer    string
	// Exchanges is what the steps showed on the wire, step after step.
	Exchanges []device.LoggedExchange
}

// Progress reports how far the tour got.
func (t *Tour) Progress() Progress {
	p := Progress{At: t.at, Challenge: t.challengeSid, Answer: t.answer}
	for _, r := range t.results {
		p.Steps = append(p.Steps, r.state)
		p.Exchanges = append(p.Exchanges, r.exchanges...)
	}
	return p
}

// Webhook is one delivery the sample backend's sink received, as it
// recorded it: the POST Verify made to your webhook.
type Webhook struct {
	// URL is where Verify posted it: the webhook the tour configured.
	URL  string
	Type string
	// Signature is the X-Twilio-Signature header, and Valid whether it
	// checks out under the account's auth token.
	Signature string
	Valid     bool
	// Params is the form, decoded.
	Params   map[string]string
	Received time.Time
}

// Sample is what a run of the tour made up to its last steps, for drawing
// them without a server (goldens, pictures for the README). The notes of
// steps 7 and 8 are worded from it by the code that words them live, so a
// picture shows what a presenter reads.
type Sample struct {
	ChallengeSid string
	Expires      time.Time
	// Answer is how step 7 ended: "approved", "denied" or "expired"; ""
	// leaves step 7 offering its choice.
	Answer string
	// Silent marks an approval made by silent approval.
	Silent bool
	// Webhook is the delivery step 8 found; nil after an expiry.
	Webhook *Webhook
	// Status is the challenge's status as step 8 read it.
	Status string
	// Exchanges are what each step showed on the wire, by step (from 1).
	Exchanges map[int][]device.LoggedExchange
	// Holds are requests the tour's stage held, by step.
	Holds map[int][]tourstage.Hold
}

// ShowSample shows screen at (a step from 1, or len(steps)+1 for the end)
// as a run that made s would show it, every step before it done.
func (t *Tour) ShowSample(at int, s Sample) {
	t.at, t.scroll = at, 0
	t.challengeSid, t.expires = s.ChallengeSid, s.Expires
	for i := range t.results {
		step := i + 1
		if step > at {
			break
		}
		r := tourResult{state: StepDone, exchanges: s.Exchanges[step], holds: s.Holds[step]}
		switch step {
		case tourStepAnswer:
			if s.Answer == "" {
				r.state = StepOffering
				break
			}
			t.answer = s.Answer
			r.notes = answerNotes(phoneAnswer{answer: s.Answer, silent: s.Silent}, s.ChallengeSid, s.Expires)
		case tourStepOutcome:
			r.webhook = s.Webhook
			r.notes = outcomeNotes(s.Answer, s.Webhook, s.ChallengeSid, s.Status)
		}
		t.results[i] = r
	}
}
