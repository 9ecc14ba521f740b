package webhook

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pushsim/pushsim/internal/testclock"
	twilio "github.com/twilio/twilio-go/client"
)

type record struct {
	id          int64
	attempt     Attempt
	done, final bool
	next        time.Time
}

// memQueue is an in-memory Queue with the semantics the server's outbox
// table must have.
type memQueue struct {
	mu        sync.Mutex
	items     map[int64]*memItem
	records   chan record
	failSaves atomic.Int32 // Record fails this many more times
	dueCalls  atomic.Int32
	handed    map[int64]bool // every delivery Claim has returned; under mu
	unclaimed []int64        // under mu
	// recorded, when set, holds each Record after it is written until the
	// test lets it return, so that the dispatcher has not yet heard the
	// attempt is over.
	recorded chan chan struct{}
}

type memItem struct {
	d           Delivery
	next        time.Time
	done, final bool
}

func newMemQueue(at time.Time, ds ...Delivery) *memQueue {
	q := &memQueue{items: map[int64]*memItem{}, records: make(chan record, 100), handed: map[int64]bool{}}
	for _, d := range ds {
		q.items[d.ID] = &memItem{d: d, next: at}
	}
	return q
}

func (q *memQueue) Claim(_ context.Context, now, until time.Time, limit int) ([]Delivery, error) {
	q.dueCalls.Add(1)
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []Delivery
	for _, it := range q.items {
		if !it.done && !it.final && !it.next.After(now) {
			out = append(out, it.d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if len(out) > limit {
		out = out[:limit]
	}
	for _, d := range out {
		q.handed[d.ID] = true
		q.items[d.ID].next = until
	}
	return out, nil
}

func (q *memQueue) Unclaim(_ context.Context, ids []int64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, id := range ids {
		q.items[id].next = time.Time{}
		q.unclaimed = append(q.unclaimed, id)
	}
	return nil
}

// handedOut lists, in order, the IDs of every delivery Claim has returned so
// far: the only deliveries the dispatcher can have started attempts for.
func (q *memQueue) handedOut() []int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Sorted(maps.Keys(q.handed))
}

func (q *memQueue) Record(_ context.Context, id int64, a Attempt, done, final bool, next time.Time) error {
	if q.failSaves.Load() > 0 {
		q.failSaves.Add(-1)
		return errors.New("disk full")
	}
	q.mu.Lock()
	it := q.items[id]
	it.d.Attempts++
	it.done, it.final, it.next = done, final, next
	q.mu.Unlock()
	q.records <- record{id, a, done, final, next}
	if q.recorded != nil {
		release := make(chan struct{})
		q.recorded <- release
		<-release
	}
	return nil
}

func (q *memQueue) nextRecord(t *testing.T) record {
	t.Helper()
	select {
	case r := <-q.records:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no attempt recorded")
		return record{}
	}
}

// noMoreRecords checks that nothing else was recorded once the dispatcher
// has been stopped (so it cannot race with a late attempt).
func (q *memQueue) noMoreRecords(t *testing.T) {
	t.Helper()
	select {
	case r := <-q.records:
		t.Fatalf("unexpected extra attempt %+v", r)
	default:
	}
}

type hit struct {
	uuid, idem, sig string
	form            url.Values
}

// flakyReceiver fails the first failures requests with 503.
func flakyReceiver(t *testing.T, failures int) (string, chan hit) {
	hits := make(chan hit, 100)
	var n atomic.Int32
	srv, _ := loopbackReceiver(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		hits <- hit{r.PostForm.Get("uuid"), r.Header.Get("I-Twilio-Idempotency-Token"), r.Header.Get("X-Twilio-Signature"), r.PostForm}
		if int(n.Add(1)) <= failures {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	return srv.URL + "/hooks/verify", hits
}

func startDispatcher(t *testing.T, cfg DispatcherConfig) (*Dispatcher, func()) {
	t.Helper()
	if cfg.Client == nil {
		cfg.Client = NewClient(ClientConfig{Policy: Dev})
	}
	if cfg.AuthToken == nil {
		cfg.AuthToken = func() string { return "auth-token" }
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = time.Hour // only Notify wakes it, so tests control timing
	}
	d, err := NewDispatcher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("Run returned %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return d, stop
}

func TestDispatcherRetriesWithOneUUIDUntilSuccess(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := testclock.New(t0)
	hook, hits := flakyReceiver(t, 2)
	params := verifyEvent()
	params.Del("uuid") // the dispatcher adds it from EventUUID
	q := newMemQueue(t0, Delivery{ID: 1, EventUUID: "5c0d6f3e-0000-4000-8000-000000000001", URL: hook, Params: params})
	d, stop := startDispatcher(t, DispatcherConfig{Queue: q, Now: clock.Now})

	r := q.nextRecord(t)
	if r.done || r.final || r.attempt.Status != http.StatusServiceUnavailable || !r.next.Equal(t0.Add(time.Second)) {
		t.Fatalf("first attempt %+v, want a failure retried at t0+1s", r)
	}
	clock.Set(r.next)
	d.Notify()
	r = q.nextRecord(t)
	if r.done || r.final || !r.next.Equal(t0.Add(3*time.Second)) {
		t.Fatalf("second attempt %+v, want a failure retried 2s later", r)
	}
	clock.Set(r.next)
	d.Notify()
	r = q.nextRecord(t)
	if !r.done || r.final || r.attempt.Status != http.StatusOK {
		t.Fatalf("third attempt %+v, want success", r)
	}
	stop()
	q.noMoreRecords(t)

	close(hits)
	v := twilio.NewRequestValidator("auth-token")
	n := 0
	for h := range hits {
		n++
		if h.uuid != "5c0d6f3e-0000-4000-8000-000000000001" || h.idem != h.uuid {
			t.Errorf("attempt %d: uuid %q, idempotency token %q", n, h.uuid, h.idem)
		}
		if !v.Validate(hook, flat(h.form), h.sig) {
			t.Errorf("attempt %d: signature does not validate", n)
		}
	}
	if n != 3 {
		t.Fatalf("receiver saw %d attempts, want 3", n)
	}
	if params.Get("uuid") != "" {
		t.Fatal("dispatcher modified the caller's params")
	}
}

func TestDispatcherGivesUpAfterMaxAttempts(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := testclock.New(t0)
	hook, hits := flakyReceiver(t, 1000)
	q := newMemQueue(t0, Delivery{ID: 7, EventUUID: "u-7", URL: hook, Params: url1()})
	d, stop := startDispatcher(t, DispatcherConfig{Queue: q, Now: clock.Now, MaxAttempts: 3})

	for i := 1; i <= 3; i++ {
		r := q.nextRecord(t)
		if r.done {
			t.Fatalf("attempt %d recorded as done", i)
		}
		if r.final != (i == 3) {
			t.Fatalf("attempt %d: final=%v", i, r.final)
		}
		if i < 3 {
			clock.Set(r.next)
			d.Notify()
		}
	}
	// Far past any retry time: a final delivery is not attempted again.
	clock.Set(t0.Add(time.Hour))
	d.Notify()
	stop()
	q.noMoreRecords(t)
	if len(hits) != 3 {
		t.Fatalf("receiver saw %d attempts, want 3", len(hits))
	}
}

func TestDispatcherBoundsConcurrency(t *testing.T) {
	var inFlight, peak atomic.Int32
	var mu sync.Mutex
	arrived := map[int64]bool{} // deliveries whose attempt reached the receiver
	release := make(chan struct{})
	srv, _ := loopbackReceiver(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		var id int64
		fmt.Sscanf(r.Header.Get("I-Twilio-Idempotency-Token"), "u-%d", &id)
		mu.Lock()
		arrived[id] = true
		mu.Unlock()
		<-release
		inFlight.Add(-1)
	}))
	// Runs before the receiver's own cleanup, which waits for its handlers.
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(unblock)
	t0 := time.Now()
	var ds []Delivery
	for i := range 10 {
		id := int64(i + 1)
		ds = append(ds, Delivery{ID: id, EventUUID: fmt.Sprintf("u-%d", id), URL: srv.URL, Params: url1()})
	}
	q := newMemQueue(t0, ds...)
	d, stop := startDispatcher(t, DispatcherConfig{Queue: q, Concurrency: 3, Now: func() time.Time { return t0 }})

	waitUntil(t, "three requests in flight", func() bool { return inFlight.Load() >= 3 })
	// Give the dispatcher its chance to start more while all three slots
	// are taken: wake it, twice. Run takes a wake-up off the channel only
	// from its idle select, so once it has taken the second it has finished
	// everything it did for the first, with seven deliveries still due.
	for i := range 2 {
		d.Notify()
		waitUntil(t, fmt.Sprintf("wake-up %d taken", i+1), func() bool { return len(d.wake) == 0 })
	}
	// An attempt can only be for a delivery the queue has handed out, and
	// every attempt started reaches the receiver, where it blocks. So if
	// the queue has handed out only the three the receiver holds, no fourth
	// attempt exists, now or on its way.
	mu.Lock()
	atReceiver := slices.Sorted(maps.Keys(arrived))
	mu.Unlock()
	if got := q.handedOut(); !slices.Equal(got, atReceiver) || len(got) != 3 {
		t.Fatalf("attempts blocked at the receiver %v, deliveries handed out by the queue %v; want the same three", atReceiver, got)
	}
	if p := peak.Load(); p != 3 {
		t.Fatalf("peak concurrency %d while blocked, want 3", p)
	}
	unblock()
	for range 10 {
		if r := q.nextRecord(t); !r.done {
			t.Fatalf("attempt %+v failed", r)
		}
	}
	stop()
	if p := peak.Load(); p != 3 {
		t.Fatalf("peak concurrency %d, want 3", p)
	}
}

func TestDispatcherHoldsDeliveryWhenRecordFails(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := testclock.New(t0)
	hook, hits := flakyReceiver(t, 0)
	q := newMemQueue(t0, Delivery{ID: 1, EventUUID: "u-1", URL: hook, Params: url1()})
	q.failSaves.Store(1)
	// A claim shorter than the hold: the delivery is due again in the
	// queue's eyes before the hold ends, and the hold keeps it back.
	d, stop := startDispatcher(t, DispatcherConfig{Queue: q, Now: clock.Now, Lease: 500 * time.Millisecond})

	<-hits // delivered, but the outcome could not be saved
	waitUntil(t, "dispatcher back to waiting", func() bool { return q.dueCalls.Load() >= 2 })
	d.Notify()
	d.Notify()
	// Still due in the queue's eyes; without the hold this would loop.
	clock.Set(t0.Add(500 * time.Millisecond))
	d.Notify()
	waitUntil(t, "wake-ups processed", func() bool { return q.dueCalls.Load() >= 3 })
	if len(hits) != 0 {
		t.Fatalf("retried %d times during the hold", len(hits))
	}
	clock.Set(t0.Add(time.Second))
	d.Notify()
	if r := q.nextRecord(t); !r.done {
		t.Fatalf("retry after hold: %+v", r)
	}
	stop()
	if h := <-hits; h.uuid != "u-1" {
		t.Fatalf("retry uuid %q", h.uuid)
	}
}

func TestNewDispatcherRequiresWiring(t *testing.T) {
	c := NewClient(ClientConfig{})
	tok := func() string { return "t" }
	for name, cfg := range map[string]DispatcherConfig{
		"queue":  {Client: c, AuthToken: tok},
		"client": {Queue: newMemQueue(time.Now()), AuthToken: tok},
		"token":  {Queue: newMemQueue(time.Now()), Client: c},
	} {
		if _, err := NewDispatcher(cfg); err == nil {
			t.Errorf("missing %s accepted", name)
		}
	}
}

func TestBackoffSchedule(t *testing.T) {
	for n, want := range map[int]time.Duration{
		0: time.Second, 1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second,
		8: 128 * time.Second, 9: 256 * time.Second, 10: 5 * time.Minute, 1000: 5 * time.Minute,
	} {
		if got := Backoff(n); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", n, got, want)
		}
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// An attempt the shutdown cut short was never made: its claim is given
// back, so the next dispatcher (after a restart, or in another server)
// attempts it at once rather than when the claim lapses.
func TestDispatcherUnclaimsAttemptsCutShort(t *testing.T) {
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	srv, _ := loopbackReceiver(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release) })
	t0 := time.Now()
	q := newMemQueue(t0, Delivery{ID: 7, EventUUID: "u-7", URL: srv.URL, Params: url1()})
	_, stop := startDispatcher(t, DispatcherConfig{Queue: q, Now: func() time.Time { return t0 }})
	<-arrived
	stop()
	q.mu.Lock()
	defer q.mu.Unlock()
	if !slices.Equal(q.unclaimed, []int64{7}) || !q.items[7].next.IsZero() {
		t.Fatalf("unclaimed %v, next attempt %v; want delivery 7 due at once", q.unclaimed, q.items[7].next)
	}
}

// A retry that is due at once, and whose wake-up comes before the worker
// that recorded it has reported back, is claimed while still in flight.
// It is attempted as soon as that worker is done, not after the claim's
// lease lapses.
func TestRetryDueWhileItsAttemptWindsUpIsNotLost(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := testclock.New(t0)
	hook, _ := flakyReceiver(t, 1)
	q := newMemQueue(t0, Delivery{ID: 1, EventUUID: "5c0d6f3e-0000-4000-8000-000000000002", URL: hook, Params: verifyEvent()})
	q.recorded = make(chan chan struct{}, 1)
	d, _ := startDispatcher(t, DispatcherConfig{Queue: q, Now: clock.Now, Lease: time.Hour})

	r := q.nextRecord(t)
	release := <-q.recorded
	clock.Set(r.next) // the retry is due
	claims := q.dueCalls.Load()
	d.Notify()
	for deadline := time.Now().Add(10 * time.Second); q.dueCalls.Load() == claims; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) { // waiting for the dispatcher to claim it again, still in flight
			t.Fatal("no claim after the wake-up")
		}
	}
	close(release)
	r = q.nextRecord(t)
	close(<-q.recorded)
	if !r.done || r.attempt.Status != http.StatusOK {
		t.Fatalf("retry %+v, want it delivered", r)
	}
}
