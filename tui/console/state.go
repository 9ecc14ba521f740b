package console

import "strings"

// State is what a host can read of the console between messages, and
// what a host's tests wait on instead of reaching in.
type State struct {
	// Newest is the newest challenge listed; Statuses every listed
	// challenge's status as the console words it ("not needed" for one
	// the backend withdrew).
	Newest   string
	Statuses map[string]string
	// Code is the number the sign-in page shows, while the latest
	// sign-in is a number-matching one that is pending or just settled.
	Code string
	// Busy names the action in flight, if any.
	Busy string
	// Faults is the faults in force as the console's faults line words
	// them ("push drop (all) · webhook 500, 1 refused · clock +10m"), ""
	// when none is.
	Faults string
	// Restarting says a restart or reset was accepted and the server has
	// not answered as its next generation yet.
	Restarting bool
}

// State reports what the console knows now.
func (c *Console) State() State {
	s := State{Statuses: map[string]string{}, Busy: c.busy, Restarting: c.waiting != nil,
		Faults: strings.Join(c.faultWords(c.faults, c.clockOffset, len(c.deliveries)), " · ")}
	if n := c.shownSignIn(); n != nil {
		s.Code = n.code
	}
	for _, ch := range c.challenges {
		s.Statuses[ch.Sid] = c.statusWord(ch)
	}
	if len(c.challenges) > 0 {
		s.Newest = c.challenges[0].Sid
	}
	return s
}
