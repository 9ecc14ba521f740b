package server

import (
	"context"
	"time"

	"github.com/pushsim/pushsim/server/store"
)

// Pushes to the phones that are connected, from the outbox.
//
// The gateway holds only what is in flight to a connected phone. A push
// for a phone that is away stays a pending row in the outbox, on disk,
// and the phone is offered its pending rows when it connects: a server
// keeps in memory what its connected phones have not acked yet, not every
// push of every phone that has been away for a week.
//
// With several servers on one PostgreSQL database a phone is connected to
// one of them, which need not be the one that created the challenge, and
// the outbox is the only thing they share. So each server delivers, from
// the outbox, the pushes of the phones connected to it, and finds them
// three ways:
//
//   - at commit: the creating server hands the pushes of phones connected
//     to itself over at once; on a shared store the transaction also
//     announces the token (store.Shared, NOTIFY), delivered to every
//     server (LISTEN on a connection of its own), and a server holding
//     that token's phone reads the token's pending rows and hands them
//     over;
//   - connection: when a phone connects, its pending rows are read and
//     handed over, so a phone that was away, or that moved from a server
//     that died, or whose server restarted, gets what it missed;
//   - sweep: every few seconds, and whenever the listener (re)starts, the
//     pending rows of every phone connected here are read, which covers
//     announcements lost while the listener was down and pushes the
//     gateway gave back (push.DropOverloaded).
//
// A row stays pending until the phone acks it, through whichever server
// it is connected to; what a server has handed to its gateway it does
// not hand over again (the gateway keeps it until acked or expired), so
// commits, announcements, connections and sweeps do not make duplicates.
//
// The rows' next attempt time plays no part in this: a restart does not
// make them due, since the connection offer does the same for exactly the
// phones that come back. A row is due again only after its expiry, to be
// marked dropped.
type pushOffers struct {
	shared store.Shared // nil when the store is not shared
	// tokens are the tokens whose pending rows are to be read on the next
	// turn of the loop; resync asks for every connected token's.
	tokens map[string]bool
	resync bool
	// handed are the message ids handed to the gateway, with when they
	// expire, so that they are not handed over twice.
	handed    map[string]time.Time
	lastSweep time.Time
}

// offerSweepEvery is how often a server reads the pending pushes of all
// its phones, in case an announcement was lost or the gateway gave a push
// back.
const offerSweepEvery = 3 * time.Second

// Offers read the pending rows of offerTokens phones at a time, at most
// offerPerToken each on average: the gateway keeps no more than 64 per
// phone anyway (push.Config.MaxQueuePerToken). A phone has a handful
// pending (the pending cap); the bounds are for load tests without it,
// where thousands of phones come back with dozens each.
const (
	offerTokens   = 100
	offerPerToken = 64
)

// listen hears the store's announcements until ctx ends.
func (p *pushOutbox) listen(ctx context.Context) {
	p.offers.shared.ListenPushes(ctx, store.PushListener{
		Target: func(token string) {
			if p.gw.Connected(token) {
				p.offerTo(token)
			}
		},
		Resync: func() {
			p.mu.Lock()
			p.offers.resync = true
			p.mu.Unlock()
			p.wake()
		},
		Failed: func(err error) {
			p.log.Warn("push announcements: listening again after", "err", err)
		},
	})
}

// onConnect is the gateway's callback for a phone's new socket.
func (p *pushOutbox) onConnect(token string) { p.offerTo(token) }

func (p *pushOutbox) offerTo(token string) {
	p.mu.Lock()
	p.offers.tokens[token] = true
	p.mu.Unlock()
	p.wake()
}

// offer reads the pending pushes of the tokens to offer, or of every
// connected phone when a sweep is due, and hands over those not handed
// over yet.
func (p *pushOutbox) offer(ctx context.Context) error {
	p.mu.Lock()
	sweep := p.offers.resync || time.Since(p.offers.lastSweep) >= offerSweepEvery
	p.offers.resync = false
	tokens := make([]string, 0, len(p.offers.tokens))
	for token := range p.offers.tokens {
		tokens = append(tokens, token)
	}
	clear(p.offers.tokens)
	if sweep {
		p.offers.lastSweep = time.Now()
		now := p.now()
		for id, expires := range p.offers.handed {
			if now.After(expires) {
				delete(p.offers.handed, id)
			}
		}
	}
	p.mu.Unlock()
	if sweep {
		tokens = p.gw.Tokens()
	}
	if len(tokens) == 0 {
		return nil
	}
	for len(tokens) > 0 {
		chunk := tokens[:min(offerTokens, len(tokens))]
		tokens = tokens[len(chunk):]
		var pending []store.OutboxItem
		err := p.store.Read(ctx, func(tx store.Tx) (err error) {
			pending, err = tx.PendingOutboxFor(store.OutboxPush, chunk, len(chunk)*offerPerToken)
			return err
		})
		if err != nil {
			return err
		}
		p.handOver(p.localUnhanded(pending))
	}
	return nil
}

// localUnhanded keeps the live pushes for phones connected here that were
// not handed over yet, and notes them as handed over.
func (p *pushOutbox) localUnhanded(items []store.OutboxItem) []store.OutboxItem {
	now := p.now()
	var out []store.OutboxItem
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, o := range items {
		if o.ExpiresAt == nil || isStale(o, now) {
			continue // the flush marks it dropped
		}
		if _, done := p.finished[o.Ref]; done {
			continue
		}
		if _, handed := p.offers.handed[o.Ref]; handed || !p.gw.Connected(o.Target) {
			continue
		}
		p.offers.handed[o.Ref] = deliverableUntil(o)
		out = append(out, o)
	}
	return out
}

// forgetHanded drops the ids whose outcome is written: the store no
// longer lists them as pending.
func (p *pushOutbox) forgetHanded(ids []string) {
	p.mu.Lock()
	for _, id := range ids {
		delete(p.offers.handed, id)
	}
	p.mu.Unlock()
}
