package verify

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pushsim/pushsim/server/store"
)

// Challenge and factor statuses.
const (
	StatusPending    = "pending"
	StatusApproved   = "approved"
	StatusDenied     = "denied"
	StatusExpired    = "expired"
	StatusUnverified = "unverified"
	StatusVerified   = "verified"
)

// Limits from the Verify documentation.
const (
	MaxPushFactorsPerEntity      = 20
	MaxNotificationsPerChallenge = 3
	DefaultChallengeTTL          = 5 * time.Minute
	MaxChallengeTTL              = 60 * time.Minute
	DefaultAccessTokenTTL        = 60
	MinAccessTokenTTL            = 60
	MaxAccessTokenTTL            = 300
	MaxNotificationTTL           = 300
	DefaultUnverifiedFactorTTL   = time.Hour
	DefaultLeeway                = 60 * time.Second
	DefaultMaxPendingPerFactor   = 5
)

// TimeFormat is how every date goes on the wire.
const TimeFormat = "2006-01-02T15:04:05Z"

// Config sets up an Engine.
type Config struct {
	Store      store.Store
	AccountSid string
	// Now is the clock every rule reads; tests fix it.
	Now func() time.Time
	// Rand feeds SIDs, keys and UUIDs; tests make it deterministic.
	Rand io.Reader
	// UnverifiedFactorTTL is how long an unverified factor lives.
	UnverifiedFactorTTL time.Duration
	// Leeway is the clock tolerance on device tokens.
	Leeway time.Duration
	// MaxPendingPerFactor caps a factor's unanswered challenges, so that a
	// flood of prompts (push bombing) is refused instead of delivered:
	// 0 means DefaultMaxPendingPerFactor, a negative value no cap (load
	// tests that create far more challenges than anyone answers).
	MaxPendingPerFactor int
	// CheckWebhookURL, when set, vets webhook URLs (the delivery policy).
	CheckWebhookURL URLChecker
	// OnPushes is called with the pushes a transaction queued as soon as
	// it has committed, so they go out at once instead of waiting for a
	// poll. That is before the transaction is durable on SQLite
	// (store.Store.WriteThen): a phone hears of a challenge as soon as it
	// can fetch it, and nothing a crash could still undo is acted on,
	// since the phone's answer is a later write, durable only after the
	// challenge is. It must not write to the store.
	OnPushes func([]store.OutboxItem)
	// OnWebhooks is called once a transaction that queued webhook
	// deliveries is durable: a webhook tells another system of a change,
	// so it never goes out before the change is sure to stay.
	OnWebhooks func()
	// OnQueue, when set, is called inside the transaction that queued
	// pushes, before they can be seen outside it, so that whoever
	// delivers them from the outbox leaves them to OnPushes.
	OnQueue func([]store.OutboxItem)
}

// Engine applies the Verify rules on top of a Store.
type Engine struct {
	cfg    Config
	tokens tokenSealer
	keys   keyCache
}

const tokenKeySecret = "access-token-key"

// New returns an Engine, creating the access-token sealing key on first use.
func New(ctx context.Context, cfg Config) (*Engine, error) {
	if cfg.Store == nil || !IsSID(cfg.AccountSid, PrefixAccount) {
		return nil, errors.New("verify: a store and an AC account SID are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.UnverifiedFactorTTL <= 0 {
		cfg.UnverifiedFactorTTL = DefaultUnverifiedFactorTTL
	}
	if cfg.Leeway <= 0 {
		cfg.Leeway = DefaultLeeway
	}
	if cfg.MaxPendingPerFactor == 0 {
		cfg.MaxPendingPerFactor = DefaultMaxPendingPerFactor
	}
	e := &Engine{cfg: cfg}
	err := cfg.Store.Write(ctx, func(tx store.Tx) error {
		key, err := tx.Secret(tokenKeySecret)
		if errors.Is(err, store.ErrNotFound) {
			key = make([]byte, 32)
			if _, err := io.ReadFull(cfg.Rand, key); err != nil {
				return err
			}
			err = tx.PutSecret(tokenKeySecret, key)
		}
		if err != nil {
			return err
		}
		if len(key) != 32 {
			return errors.New("verify: stored access-token key is corrupt")
		}
		e.tokens = tokenSealer{key: key, keyID: fmt.Sprintf("pushsim-%x", key[:4])}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// AccountSid is the account every resource belongs to.
func (e *Engine) AccountSid() string { return e.cfg.AccountSid }

// Now is the engine's clock, truncated to the wire's one-second precision.
func (e *Engine) Now() time.Time { return e.cfg.Now().UTC().Truncate(time.Second) }

func (e *Engine) sid(prefix string) (string, error) { return newSID(e.cfg.Rand, prefix) }

func (e *Engine) read(ctx context.Context, fn func(store.Tx) error) error {
	return mapStoreErr(e.cfg.Store.Read(ctx, fn))
}

// write runs fn in a write transaction and hands what it queued to
// OnPushes once it has committed and to OnWebhooks once it is durable.
func (e *Engine) write(ctx context.Context, fn func(tx store.Tx, q *Queued) error) error {
	var q Queued
	err := e.cfg.Store.WriteThen(ctx, func(tx store.Tx) error {
		q = Queued{}
		if err := fn(tx, &q); err != nil {
			return err
		}
		if e.cfg.OnQueue != nil && len(q.Pushes) > 0 {
			e.cfg.OnQueue(q.Pushes)
		}
		return nil
	}, func() {
		if e.cfg.OnPushes != nil && len(q.Pushes) > 0 {
			e.cfg.OnPushes(q.Pushes)
		}
	})
	if err != nil {
		return mapStoreErr(err)
	}
	if e.cfg.OnWebhooks != nil && q.Webhooks {
		e.cfg.OnWebhooks()
	}
	return nil
}

// Queued is what a transaction put in the outbox: the pushes to hand to
// the push service once it commits (their rows are already marked as
// handed over, and come due again only if the server restarts), and
// whether webhook deliveries were added.
type Queued struct {
	Pushes   []store.OutboxItem
	Webhooks bool
}

// mapStoreErr lets *Error pass and turns a stray ErrNotFound into a 404.
func mapStoreErr(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := AsError(err); ok {
		return err
	}
	if errors.Is(err, store.ErrNotFound) {
		return NotFound("")
	}
	return err
}

// notFound converts store.ErrNotFound into the resource's 404 and passes
// other errors through.
func notFound(err error, what string) error {
	if errors.Is(err, store.ErrNotFound) {
		return NotFound(what)
	}
	return err
}

// serviceIn loads a service or reports it missing.
func serviceIn(tx store.Tx, sid string) (store.Service, error) {
	s, err := tx.GetService(sid)
	return s, notFound(err, "/Services/"+sid)
}

// entityIn finds an entity of a service. An entity exists only in a service
// that exists, so the service is read only to tell which of the two is
// missing.
func entityIn(tx store.Tx, serviceSid, identity string) (store.Entity, error) {
	en, err := tx.GetEntity(serviceSid, identity)
	if errors.Is(err, store.ErrNotFound) {
		if _, err := serviceIn(tx, serviceSid); err != nil {
			return store.Entity{}, err
		}
	}
	return en, notFound(err, "/Services/"+serviceSid+"/Entities/"+identity)
}

// readInEntity reads something that belongs to an entity, in one read
// transaction: the entity is looked up first so that a missing service or
// identity is reported as such.
func readInEntity[T any](ctx context.Context, e *Engine, serviceSid, identity string, get func(store.Tx, store.Entity) (T, error)) (v T, err error) {
	err = e.read(ctx, func(tx store.Tx) error {
		en, err := entityIn(tx, serviceSid, identity)
		if err != nil {
			return err
		}
		v, err = get(tx, en)
		return err
	})
	return v, err
}

func factorIn(tx store.Tx, en store.Entity, sid string) (store.Factor, error) {
	f, err := tx.GetFactor(sid)
	if err == nil && f.EntitySid != en.Sid {
		err = store.ErrNotFound
	}
	return f, notFound(err, "/Factors/"+sid)
}

func challengeIn(tx store.Tx, en store.Entity, sid string) (store.Challenge, error) {
	c, err := tx.GetChallenge(sid)
	if err == nil && c.EntitySid != en.Sid {
		err = store.ErrNotFound
	}
	return c, notFound(err, "/Challenges/"+sid)
}
