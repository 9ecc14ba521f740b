package tui

import (
	"sync"
	"time"

	"github.com/pushsim/pushsim/device/verifyclient"
)

// ExchangeLog keeps the phone's most recent HTTP exchanges for the HTTP log
// screen. Its Record method is a device.Config.Observer; the device calls it
// from its own goroutines, so the log is safe for concurrent use.
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

func (e LoggedExchange) started() time.Time { return e.At.Add(-e.Duration) }

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

// Record adds an exchange; pass it as device.Config.Observer.
func (l *ExchangeLog) Record(e verifyclient.Exchange) {
	l.add(LoggedExchange{At: l.clock(), Exchange: e})
}

func (l *ExchangeLog) add(e LoggedExchange) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	e.Seq = l.seq
	l.entries = append(l.entries, e)
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
