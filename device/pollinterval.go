package device

import (
	"sync"
	"time"
)

// pollTicker makes the poller's tickers and moves every running one to a
// new interval when the user changes it in the phone's settings, so the
// change takes effect without restarting the app.
type pollTicker struct {
	mu       sync.Mutex
	interval time.Duration
	live     map[*time.Ticker]struct{}
}

func newPollTicker(interval time.Duration) *pollTicker {
	return &pollTicker{interval: interval, live: map[*time.Ticker]struct{}{}}
}

// ticker is the default Config.Ticker. It ticks at the current interval:
// the one the poller asks for is where the phone started, not where the
// user may have moved it since.
func (p *pollTicker) ticker(time.Duration) (<-chan time.Time, func()) {
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

func (p *pollTicker) current() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.interval
}

func (p *pollTicker) set(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.interval = d
	for t := range p.live {
		t.Reset(d)
	}
}

// PollInterval is the time between polls.
func (d *Device) PollInterval() time.Duration { return d.poll.current() }

// SetPollInterval changes the time between polls, as the phone's settings
// do, for the poller running now too. A ticker from Config.Ticker is the
// caller's: it keeps its own pace.
func (d *Device) SetPollInterval(every time.Duration) {
	if every > 0 {
		d.poll.set(every)
	}
}
