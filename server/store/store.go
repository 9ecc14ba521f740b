// Package store owns pushsim's persistent state: the records of every Verify
// resource, the single-use access-token ledger, server secrets and the durable
// outbox that feeds push delivery and webhooks. It knows no Verify rules; it
// keeps what it is given, transactionally.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"time"
)

// ErrNotFound reports a missing record.
var ErrNotFound = errors.New("store: not found")

// ErrConflict reports a write that lost against the state it expected, such
// as a challenge that is no longer pending.
var ErrConflict = errors.New("store: conflict")

// Service is a Verify Service. Settings keeps every accepted form parameter
// as sent (for example "Push.IncludeDate" or "Totp.Issuer") so it can be
// echoed back typed by the API layer.
type Service struct {
	Sid          string            `json:"sid"`
	AccountSid   string            `json:"account_sid"`
	FriendlyName string            `json:"friendly_name"`
	Settings     map[string]string `json:"settings,omitempty"`
	DateCreated  time.Time         `json:"date_created"`
	DateUpdated  time.Time         `json:"date_updated"`
}

// Entity is the user a factor belongs to, addressed by its identity.
type Entity struct {
	Sid         string    `json:"sid"`
	ServiceSid  string    `json:"service_sid"`
	Identity    string    `json:"identity"`
	DateCreated time.Time `json:"date_created"`
	DateUpdated time.Time `json:"date_updated"`
}

// Factor is an enrolled device key.
type Factor struct {
	Sid                  string            `json:"sid"`
	ServiceSid           string            `json:"service_sid"`
	EntitySid            string            `json:"entity_sid"`
	Identity             string            `json:"identity"`
	FriendlyName         string            `json:"friendly_name"`
	FactorType           string            `json:"factor_type"`
	Status               string            `json:"status"`
	PublicKey            string            `json:"public_key"` // base64 SPKI DER as enrolled
	Alg                  string            `json:"alg"`
	CredentialSid        string            `json:"credential_sid"`
	SdkVersion           string            `json:"sdk_version,omitempty"`
	AppID                string            `json:"app_id,omitempty"`
	NotificationPlatform string            `json:"notification_platform"`
	NotificationToken    string            `json:"notification_token,omitempty"`
	Metadata             map[string]string `json:"metadata,omitempty"`
	DateCreated          time.Time         `json:"date_created"`
	DateUpdated          time.Time         `json:"date_updated"`
}

// Challenge is one request for the user's approval. Details and
// HiddenDetails hold the canonical JSON rendering fixed at creation; they
// never change afterwards because the phone signs them.
type Challenge struct {
	Sid             string          `json:"sid"`
	ServiceSid      string          `json:"service_sid"`
	EntitySid       string          `json:"entity_sid"`
	Identity        string          `json:"identity"`
	FactorSid       string          `json:"factor_sid"`
	FactorType      string          `json:"factor_type"`
	Status          string          `json:"status"`
	RespondedReason string          `json:"responded_reason"`
	Details         json.RawMessage `json:"details"`
	HiddenDetails   json.RawMessage `json:"hidden_details,omitempty"`
	Metadata        json.RawMessage `json:"metadata,omitempty"`
	DateCreated     time.Time       `json:"date_created"`
	DateUpdated     time.Time       `json:"date_updated"`
	DateResponded   *time.Time      `json:"date_responded,omitempty"`
	ExpirationDate  time.Time       `json:"expiration_date"`
}

// Notification is one re-send of a challenge's push.
type Notification struct {
	Sid          string    `json:"sid"`
	ServiceSid   string    `json:"service_sid"`
	EntitySid    string    `json:"entity_sid"`
	Identity     string    `json:"identity"`
	ChallengeSid string    `json:"challenge_sid"`
	Priority     string    `json:"priority"`
	TTL          int       `json:"ttl"`
	DateCreated  time.Time `json:"date_created"`
}

// AccessToken is an enrollment token as issued. Used is set once a factor has
// been created with it.
type AccessToken struct {
	Sid                string    `json:"sid"`
	ServiceSid         string    `json:"service_sid"`
	EntityIdentity     string    `json:"entity_identity"`
	FactorType         string    `json:"factor_type"`
	FactorFriendlyName string    `json:"factor_friendly_name,omitempty"`
	Token              string    `json:"token"`
	TTL                int       `json:"ttl"`
	DateCreated        time.Time `json:"date_created"`
	Used               bool      `json:"used,omitempty"`
}

// Webhook is a subscription of a URL to a service's events.
type Webhook struct {
	Sid          string    `json:"sid"`
	ServiceSid   string    `json:"service_sid"`
	FriendlyName string    `json:"friendly_name"`
	EventTypes   []string  `json:"event_types"`
	Status       string    `json:"status"`
	Version      string    `json:"version"`
	WebhookURL   string    `json:"webhook_url"`
	DateCreated  time.Time `json:"date_created"`
	DateUpdated  time.Time `json:"date_updated"`
}

// Outbox kinds.
const (
	OutboxPush    = "push"
	OutboxWebhook = "webhook"
)

// Outbox states.
const (
	OutboxPending = "pending"
	OutboxDone    = "done"
	OutboxFailed  = "failed"
	OutboxDropped = "dropped"
)

// OutboxItem is a unit of delivery written in the same transaction as the
// state change it reports, so a crash can delay it but never lose it.
type OutboxItem struct {
	ID          int64
	Kind        string
	Ref         string     // push: the message id; webhook: the delivery uuid
	Target      string     // push: the registration token; webhook: the URL
	Params      url.Values // push: the data payload; webhook: the form body
	ExpiresAt   *time.Time // push only: nothing is delivered after this
	State       string
	Attempts    int
	NextAttempt time.Time
	LastStatus  int
	LastError   string
	DateCreated time.Time
	DateUpdated time.Time
}

// DueQuery selects due outbox items. With TargetPrefix set, only items
// whose target starts with it are listed, or, with OutsidePrefix, only
// those whose target does not.
type DueQuery struct {
	Kind          string
	Now           time.Time
	Limit         int
	TargetPrefix  string
	OutsidePrefix bool
}

// Page selects a window of a list ordered by creation. A zero After and
// Before means the first page.
type Page struct {
	Size       int
	Descending bool
	After      int64 // exclusive cursor in list order
	Before     int64 // exclusive cursor against list order (previous page)
}

// Listed is one page of results with the cursors needed to build the
// previous and next page links.
type Listed[T any] struct {
	Items   []T
	First   int64 // cursor of the first item, 0 when empty
	Last    int64 // cursor of the last item
	HasNext bool
	HasPrev bool
}

// ChallengeFilter narrows a challenge list.
type ChallengeFilter struct {
	EntitySid string
	FactorSid string
	Status    string
}

// Store opens transactions. Read transactions see a consistent snapshot;
// write transactions are serialised, which is what makes a challenge answer
// exactly-once.
type Store interface {
	Read(ctx context.Context, fn func(Tx) error) error
	Write(ctx context.Context, fn func(Tx) error) error
	// WriteThen is Write, and when fn succeeds it runs committed as soon
	// as fn's changes are committed, when every reader can see them. On
	// SQLite that is before they are durable: the log is written, its
	// fsync is still to come, and Write's answer waits for it. committed
	// runs on a goroutine of the store's own, in commit order, and must
	// not write to the store; WriteThen returns after it has run.
	WriteThen(ctx context.Context, fn func(Tx) error, committed func()) error
	// Checkpoint does the store's housekeeping off the commit path.
	Checkpoint(ctx context.Context) error
	Close() error
}

// Tx is the set of operations available inside a transaction. Put* inserts
// or replaces; Get* returns ErrNotFound when absent.
type Tx interface {
	Secret(name string) ([]byte, error)
	PutSecret(name string, value []byte) error
	// DeleteAll removes every resource and the whole outbox, keeping the
	// secrets (the account, the access-token key): a reset, not a new
	// installation.
	DeleteAll() error

	GetService(sid string) (Service, error)
	PutService(Service) error
	DeleteService(sid string) error
	ListServices(Page) (Listed[Service], error)

	GetEntity(serviceSid, identity string) (Entity, error)
	PutEntity(Entity) error
	DeleteEntity(sid string) error
	ListEntities(serviceSid string, p Page) (Listed[Entity], error)

	GetFactor(sid string) (Factor, error)
	// FactorStatus is a factor's status alone, without decoding it.
	FactorStatus(sid string) (string, error)
	FactorByCredential(credentialSid string) (Factor, error)
	PutFactor(Factor) error
	DeleteFactor(sid string) error
	ListFactors(entitySid string, p Page) (Listed[Factor], error)
	CountFactors(entitySid, factorType string) (int, error)
	// UnverifiedFactorsBefore lists unverified factors created before t.
	UnverifiedFactorsBefore(t time.Time, limit int) ([]Factor, error)

	GetChallenge(sid string) (Challenge, error)
	PutChallenge(Challenge) error
	// UpdateChallengeFrom replaces c only if its stored status is still
	// from; otherwise it returns ErrConflict.
	UpdateChallengeFrom(c Challenge, from string) error
	ListChallenges(f ChallengeFilter, p Page) (Listed[Challenge], error)
	// PendingChallengesExpiredBy lists pending challenges, of one entity
	// or with entitySid empty of all, whose expiration
	// date is not after t.
	PendingChallengesExpiredBy(entitySid string, t time.Time, limit int) ([]Challenge, error)
	// CountPendingChallenges counts a factor's pending challenges that
	// expire after now.
	CountPendingChallenges(factorSid string, now time.Time) (int, error)
	CountNotifications(challengeSid string) (int, error)
	PutNotification(Notification) error

	GetAccessToken(sid string) (AccessToken, error)
	PutAccessToken(AccessToken) error

	GetWebhook(sid string) (Webhook, error)
	PutWebhook(Webhook) error
	DeleteWebhook(sid string) error
	ListWebhooks(serviceSid string, p Page) (Listed[Webhook], error)

	AddOutbox(OutboxItem) (int64, error)
	UpdateOutbox(OutboxItem) error
	GetOutbox(id int64) (OutboxItem, error)
	// FinishOutbox moves the pending items of kind with these refs to
	// state, in one statement; refs that are unknown or already finished
	// are skipped.
	FinishOutbox(kind string, refs []string, state string, at time.Time) error
	// DueOutbox lists pending items whose next attempt is due.
	DueOutbox(q DueQuery) ([]OutboxItem, error)
	// RecentOutbox lists the newest items of kind, newest first.
	RecentOutbox(kind string, limit int) ([]OutboxItem, error)
	// ClaimOutbox lists what DueOutbox would and moves those items' next
	// attempt to until, in the same write: servers sharing the store do
	// not take an item another one is attempting until the claim lapses.
	// The items are returned with their NextAttempt at until.
	ClaimOutbox(q DueQuery, until time.Time) ([]OutboxItem, error)
	// PendingOutboxFor lists up to limit pending items of kind whose
	// target is one of targets, oldest first, due or not: what a server
	// holding those targets' connections may deliver.
	PendingOutboxFor(kind string, targets []string, limit int) ([]OutboxItem, error)
}

// Shared is a store that several servers use at once (PostgreSQL). Each
// server delivers pushes only to the phones connected to it, so every
// server must hear of every push, whichever server committed it.
type Shared interface {
	// ListenPushes calls l.Target with the target of each push item added
	// to the outbox, by any server, once its transaction has committed,
	// until ctx ends. Notices can be lost (while it reconnects after a
	// failure, which it reports to l.Failed), so l.Resync is called each
	// time it starts listening again: whatever was missed must then be
	// looked up. It returns ctx's error.
	ListenPushes(ctx context.Context, l PushListener) error
}

// PushListener is what Shared.ListenPushes calls.
type PushListener struct {
	Target func(target string)
	Resync func()
	Failed func(error)
}
