package tour

import "github.com/pushsim/pushsim/device"

// Progress is how far the tour got: what a host can read between
// messages, and what its tests wait on instead of reaching in.
type Progress struct {
	// At is the screen shown: 0 the introduction, 1 to len(Steps) the
	// steps, then the end.
	At int
	// Steps is how far each step got.
	Steps []StepState
	// Exchanges is what the steps showed on the wire, step after step.
	Exchanges []device.LoggedExchange
}

// Progress reports how far the tour got.
func (t *Tour) Progress() Progress {
	p := Progress{At: t.at}
	for _, r := range t.results {
		p.Steps = append(p.Steps, r.state)
		p.Exchanges = append(p.Exchanges, r.exchanges...)
	}
	return p
}

// ShowStepDone shows step (from 1) as done, with the notes and exchanges
// it made, and every step before it done too: for drawing a step without a
// server (goldens, pictures for the README).
func (t *Tour) ShowStepDone(step int, notes []string, exchanges []device.LoggedExchange) {
	t.at = step
	for i := range step {
		t.results[i].state = StepDone
	}
	t.results[step-1] = tourResult{state: StepDone, notes: notes, exchanges: exchanges}
}
