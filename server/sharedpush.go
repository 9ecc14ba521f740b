package server

import (
	"context"
	"time"

	"github.com/pushsim/pushsim/server/store"
)

// Pushes across servers sharing one database.
//
// On SQLite one server holds every phone, so a push goes from the
// committing transaction straight into its gateway, and a restart hands
// the gateway every pending row again. With several servers on one
// PostgreSQL database a phone is connected to one of them, which need
// not be the one that created the challenge, and the push outbox in the
// database is the only thing they share. So each server delivers, from
// the outbox, the pushes of the phones connected to it, and finds them
// three ways:
//
//   - announcement: the transaction that adds a push row announces its
//     token (store.Shared, NOTIFY), delivered at commit to every server
//     (LISTEN on a connection of its own); a server holding that token's
//     phone reads the token's pending rows and hands them to its gateway;
//   - connection: when a phone connects, its pending rows are read and
//     handed over, so a phone that moved from a server that died gets
//     what it missed;
//   - sweep: every few seconds, and whenever the listener (re)starts, the
//     pending rows of every phone connected here are read, which covers
//     announcements lost while the listener was down.
//
// The creating server hands the pushes of phones connected to itself
// over at once, as on SQLite, without waiting for its own announcement.
// A row stays pending until the phone acks it, through whichever server
// it is connected to; what a server has handed to its gateway it does
// not hand over again (the gateway keeps it until acked or expired), so
// announcements and sweeps do not make duplicates.
//
// The rows' next attempt time plays no part in this: on a shared store a
// restart does not rearm them, since the connection offer does the same
// for exactly the phones that come back.
type sharedPushes struct {
	store store.Shared // nil when the store is not shared
	// offers are the tokens whose pending rows are to be read on the next
	// turn of the loop; resync asks for every connected token's.
	offers map[string]bool
	resync bool
	// handed are the message ids handed to the gateway, with when they
	// expire, so that they are not handed over twice.
	handed    map[string]time.Time
	lastSweep time.Time
}

// sharedSweepEvery is how often a server sharing the store reads the
// pending pushes of all its phones, in case an announcement was lost.
const sharedSweepEvery = 3 * time.Second

// offerLimit bounds the rows one offer reads; a phone has a handful
// pending (the pending cap), so this is for load tests without the cap.
const offerLimit = 5000

// listen hears the store's announcements until ctx ends.
func (p *pushOutbox) listen(ctx context.Context) {
	p.shared.store.ListenPushes(ctx, store.PushListener{
		Target: func(token string) {
			if p.gw.Connected(token) {
				p.offerTo(token)
			}
		},
		Resync: func() {
			p.mu.Lock()
			p.shared.resync = true
			p.mu.Unlock()
			p.wake()
		},
		Failed: func(err error) {
			p.log.Warn("push announcements: listening again after", "err", err)
		},
	})
}

// onConnect is the gateway's callback for a phone's new socket.
func (p *pushOutbox) onConnect(token string) {
	if p.shared.store != nil {
		p.offerTo(token)
	}
}

func (p *pushOutbox) offerTo(token string) {
	p.mu.Lock()
	p.shared.offers[token] = true
	p.mu.Unlock()
	p.wake()
}

// offer reads the pending pushes of the tokens to offer, or of every
// connected phone when a sweep is due, and hands over those not handed
// over yet.
func (p *pushOutbox) offer(ctx context.Context) error {
	if p.shared.store == nil {
		return nil
	}
	p.mu.Lock()
	sweep := p.shared.resync || time.Since(p.shared.lastSweep) >= sharedSweepEvery
	p.shared.resync = false
	tokens := make([]string, 0, len(p.shared.offers))
	for token := range p.shared.offers {
		tokens = append(tokens, token)
	}
	clear(p.shared.offers)
	if sweep {
		p.shared.lastSweep = time.Now()
		now := p.now()
		for id, expires := range p.shared.handed {
			if now.After(expires) {
				delete(p.shared.handed, id)
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
	var pending []store.OutboxItem
	err := p.store.Read(ctx, func(tx store.Tx) (err error) {
		pending, err = tx.PendingOutboxFor(store.OutboxPush, tokens, offerLimit)
		return err
	})
	if err != nil {
		return err
	}
	p.handOver(p.localUnhanded(pending))
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
		if _, handed := p.shared.handed[o.Ref]; handed || !p.gw.Connected(o.Target) {
			continue
		}
		expires := *o.ExpiresAt
		if isNowOnly(o) {
			expires = o.DateCreated.Add(nowOnlyGrace)
		}
		p.shared.handed[o.Ref] = expires
		out = append(out, o)
	}
	return out
}

// forgetHanded drops the ids whose outcome is written: the store no
// longer lists them as pending.
func (p *pushOutbox) forgetHanded(ids []string) {
	if p.shared.store == nil {
		return
	}
	p.mu.Lock()
	for _, id := range ids {
		delete(p.shared.handed, id)
	}
	p.mu.Unlock()
}
