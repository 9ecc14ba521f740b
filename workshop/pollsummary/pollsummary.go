// Package pollsummary keeps a server's log readable while many phones
// poll it. The server writes one "request" line per HTTP request; a phone
// lists its pending challenges every few seconds, so a room of thirty
// phones would print several lines a second and bury everything else.
// Handler counts the successful polls instead and writes one line per
// interval ("42 polls from 30 identities in the last 30s"); every other
// line, and every failed poll, passes through unchanged. At debug level
// nothing is summarised: whoever asks for debug wants every request.
package pollsummary

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Handler is a slog.Handler that summarises successful polls and passes
// everything else to the handler it wraps. Handlers derived with WithAttrs
// or WithGroup count into the same summary.
type Handler struct {
	next    slog.Handler
	grouped bool // a group was opened: request attributes are no longer at the top level
	tally   *tally
}

type tally struct {
	now func() time.Time

	mu         sync.Mutex
	since      time.Time
	polls      int
	identities map[string]struct{}
}

// Options adjust a Handler.
type Options struct {
	// Now is the clock stamped on summary lines and used to say how long
	// they cover; default time.Now.
	Now func() time.Time
}

// New wraps next.
func New(next slog.Handler, o Options) *Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Handler{next: next, tally: &tally{now: o.Now, since: o.Now(), identities: map[string]struct{}{}}}
}

// Enabled reports what the wrapped handler reports: a summary is written
// at info level, so a handler that drops info drops the polls too.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle counts r if it is a successful poll, and passes it on otherwise.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if !h.grouped && !h.next.Enabled(ctx, slog.LevelDebug) {
		if identity, ok := poll(r); ok {
			h.tally.count(identity)
			return nil
		}
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs derives a handler that counts into the same summary.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &Handler{next: h.next.WithAttrs(attrs), grouped: h.grouped, tally: h.tally}
}

// WithGroup derives a handler that counts into the same summary.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &Handler{next: h.next.WithGroup(name), grouped: true, tally: h.tally}
}

// Flush writes the summary of the polls counted since the last one, if
// there were any, and starts counting afresh.
func (h *Handler) Flush(ctx context.Context) error {
	t := h.tally
	t.mu.Lock()
	now := t.now()
	polls, identities, took := t.polls, len(t.identities), now.Sub(t.since)
	t.polls, t.since = 0, now
	clear(t.identities)
	t.mu.Unlock()
	if polls == 0 || !h.next.Enabled(ctx, slog.LevelInfo) {
		return nil
	}
	took = took.Round(time.Second)
	r := slog.NewRecord(now, slog.LevelInfo, fmt.Sprintf("%d %s from %d %s in the last %s",
		polls, plural(polls, "poll", "polls"), identities, plural(identities, "identity", "identities"), took), 0)
	r.AddAttrs(slog.Int("polls", polls), slog.Int("identities", identities), slog.Duration("interval", took))
	return h.next.Handle(ctx, r)
}

// Every flushes every interval until stop, which flushes once more so that
// the last polls are not lost.
func (h *Handler) Every(interval time.Duration) (stop func()) {
	ticker := time.NewTicker(interval)
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ticker.C:
				h.Flush(context.Background())
			case <-quit:
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			ticker.Stop()
			close(quit)
			<-done
			h.Flush(context.Background())
		})
	}
}

func (t *tally) count(identity string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.polls++
	t.identities[identity] = struct{}{}
}

// poll recognises the server's line for a phone listing its challenges,
// GET /v2/Services/{VA}/Entities/{identity}/Challenges, answered 2xx, and
// returns the identity.
func poll(r slog.Record) (identity string, ok bool) {
	if r.Message != "request" || r.Level != slog.LevelInfo {
		return "", false
	}
	var method, path string
	status := int64(-1)
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "method":
			method = a.Value.String()
		case "path":
			path = a.Value.String()
		case "status":
			if a.Value.Kind() == slog.KindInt64 {
				status = a.Value.Int64()
			}
		}
		return true
	})
	if method != "GET" || status < 200 || status > 299 {
		return "", false
	}
	parts := strings.Split(path, "/")
	// "", "v2", "Services", VA…, "Entities", identity, "Challenges"
	if len(parts) != 7 || parts[0] != "" || parts[1] != "v2" || parts[2] != "Services" || parts[4] != "Entities" || parts[6] != "Challenges" || parts[5] == "" {
		return "", false
	}
	return parts[5], true
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
