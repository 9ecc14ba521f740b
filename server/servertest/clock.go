package servertest

import (
	"time"

	"github.com/pushsim/pushsim/internal/testclock"
)

// Clock is the tests' hand-moved clock; give it to Options.Clock and the
// server reads it too.
type Clock = testclock.Clock

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return testclock.New(t) }
