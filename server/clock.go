package server

import (
	"errors"
	"sync"
	"time"
)

// clock is the server's clock: the configured one, moved forward by a
// tester so that what takes minutes or hours in real life (expiry, the
// unverified-factor sweep, webhook retries) happens when a test wants it.
// It only moves forward: going back would let a challenge that expired
// become pending again, which no real server does.
type clock struct {
	base  func() time.Time
	moved func() // called after every Advance

	mu     sync.Mutex
	offset time.Duration
}

// maxClockOffset keeps the offset far from overflowing a time.Time's
// arithmetic while allowing any test a year of simulated time.
const maxClockOffset = 400 * 24 * time.Hour

var errClockBackwards = errors.New("the server's clock only moves forward: Advance must be a positive duration")

func (c *clock) Now() time.Time { return c.base().Add(c.Offset()) }

// Offset is how far the clock was moved forward.
func (c *clock) Offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset
}

// Advance moves the clock forward by d.
func (c *clock) Advance(d time.Duration) error {
	if d <= 0 {
		return errClockBackwards
	}
	c.mu.Lock()
	if c.offset+d > maxClockOffset {
		c.mu.Unlock()
		return errors.New("the server's clock can be moved at most 400 days ahead")
	}
	c.offset += d
	c.mu.Unlock()
	if c.moved != nil {
		c.moved()
	}
	return nil
}

// reset puts the clock back to the configured one, as a reset of the
// whole server does: the data that knew the later time is gone with it.
func (c *clock) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = 0
}
