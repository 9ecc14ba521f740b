package device

import (
	"sync"
	"time"

	"github.com/pushsim/pushsim/device/verifyclient"
)

// ExchangeLog keeps the most recent HTTP exchanges of a phone (every Device
// has one: Exchanges) or of anything else that speaks HTTP for a user and
// wants to show it, such as the demo's app backend. Exchanges are recorded
// from the goroutines that made them, so the log is safe for concurrent
// use.
type ExchangeLog struct {
	mu      sync.Mutex
	clock   func() time.Time
	limit   int
	entries []LoggedExchange
	seq     int
}

// LoggedExchange is one exchange with when it finished and its place in
// the log.
type LoggedExchange struct {
	Seq int
	At  time.Time
	verifyclient.Exchange
}

// Started is when the request went out: exchanges from several logs sort
// by it into cause-before-effect order, which finishing times need not be.
func (e LoggedExchange) Started() time.Time { return e.At.Add(-e.Duration) }

// DefaultExchangeLogSize is how many exchanges a log keeps by default.
const DefaultExchangeLogSize = 500

// NewExchangeLog returns a log keeping the last limit exchanges (default
// DefaultExchangeLogSize), stamped by clock (default time.Now).
func NewExchangeLog(limit int, clock func() time.Time) *ExchangeLog {
	if limit <= 0 {
		limit = DefaultExchangeLogSize
	}
	if clock == nil {
		clock = time.Now
	}
	return &ExchangeLog{clock: clock, limit: limit}
}

// Record adds an exchange that has just finished.
func (l *ExchangeLog) Record(e verifyclient.Exchange) { l.RecordAt(l.clock(), e) }

// RecordAt adds an exchange that finished at at: a log rebuilt from a
// recording, or fixed data that draws an HTTP log without a server.
func (l *ExchangeLog) RecordAt(at time.Time, e verifyclient.Exchange) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	l.entries = append(l.entries, LoggedExchange{Seq: l.seq, At: at, Exchange: e})
	if over := len(l.entries) - l.limit; over > 0 {
		l.entries = append(l.entries[:0], l.entries[over:]...)
	}
}

// Entries returns the kept exchanges, oldest first.
func (l *ExchangeLog) Entries() []LoggedExchange {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]LoggedExchange(nil), l.entries...)
}

// Total is how many exchanges were ever recorded, kept or not.
func (l *ExchangeLog) Total() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seq
}
