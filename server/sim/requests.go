package sim

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/pushsim/pushsim/internal/bounded"
)

// DefaultRequestLogSize is how many requests a RequestLog keeps unless told
// otherwise.
const DefaultRequestLogSize = 1000

// Request is one served request in the log. It keeps no header, body or
// query value: only the names of the query parameters, since values (an
// access token, a page token) can be secrets.
type Request struct {
	Method     string    `json:"method"`
	Path       string    `json:"path"`
	QueryKeys  []string  `json:"query_keys,omitempty"`
	Status     int       `json:"status"`
	DurationMs float64   `json:"duration_ms"`
	Time       time.Time `json:"time"`
}

// RequestLog is a bounded ring of the newest requests, safe for concurrent
// use. The zero value is not usable; call NewRequestLog.
type RequestLog struct {
	mu   sync.Mutex
	ring []Request
	next int  // where the next entry goes
	full bool // the ring has wrapped
}

// NewRequestLog keeps the last size requests (DefaultRequestLogSize when
// size <= 0).
func NewRequestLog(size int) *RequestLog {
	if size <= 0 {
		size = DefaultRequestLogSize
	}
	return &RequestLog{ring: make([]Request, size)}
}

// Record adds a request that has been served.
func (l *RequestLog) Record(r *http.Request, status int, at time.Time, took time.Duration) {
	if status == 0 {
		status = http.StatusOK // the handler wrote nothing
	}
	e := Request{Method: r.Method, Path: LoggedPath(r.URL.Path), QueryKeys: queryKeys(r.URL.RawQuery), Status: status,
		DurationMs: float64(took.Microseconds()) / 1000, Time: at.UTC()}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ring[l.next] = e
	l.next = (l.next + 1) % len(l.ring)
	if l.next == 0 {
		l.full = true
	}
}

// Recent returns up to limit requests, newest first.
func (l *RequestLog) Recent(limit int) []Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.next
	if l.full {
		n = len(l.ring)
	}
	limit = min(limit, n)
	out := make([]Request, 0, limit)
	for i := 1; i <= limit; i++ {
		out = append(out, l.ring[(l.next-i+len(l.ring))%len(l.ring)])
	}
	return out
}

// maxLoggedPath bounds a path as the request log and the log's lines keep
// it: longer than any route, short enough that the log's thousand entries
// do not each hold a path of 60 KB, as a request line may be.
const maxLoggedPath = 512

// LoggedPath is p as the request log keeps it: cut at maxLoggedPath bytes.
func LoggedPath(p string) string { return bounded.Text(p, maxLoggedPath) }

// queryKeys lists the distinct parameter names of a raw query, sorted.
func queryKeys(raw string) []string {
	if raw == "" {
		return nil
	}
	q, _ := url.ParseQuery(raw)
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) > 32 {
		keys = keys[:32]
	}
	return keys
}

// limitParam reads ?limit=N, capped at most, or def when absent or invalid.
func limitParam(r *http.Request, def, most int) int {
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n > 0 {
		return min(n, most)
	}
	return def
}
