package device

import (
	"bytes"
	"encoding/json"
	"io"
	"regexp"
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

// maskedNumber stands for a number-matching code in what the phone shows
// of its exchanges.
const maskedNumber = "••"

// maskNumberMatch returns body with the value of every JSON member named
// number_match replaced by maskedNumber, and every other byte as it was;
// body itself is never modified, since the client still parses it. A
// phone whose log shows the code lets its user approve without reading it
// off the sign-in page, which is what number matching is for.
func maskNumberMatch(body []byte) []byte {
	if !bytes.Contains(body, []byte("number")) && !bytes.Contains(body, []byte(`\u`)) {
		return body // no member of that name, however escaped
	}
	spans, complete := numberMatchValues(body)
	if !complete {
		// A body cut short or not JSON at all: mask what looks like the
		// member, byte by byte.
		spans = nil
		for _, m := range numberMatchPattern.FindAllSubmatchIndex(body, -1) {
			spans = append(spans, [2]int{m[2], m[3]})
		}
	}
	if len(spans) == 0 {
		return body
	}
	var out bytes.Buffer
	last := 0
	for _, span := range spans {
		out.Write(body[last:span[0]])
		out.WriteString(`"` + maskedNumber + `"`)
		last = span[1]
	}
	out.Write(body[last:])
	return out.Bytes()
}

// numberMatchPattern finds a number_match member in text that is not
// whole JSON; group 1 is its value, a string (perhaps cut short) or a
// bare word.
var numberMatchPattern = regexp.MustCompile(`"number_match"\s*:\s*("(?:[^"\\]|\\.)*"?|[^\s,}\]]+)`)

// numberMatchValues finds the byte ranges of the values of members named
// number_match anywhere in a JSON text, whatever escapes spell the name;
// complete is false when body is not JSON through to its end.
func numberMatchValues(body []byte) (spans [][2]int, complete bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	// One frame per object or array being read; in an object, whether a
	// member name comes next.
	type frame struct{ object, nameNext bool }
	var open []frame
	valueEnded := func() {
		if n := len(open); n > 0 && open[n-1].object {
			open[n-1].nameNext = true
		}
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return spans, len(open) == 0
		}
		if err != nil {
			return nil, false
		}
		top := len(open) - 1
		if name, ok := tok.(string); ok && top >= 0 && open[top].nameNext {
			open[top].nameNext = false
			if name == NumberMatchKey {
				var value json.RawMessage
				if err := dec.Decode(&value); err != nil {
					return nil, false
				}
				end := int(dec.InputOffset())
				spans = append(spans, [2]int{end - len(value), end})
				valueEnded()
			}
			continue
		}
		switch tok {
		case json.Delim('{'):
			open = append(open, frame{object: true, nameNext: true})
		case json.Delim('['):
			open = append(open, frame{})
		case json.Delim('}'), json.Delim(']'):
			open = open[:top]
			valueEnded()
		default:
			valueEnded()
		}
	}
}
