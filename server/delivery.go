package server

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/pushsim/pushsim/server/faults"
	"github.com/pushsim/pushsim/server/push"
	"github.com/pushsim/pushsim/server/store"
	"github.com/pushsim/pushsim/server/verify"
	"github.com/pushsim/pushsim/server/webhook"
)

// pushOutbox moves push rows from the durable outbox into the push gateway
// and records their fate. A row stays pending until the phone acks it, so
// a phone that comes back, after its own outage or the server's, is
// offered every unacked, unexpired push again (pushoffers.go).
type pushOutbox struct {
	store  store.Store
	gw     *push.Gateway
	now    func() time.Time
	log    *slog.Logger
	faults *faults.Set
	wakeUp chan struct{}

	mu       sync.Mutex
	finished map[string]string // message id -> final state, not yet written
	// delayed are pushes a fault holds back until their time on the
	// server's clock; a restart forgets them and the outbox offers them
	// again.
	delayed []delayedPush
	// doubles are pushes a fault delivers twice: once acked, again.
	doubles map[string]push.Message
	again   []push.Message

	// offers serve the phones from the outbox as they connect; see
	// pushOffers.
	offers pushOffers
}

type delayedPush struct {
	msg push.Message
	due time.Time
}

func newPushOutbox(st store.Store, now func() time.Time, log *slog.Logger, f *faults.Set) *pushOutbox {
	p := &pushOutbox{store: st, now: now, log: log, faults: f, wakeUp: make(chan struct{}, 1),
		finished: map[string]string{}, doubles: map[string]push.Message{}}
	p.offers = pushOffers{tokens: map[string]bool{}, handed: map[string]time.Time{}}
	if sh, ok := st.(store.Shared); ok {
		p.offers.shared = sh
	}
	return p
}

// wake makes the loop look at the delayed pushes now, after the server's
// clock moved.
func (p *pushOutbox) wake() {
	select {
	case p.wakeUp <- struct{}{}:
	default:
	}
}

// onAck and onDrop are the gateway's callbacks. They only note the outcome:
// the loop writes outcomes in batches, a few times a second, so acks neither
// wait on fsync nor compete with challenge creation for the writer.
func (p *pushOutbox) onAck(id, _ string) {
	p.mu.Lock()
	if m, ok := p.doubles[id]; ok {
		delete(p.doubles, id)
		p.again = append(p.again, m)
	}
	p.mu.Unlock()
	p.finish(id, store.OutboxDone)
}

func (p *pushOutbox) onDrop(id, _ string, reason push.DropReason) {
	if reason == push.DropOverloaded {
		// Keep the row pending: the next sweep offers it again.
		p.mu.Lock()
		delete(p.offers.handed, id)
		p.mu.Unlock()
		return
	}
	p.finish(id, store.OutboxDropped)
}

func (p *pushOutbox) finish(id, state string) {
	p.mu.Lock()
	p.finished[id] = state
	p.mu.Unlock()
}

// flushEvery is how often outcomes are written and due rows handed over.
const flushEvery = 250 * time.Millisecond

// flushSlice is how many push outcomes one write records.
const flushSlice = 200

// run hands due rows to the gateway until ctx ends.
func (p *pushOutbox) run(ctx context.Context) {
	if p.offers.shared != nil {
		listening := make(chan struct{})
		go func() { defer close(listening); p.listen(ctx) }()
		defer func() { <-listening }()
	}
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	for {
		if err := p.flush(ctx); err != nil && ctx.Err() == nil {
			p.log.Error("push outbox", "err", err)
		}
		if err := p.offer(ctx); err != nil && ctx.Err() == nil {
			p.log.Error("offer pending pushes", "err", err)
		}
		select {
		case <-ctx.Done():
			// Write down the acks that arrived while shutting down.
			p.flush(context.WithoutCancel(ctx))
			return
		case <-tick.C:
		case <-p.wakeUp:
		}
		p.release()
	}
}

// release hands over the delayed pushes whose time has come and sends
// again the doubled pushes the phone acked.
func (p *pushOutbox) release() {
	now := p.now()
	p.mu.Lock()
	due := p.again
	p.again = nil
	kept := p.delayed[:0]
	for _, d := range p.delayed {
		if d.due.After(now) {
			kept = append(kept, d)
		} else {
			due = append(due, d.msg)
		}
	}
	p.delayed = kept
	p.mu.Unlock()
	for _, m := range due {
		p.send(m)
	}
}

func (p *pushOutbox) flush(ctx context.Context) error {
	p.mu.Lock()
	finished := p.finished
	p.finished = map[string]string{}
	p.mu.Unlock()
	byState := map[string][]string{}
	for id, state := range finished {
		byState[state] = append(byState[state], id)
	}
	// A burst of acks (phones coming back after an outage) is written in
	// slices, each a write of its own, so creates queued behind it wait for
	// one slice, not for the whole burst.
	for state, ids := range byState {
		for len(ids) > 0 {
			n := min(len(ids), flushSlice)
			err := p.store.Write(ctx, func(tx store.Tx) error {
				return tx.FinishOutbox(store.OutboxPush, ids[:n], state, p.now().UTC())
			})
			if err != nil {
				return err
			}
			p.forgetHanded(ids[:n])
			ids = ids[n:]
		}
	}
	var handOver []store.OutboxItem
	err := p.store.Write(ctx, func(tx store.Tx) error {
		now := p.now().UTC()
		due, err := tx.DueOutbox(store.DueQuery{Kind: store.OutboxPush, Now: now, Limit: 500})
		if err != nil {
			return err
		}
		for _, o := range due {
			o.Attempts++
			o.DateUpdated = now
			if o.ExpiresAt == nil || isStale(o, now) {
				o.State, o.LastError = store.OutboxDropped, string(push.DropExpired)
			} else {
				// Not due again: its phone is offered it when it
				// connects, and the row is due once more only to be
				// marked dropped after its expiry.
				o.NextAttempt = verify.HandedOverUntil(now, *o.ExpiresAt)
				handOver = append(handOver, o)
			}
			if err := tx.UpdateOutbox(o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	p.handOver(p.localUnhanded(handOver))
	return nil
}

// reserve is called inside the transaction that adds pushes: until
// committed has seen them, offers leave them alone, so that a phone
// connecting at that moment does not get one before the push faults
// have had their say.
func (p *pushOutbox) reserve(items []store.OutboxItem) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, o := range items {
		if o.ExpiresAt != nil {
			p.offers.handed[o.Ref] = deliverableUntil(o)
		}
	}
}

// committed hands over a committed transaction's pushes to the phones
// connected here, through the push faults. The others are offered theirs
// when they connect (or, on a shared store, when the server holding their
// phone hears the store's announcement).
func (p *pushOutbox) committed(items []store.OutboxItem) {
	items = p.throughFaults(items)
	var now, away, lost []store.OutboxItem
	p.mu.Lock()
	for _, o := range items {
		switch {
		case o.ExpiresAt != nil && p.gw.Connected(o.Target):
			now = append(now, o)
		case o.ExpiresAt != nil && isNowOnly(o) && p.offers.shared == nil:
			// Time to live 0: now or never, and the phone is away. (On
			// a shared store it may be connected to another server,
			// which the announcement reaches.)
			lost = append(lost, o)
		default:
			delete(p.offers.handed, o.Ref)
			away = append(away, o)
		}
	}
	p.mu.Unlock()
	for _, o := range lost {
		p.finish(o.Ref, store.OutboxDropped)
	}
	p.handOver(now)
	for _, o := range away {
		// Connected meanwhile: its offer may have passed this push over.
		if p.gw.Connected(o.Target) {
			p.offerTo(o.Target)
		}
	}
}

// throughFaults applies the push faults in force to new pushes, whether
// their phones are connected or away, as a push service would when it is
// handed them, and returns those to deliver now.
func (p *pushOutbox) throughFaults(items []store.OutboxItem) []store.OutboxItem {
	var out []store.OutboxItem
	for _, o := range items {
		rule, faulty := p.faults.Push(o.Params.Get("factor_sid"))
		switch {
		case !faulty || o.ExpiresAt == nil:
		case rule.Mode == faults.PushDrop:
			// Lost for good, as a real push service loses one: no offer
			// finds it again.
			p.log.Info("push dropped by a fault", "id", o.Ref, "factor_sid", o.Params.Get("factor_sid"))
			p.finish(o.Ref, store.OutboxDropped)
			continue
		case rule.Mode == faults.PushDelay:
			p.log.Info("push delayed by a fault", "id", o.Ref, "factor_sid", o.Params.Get("factor_sid"), "delay", rule.Delay)
			p.mu.Lock()
			// Held here: offers must not deliver it early.
			p.offers.handed[o.Ref] = deliverableUntil(o)
			p.delayed = append(p.delayed, delayedPush{msg: message(o), due: p.now().Add(rule.Delay)})
			p.mu.Unlock()
			p.wake()
			continue
		case rule.Mode == faults.PushDuplicate:
			p.mu.Lock()
			p.doubles[o.Ref] = message(o)
			p.mu.Unlock()
		}
		out = append(out, o)
	}
	return out
}

// handOver gives pushes whose rows are marked as handed over to the
// gateway.
func (p *pushOutbox) handOver(items []store.OutboxItem) {
	for _, o := range items {
		p.send(message(o))
	}
}

func message(o store.OutboxItem) push.Message {
	return push.Message{ID: o.Ref, Token: o.Target, Data: flatten(o.Params), ExpiresAt: deliverableUntil(o), NowOnly: isNowOnly(o)}
}

// deliverableUntil is when the gateway gives up on a push row.
func deliverableUntil(o store.OutboxItem) time.Time {
	if isNowOnly(o) {
		return o.DateCreated.Add(nowOnlyGrace)
	}
	return *o.ExpiresAt
}

func (p *pushOutbox) send(msg push.Message) {
	if err := p.gw.Send(msg); err != nil {
		p.log.Warn("push not accepted", "id", msg.ID, "err", err)
		if errors.Is(err, push.ErrInvalidMessage) {
			p.finish(msg.ID, store.OutboxDropped)
		}
	}
}

// A push with Ttl 0 is stored with its expiry equal to its creation time:
// deliver now or never. "Now" allows a little slack for the hand-over.
const nowOnlyGrace = 5 * time.Second

func isNowOnly(o store.OutboxItem) bool { return !o.ExpiresAt.After(o.DateCreated) }

func isStale(o store.OutboxItem, now time.Time) bool {
	if isNowOnly(o) {
		return now.Sub(o.DateCreated) > nowOnlyGrace
	}
	return !o.ExpiresAt.After(now)
}

func flatten(v url.Values) map[string]string {
	m := make(map[string]string, len(v))
	for k := range v {
		m[k] = v.Get(k)
	}
	return m
}

// webhookQueue is the webhook dispatcher's view of the outbox. The sample
// backend's own sink is served by a dispatcher of its own, so that a strict
// policy for customers' URLs does not cut the server off from itself.
type webhookQueue struct {
	store         store.Store
	selfPrefix    string
	outsidePrefix bool
}

func (q webhookQueue) Claim(ctx context.Context, now, until time.Time, limit int) (out []webhook.Delivery, err error) {
	query := store.DueQuery{Kind: store.OutboxWebhook, Now: now.UTC(), Limit: 1, TargetPrefix: q.selfPrefix, OutsidePrefix: q.outsidePrefix}
	// Dispatchers look every second and after every commit with a webhook:
	// a look that finds nothing due must not take the writer.
	var due []store.OutboxItem
	if err := q.store.Read(ctx, func(tx store.Tx) (err error) { due, err = tx.DueOutbox(query); return err }); err != nil || len(due) == 0 {
		return nil, err
	}
	err = q.store.Write(ctx, func(tx store.Tx) error {
		out = out[:0]
		items, err := tx.ClaimOutbox(store.DueQuery{Kind: store.OutboxWebhook, Now: now.UTC(), Limit: limit,
			TargetPrefix: q.selfPrefix, OutsidePrefix: q.outsidePrefix}, until.UTC())
		for _, o := range items {
			out = append(out, webhook.Delivery{ID: o.ID, EventUUID: o.Ref, URL: o.Target, Params: o.Params, Attempts: o.Attempts})
		}
		return err
	})
	return out, err
}

func (q webhookQueue) Unclaim(ctx context.Context, ids []int64) error {
	return q.store.Write(ctx, func(tx store.Tx) error {
		for _, id := range ids {
			o, err := tx.GetOutbox(id)
			if errors.Is(err, store.ErrNotFound) {
				continue // reset meanwhile
			}
			if err != nil {
				return err
			}
			if o.State != store.OutboxPending {
				continue
			}
			o.NextAttempt = time.UnixMilli(0)
			if err := tx.UpdateOutbox(o); err != nil {
				return err
			}
		}
		return nil
	})
}

func (q webhookQueue) Record(ctx context.Context, id int64, a webhook.Attempt, done, final bool, next time.Time) error {
	return q.store.Write(ctx, func(tx store.Tx) error {
		o, err := tx.GetOutbox(id)
		if err != nil {
			return err
		}
		o.Attempts++
		o.LastStatus, o.LastError, o.DateUpdated = a.Status, a.Err, a.At
		switch {
		case done:
			o.State = store.OutboxDone
		case final:
			o.State = store.OutboxFailed
		default:
			o.NextAttempt = next
		}
		return tx.UpdateOutbox(o)
	})
}
