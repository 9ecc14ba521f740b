package tui

import (
	"sync"
	"time"
)

// PollTicker is a poll ticker whose interval the settings screen can
// change while the phone runs. Pass its Ticker method as
// device.Config.Ticker; the device's poller then ticks at Interval.
type PollTicker struct {
	mu       sync.Mutex
	interval time.Duration
	live     map[*time.Ticker]struct{}
}

// NewPollTicker starts at interval.
func NewPollTicker(interval time.Duration) *PollTicker {
	return &PollTicker{interval: interval, live: map[*time.Ticker]struct{}{}}
}

// Ticker makes a ticker at the current interval, ignoring the device's own
// interval: the settings screen owns it.
func (p *PollTicker) Ticker(time.Duration) (<-chan time.Time, func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := time.NewTicker(p.interval)
	p.live[t] = struct{}{}
	return t.C, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		t.Stop()
		delete(p.live, t)
	}
}

// Interval is the current poll interval.
func (p *PollTicker) Interval() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.interval
}

// SetInterval changes the interval of every running ticker.
func (p *PollTicker) SetInterval(d time.Duration) {
	if d <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.interval = d
	for t := range p.live {
		t.Reset(d)
	}
}
