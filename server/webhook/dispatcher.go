package webhook

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/url"
	"sync"
	"time"
)

// Delivery is one event for one webhook URL, as kept by the server's outbox.
type Delivery struct {
	ID int64
	// EventUUID is sent as the uuid field and as I-Twilio-Idempotency-Token,
	// unchanged on every retry, so receivers can de-duplicate.
	EventUUID string
	URL       string
	Params    url.Values
	Attempts  int // attempts already made
}

// Queue is the server's durable store of deliveries. Several dispatchers,
// in several servers, may share one: a delivery is attempted by the one
// that claimed it.
type Queue interface {
	// Claim returns up to limit deliveries whose next attempt time is <=
	// now and makes them not due before until, so that no other
	// dispatcher takes them while this one attempts them.
	Claim(ctx context.Context, now, until time.Time, limit int) ([]Delivery, error)
	// Unclaim makes claimed deliveries due again at once: their attempts
	// were cut short by a shutdown and never made.
	Unclaim(ctx context.Context, ids []int64) error
	// Record stores the outcome of one attempt; next is when to retry
	// (ignored when done or final).
	Record(ctx context.Context, id int64, a Attempt, done bool, final bool, next time.Time) error
}

// DispatcherConfig wires a Dispatcher. Queue, Client and AuthToken are required.
type DispatcherConfig struct {
	Queue  Queue
	Client *Client
	// AuthToken returns the account's current auth token, read per attempt
	// so that a rotated token takes effect on the next retry.
	AuthToken func() string
	Now       func() time.Time
	Logger    *slog.Logger

	Concurrency  int           // attempts in flight; default 4
	PollInterval time.Duration // safety net besides Notify; default 1s
	MaxAttempts  int           // default DefaultMaxAttempts
	// Lease is how long a claim keeps a delivery from other dispatchers:
	// longer than an attempt and the write of its outcome can take, or
	// two dispatchers may attempt it at once. Default 30s.
	Lease time.Duration
}

// Dispatcher moves deliveries from the Queue to their receivers.
type Dispatcher struct {
	cfg  DispatcherConfig
	log  *slog.Logger
	wake chan struct{}
}

// NewDispatcher checks cfg and fills in defaults.
func NewDispatcher(cfg DispatcherConfig) (*Dispatcher, error) {
	switch {
	case cfg.Queue == nil:
		return nil, errors.New("webhook: DispatcherConfig.Queue is required")
	case cfg.Client == nil:
		return nil, errors.New("webhook: DispatcherConfig.Client is required")
	case cfg.AuthToken == nil:
		return nil, errors.New("webhook: DispatcherConfig.AuthToken is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 30 * time.Second
	}
	return &Dispatcher{cfg: cfg, log: cfg.Logger, wake: make(chan struct{}, 1)}, nil
}

// Notify wakes Run early, typically right after the server committed new
// deliveries. It never blocks.
func (d *Dispatcher) Notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// finished is a worker's report to Run.
type finished struct {
	id int64
	// cutShort is set when ctx ended the attempt before it was made.
	cutShort bool
	// holdUntil is set when the outcome could not be recorded: the delivery
	// still looks due to the Queue, and without a hold it would be retried
	// at once, over and over.
	holdUntil time.Time
}

// Run delivers due deliveries until ctx ends, then waits for attempts in
// flight and returns ctx's error. Attempts cut short by ctx are not
// recorded but unclaimed, so they are made again after a restart, or at
// once by another server sharing the queue.
func (d *Dispatcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	// Buffered for every possible worker, so none blocks after Run returns.
	done := make(chan finished, d.cfg.Concurrency)
	inFlight := make(map[int64]bool)
	held := make(map[int64]time.Time)
	// reclaimed are deliveries claimed again while in flight: their
	// worker recorded them due at once (a retry due now) and a fill ran
	// before it reported back. That claim leased them again, so they are
	// released as soon as their worker is done, not when the lease lapses.
	reclaimed := make(map[int64]bool)
	poll := time.NewTicker(d.cfg.PollInterval)
	defer poll.Stop()
	var cutShort []int64
	defer func() {
		wg.Wait()
		close(done)
		for f := range done {
			if f.cutShort {
				cutShort = append(cutShort, f.id)
			}
		}
		if len(cutShort) == 0 {
			return
		}
		if err := d.cfg.Queue.Unclaim(context.WithoutCancel(ctx), cutShort); err != nil {
			d.log.Warn("webhook: releasing deliveries cut short (they wait for their claim to lapse)", "err", err)
		}
	}()

	fill := func() {
		free := d.cfg.Concurrency - len(inFlight)
		if free <= 0 {
			return
		}
		now := d.cfg.Now()
		for id, until := range held {
			if !now.Before(until) {
				delete(held, id)
			}
		}
		// Only as many as there are free slots: what is claimed and not
		// attempted waits for its claim to lapse.
		due, err := d.cfg.Queue.Claim(ctx, now, now.Add(d.cfg.Lease), free)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Error("webhook: claiming due deliveries", "err", err)
			}
			return
		}
		for _, dl := range due {
			if inFlight[dl.ID] {
				reclaimed[dl.ID] = true
				continue
			}
			if _, skip := held[dl.ID]; skip {
				continue
			}
			inFlight[dl.ID] = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				done <- d.attempt(ctx, dl)
			}()
		}
	}

	fill()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-d.wake:
		case <-poll.C:
		case f := <-done:
			delete(inFlight, f.id)
			if f.cutShort {
				cutShort = append(cutShort, f.id)
			}
			if !f.holdUntil.IsZero() {
				held[f.id] = f.holdUntil
			}
			if reclaimed[f.id] {
				delete(reclaimed, f.id)
				if err := d.cfg.Queue.Unclaim(ctx, []int64{f.id}); err != nil && ctx.Err() == nil {
					d.log.Warn("webhook: releasing a delivery claimed while in flight (it waits for its claim to lapse)", "err", err)
				}
			}
		}
		fill()
	}
}

// attempt posts one delivery and records the outcome.
func (d *Dispatcher) attempt(ctx context.Context, dl Delivery) finished {
	params := maps.Clone(dl.Params)
	if params == nil {
		params = url.Values{}
	}
	params.Set("uuid", dl.EventUUID)
	a := d.cfg.Client.Post(ctx, Request{
		URL:              dl.URL,
		AuthToken:        d.cfg.AuthToken(),
		IdempotencyToken: dl.EventUUID,
		Params:           params,
	})
	if ctx.Err() != nil {
		return finished{id: dl.ID, cutShort: true}
	}

	n := dl.Attempts + 1
	ok := a.OK()
	final := !ok && n >= d.cfg.MaxAttempts
	var next time.Time
	if !ok && !final {
		next = d.cfg.Now().Add(Backoff(n))
	}
	log := d.log.With("delivery", dl.ID, "uuid", dl.EventUUID, "attempt", n, "status", a.Status)
	switch {
	case ok:
		log.Debug("webhook: delivered")
	case final:
		log.Warn("webhook: giving up", "err", a.Err)
	default:
		log.Info("webhook: attempt failed", "err", a.Err, "retry_at", next)
	}
	if err := d.cfg.Queue.Record(ctx, dl.ID, a, ok, final, next); err != nil {
		if ctx.Err() == nil {
			log.Error("webhook: recording attempt", "err", err)
		}
		return finished{id: dl.ID, holdUntil: d.cfg.Now().Add(Backoff(n))}
	}
	return finished{id: dl.ID}
}
