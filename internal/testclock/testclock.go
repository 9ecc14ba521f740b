// Package testclock is the one clock tests move by hand. It imports nothing
// of pushsim's, so the server's, the phone's and the UI's tests can share
// it (and one instance of it) without import cycles: when the server, the
// phones and the screens read the same clock, nothing disagrees about the
// time.
package testclock

import (
	"sync"
	"time"
)

// Clock is stopped at a time until a test moves it.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock stopped at t.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}
