package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/pushsim/pushsim/server/store"
)

// SignatureFields is the Twilio-Verify-Signature-Fields header: the
// challenge's immutable top-level keys, which the phone signs as served.
const SignatureFields = "sid,account_sid,service_sid,entity_sid,identity,factor_sid,date_created,expiration_date,details,hidden_details,factor_type"

// DetailField is one label/value line of a challenge's details.
type DetailField struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// ChallengeInput is a backend's challenge request. Fields and HiddenDetails
// are the raw JSON strings the form carried.
type ChallengeInput struct {
	FactorSid      string
	ExpirationDate string
	Message        string
	Fields         []string
	HiddenDetails  string
}

// challengeDetails is the canonical details object.
type challengeDetails struct {
	Message string        `json:"message"`
	Fields  []DetailField `json:"fields"`
	Date    string        `json:"date,omitempty"`
}

func parseChallengeInput(in ChallengeInput, now time.Time) (fields []DetailField, hidden map[string]string, expires time.Time, err error) {
	if err = checkSID("FactorSid", in.FactorSid, PrefixFactor); err != nil {
		return
	}
	if err = requireText("Details.Message", in.Message, 256); err != nil {
		return
	}
	if len(in.Fields) > 20 {
		err = InvalidParam("Details.Fields", "must have at most 20 entries")
		return
	}
	fields = []DetailField{}
	if len(in.Fields) == 1 && strings.TrimSpace(in.Fields[0]) == "" {
		// A lone empty Details.Fields is what the helper libraries send for
		// a caller that gave no details (twilio-node serialises null so).
		in.Fields = nil
	}
	for _, raw := range in.Fields {
		var f DetailField
		// The probe holds the keys as sent: decoding into f alone would
		// match "Label" or "LABEL" too, and let a second spelling win.
		var probe map[string]json.RawMessage
		probeErr := json.Unmarshal([]byte(raw), &probe)
		_, hasLabel := probe["label"]
		_, hasValue := probe["value"]
		if probeErr != nil || len(probe) != 2 || !hasLabel || !hasValue || json.Unmarshal([]byte(raw), &f) != nil || f.Label == "" {
			err = InvalidParam("Details.Fields", `each entry must be a JSON object {"label": "...", "value": "..."}`)
			return
		}
		if err = requireText("Details.Fields label", f.Label, 36); err != nil {
			return
		}
		if err = optionalText("Details.Fields value", f.Value, 128); err != nil {
			return
		}
		fields = append(fields, f)
	}
	if in.HiddenDetails != "" {
		if hidden, err = stringMap("HiddenDetails", in.HiddenDetails, 1024); err != nil {
			return
		}
	}
	expires = now.Add(DefaultChallengeTTL)
	if in.ExpirationDate != "" {
		t, perr := time.Parse(time.RFC3339, in.ExpirationDate)
		if perr != nil {
			err = InvalidParam("ExpirationDate", "must be an RFC 3339 date-time")
			return
		}
		t = t.UTC().Truncate(time.Second)
		if !t.After(now) || t.After(now.Add(MaxChallengeTTL)) {
			err = InvalidParam("ExpirationDate", "must be in the future and at most 60 minutes after creation")
			return
		}
		expires = t
	}
	return
}

// CreateChallenge asks the user of a verified push factor to approve
// something, and queues the push to their phone.
func (e *Engine) CreateChallenge(ctx context.Context, serviceSid, identity string, in ChallengeInput) (c store.Challenge, err error) {
	now := e.Now()
	fields, hidden, expires, err := parseChallengeInput(in, now)
	if err != nil {
		return c, err
	}
	// Everything that only reads is done outside the writer, which every
	// create, answer and enrollment waits for; the write then checks the
	// one thing that can have changed meanwhile (the factor, still there
	// and verified) with an indexed look-up, and inserts.
	var svc store.Service
	var en store.Entity
	var f store.Factor
	err = e.read(ctx, func(tx store.Tx) (err error) {
		if svc, err = serviceIn(tx, serviceSid); err != nil {
			return err
		}
		if en, err = entityIn(tx, serviceSid, identity); err != nil {
			return err
		}
		f, err = factorIn(tx, en, in.FactorSid)
		return err
	})
	if err != nil {
		return c, err
	}
	if f.Status != StatusVerified {
		return c, ErrFactorUnverified
	}
	sid, err := newTimedSID(e.cfg.Rand, PrefixChallenge, now)
	if err != nil {
		return c, err
	}
	details := challengeDetails{Message: in.Message, Fields: fields}
	if includeDate(svc) {
		details.Date = now.Format(TimeFormat)
	}
	c = store.Challenge{
		Sid: sid, ServiceSid: serviceSid, EntitySid: en.Sid, Identity: identity, FactorSid: f.Sid,
		FactorType: f.FactorType, Status: StatusPending, RespondedReason: ReasonNone,
		DateCreated: now, DateUpdated: now, ExpirationDate: expires,
	}
	if c.Details, err = json.Marshal(details); err != nil {
		return c, err
	}
	if hidden != nil {
		if c.HiddenDetails, err = json.Marshal(hidden); err != nil {
			return c, err
		}
	}
	err = e.write(ctx, func(tx store.Tx, q *Queued) error {
		status, err := tx.FactorStatus(f.Sid)
		if err != nil {
			return notFound(err, "/Factors/"+f.Sid)
		}
		if status != StatusVerified {
			return ErrFactorUnverified
		}
		if limit := e.cfg.MaxPendingPerFactor; limit > 0 {
			pending, err := tx.CountPendingChallenges(f.Sid, now)
			if err != nil {
				return err
			}
			if pending >= limit {
				return TooManyPending(limit)
			}
		}
		if err := tx.PutChallenge(c); err != nil {
			return err
		}
		return e.queuePush(tx, q, f, c, c.Sid, in.Message, expires)
	})
	return c, err
}

// GetChallenge fetches a challenge, applying expiry first.
func (e *Engine) GetChallenge(ctx context.Context, serviceSid, identity, sid string) (store.Challenge, error) {
	c, err := readInEntity(ctx, e, serviceSid, identity, func(tx store.Tx, en store.Entity) (store.Challenge, error) {
		return challengeIn(tx, en, sid)
	})
	if err == nil && e.isLate(c) {
		if err := e.expire(ctx, c); err != nil {
			return c, err
		}
		return e.GetChallenge(ctx, serviceSid, identity, sid)
	}
	return c, err
}

func (e *Engine) isLate(c store.Challenge) bool {
	return c.Status == StatusPending && !e.Now().Before(c.ExpirationDate)
}

// expire marks a late pending challenge expired; losing the race to an
// answer or another expiry is fine.
func (e *Engine) expire(ctx context.Context, c store.Challenge) error {
	err := e.write(ctx, func(tx store.Tx, _ *Queued) error {
		c.Status = StatusExpired
		c.DateUpdated = e.Now()
		return tx.UpdateChallengeFrom(c, StatusPending)
	})
	if errors.Is(err, store.ErrConflict) {
		return nil
	}
	return err
}

// Responded reasons.
const (
	ReasonNone      = "none"
	ReasonNotNeeded = "not_needed"
)

// ExpireChallenge ends a pending challenge now, as if its expiration date
// had passed: an emulator control for demos and QA. A reason of not_needed
// says the user answered elsewhere (on another of their phones).
func (e *Engine) ExpireChallenge(ctx context.Context, serviceSid, identity, sid, reason string) (c store.Challenge, err error) {
	if reason == "" {
		reason = ReasonNone
	}
	if err := oneOf("RespondedReason", reason, ReasonNone, ReasonNotNeeded); err != nil {
		return c, err
	}
	err = e.write(ctx, func(tx store.Tx, _ *Queued) error {
		en, err := entityIn(tx, serviceSid, identity)
		if err != nil {
			return err
		}
		if c, err = challengeIn(tx, en, sid); err != nil {
			return err
		}
		if c.Status != StatusPending {
			return ErrChallengeResponded
		}
		c.Status, c.RespondedReason, c.DateUpdated = StatusExpired, reason, e.Now()
		return tx.UpdateChallengeFrom(c, StatusPending)
	})
	return c, err
}

// ChallengeFilter narrows ListChallenges.
type ChallengeFilter struct {
	FactorSid string
	Status    string
}

// ListChallenges pages through an entity's challenges after expiring any
// that are due, so Status=pending never lists a late one.
func (e *Engine) ListChallenges(ctx context.Context, serviceSid, identity string, f ChallengeFilter, p store.Page) (l store.Listed[store.Challenge], err error) {
	if f.FactorSid != "" {
		if err := checkSID("FactorSid", f.FactorSid, PrefixFactor); err != nil {
			return l, err
		}
	}
	if f.Status != "" {
		if err := oneOf("Status", f.Status, StatusPending, StatusExpired, StatusApproved, StatusDenied); err != nil {
			return l, err
		}
	}
	if err := e.expireDueOf(ctx, serviceSid, identity); err != nil {
		return l, err
	}
	return readInEntity(ctx, e, serviceSid, identity, func(tx store.Tx, en store.Entity) (store.Listed[store.Challenge], error) {
		return tx.ListChallenges(store.ChallengeFilter{EntitySid: en.Sid, FactorSid: f.FactorSid, Status: f.Status}, p)
	})
}

// expireDueOf marks one entity's late pending challenges expired. Phones
// list on every poll: it looks first, so the writer is taken only when one
// of this user's challenges is due, and never for everyone's.
func (e *Engine) expireDueOf(ctx context.Context, serviceSid, identity string) error {
	due, err := readInEntity(ctx, e, serviceSid, identity, func(tx store.Tx, en store.Entity) ([]store.Challenge, error) {
		return tx.PendingChallengesExpiredBy(en.Sid, e.Now(), 100)
	})
	if e, ok := AsError(err); ok && e.Status == http.StatusNotFound {
		return nil // the list answers the missing entity itself
	}
	if err != nil || len(due) == 0 {
		return err
	}
	return e.write(ctx, func(tx store.Tx, _ *Queued) error {
		for _, c := range due {
			c.Status, c.DateUpdated = StatusExpired, e.Now()
			// Answered or expired meanwhile: nothing left to do for it.
			if err := tx.UpdateChallengeFrom(c, StatusPending); err != nil && !errors.Is(err, store.ErrConflict) {
				return err
			}
		}
		return nil
	})
}

// ExpireDue marks up to limit late pending challenges expired and returns
// how many it marked: the sweeper calls it until it marks fewer.
func (e *Engine) ExpireDue(ctx context.Context, limit int) (n int, err error) {
	var due []store.Challenge
	err = e.read(ctx, func(tx store.Tx) (err error) {
		due, err = tx.PendingChallengesExpiredBy("", e.Now(), 1)
		return err
	})
	if err != nil || len(due) == 0 {
		return 0, err
	}
	err = e.write(ctx, func(tx store.Tx, _ *Queued) error {
		due, err := tx.PendingChallengesExpiredBy("", e.Now(), limit)
		if err != nil {
			return err
		}
		for _, c := range due {
			c.Status = StatusExpired
			c.DateUpdated = e.Now()
			if err := tx.UpdateChallengeFrom(c, StatusPending); err != nil {
				return err
			}
		}
		n = len(due)
		return nil
	})
	return n, err
}

// ChallengeAnswer is a response to a challenge: the signed payload, optional
// metadata, and the factor whose device token authenticated the request
// (empty when the account itself calls).
type ChallengeAnswer struct {
	AuthPayload  string
	Metadata     string
	DeviceFactor string
}

// AnswerChallenge verifies a signed approval or denial and moves the
// challenge out of pending exactly once.
func (e *Engine) AnswerChallenge(ctx context.Context, serviceSid, identity, sid string, in ChallengeAnswer) (c store.Challenge, err error) {
	if in.AuthPayload == "" {
		return c, MissingParam("AuthPayload")
	}
	var metadata map[string]string
	if in.Metadata != "" {
		if metadata, err = stringMap("Metadata", in.Metadata, 1024); err != nil {
			return c, err
		}
	}
	// The signature is checked against a snapshot read outside the
	// writer, so the writer never waits on elliptic-curve arithmetic; the
	// write then takes the answer only if the challenge is still the
	// pending one that was checked, and its factor still verified with
	// the same key.
	var f store.Factor
	late := false
	err = e.read(ctx, func(tx store.Tx) error {
		en, err := entityIn(tx, serviceSid, identity)
		if err != nil {
			return err
		}
		c, err = challengeIn(tx, en, sid)
		if err != nil {
			return err
		}
		if in.DeviceFactor != "" && in.DeviceFactor != c.FactorSid {
			return NotFound("/Challenges/" + sid)
		}
		if late, err = e.answerable(c); err != nil {
			return err
		}
		if f, err = factorIn(tx, en, c.FactorSid); err != nil {
			return ErrChallengeVerification
		}
		if f.Status != StatusVerified {
			return ErrFactorUnverified
		}
		return nil
	})
	var status string
	if err == nil {
		status, err = e.checkAnswer(c, f, in.AuthPayload)
	}
	if err == nil {
		err = e.write(ctx, func(tx store.Tx, q *Queued) error {
			svc, err := serviceIn(tx, serviceSid)
			if err != nil {
				return err
			}
			now, err := tx.GetChallenge(c.Sid)
			if err != nil {
				return err
			}
			if late, err = e.answerable(now); err != nil {
				return err
			}
			if !sameServed(now, c) {
				return ErrChallengeVerification // the phone signed what it was served before
			}
			cur, err := tx.GetFactor(f.Sid)
			if err != nil || cur.PublicKey != f.PublicKey {
				return ErrChallengeVerification
			}
			if cur.Status != StatusVerified {
				return ErrFactorUnverified
			}
			c = now
			t := e.Now()
			c.Status, c.DateUpdated, c.DateResponded = status, t, &t
			if metadata != nil {
				if c.Metadata, err = json.Marshal(metadata); err != nil {
					return err
				}
			}
			if err := tx.UpdateChallengeFrom(c, StatusPending); err != nil {
				if errors.Is(err, store.ErrConflict) {
					return ErrChallengeResponded
				}
				return err
			}
			event := EventChallengeApproved
			if status == StatusDenied {
				event = EventChallengeDenied
			}
			return e.emit(tx, q, svc, event, cur, &c)
		})
	}
	if late {
		if xerr := e.expire(ctx, c); xerr != nil {
			return c, xerr
		}
	}
	return c, err
}

// answerable refuses an answer to a challenge that is no longer pending;
// late reports one whose expiry has come but is not recorded yet.
func (e *Engine) answerable(c store.Challenge) (late bool, err error) {
	switch {
	case c.Status == StatusExpired:
		return false, ErrChallengeExpired
	case c.Status != StatusPending:
		return false, ErrChallengeResponded
	case e.isLate(c):
		return true, ErrChallengeExpired
	}
	return false, nil
}

// checkAnswer verifies the phone's signed answer against the challenge as
// served and the factor's key.
func (e *Engine) checkAnswer(c store.Challenge, f store.Factor, payload string) (status string, err error) {
	pub, err := e.keys.publicKey(f.PublicKey)
	if err != nil {
		return "", err
	}
	signed, err := SignedValues(c, e.cfg.AccountSid)
	if err != nil {
		return "", err
	}
	return verifyChallengePayload(pub, payload, signed)
}

// sameServed reports whether a challenge still serves what it served
// when an answer was checked against it.
func sameServed(now, checked store.Challenge) bool {
	return now.Status == checked.Status && now.DateUpdated.Equal(checked.DateUpdated) &&
		now.ExpirationDate.Equal(checked.ExpirationDate) && now.FactorSid == checked.FactorSid &&
		bytes.Equal(now.Details, checked.Details) && bytes.Equal(now.HiddenDetails, checked.HiddenDetails)
}

// SignedValues renders the signed fields of a challenge exactly as the API
// serves them, decoded, so what the phone signed can be compared with what
// was served.
func SignedValues(c store.Challenge, accountSid string) (map[string]any, error) {
	var details, hidden any
	if err := decodeJSON(c.Details, &details); err != nil {
		return nil, err
	}
	if len(c.HiddenDetails) > 0 {
		if err := decodeJSON(c.HiddenDetails, &hidden); err != nil {
			return nil, err
		}
	}
	return map[string]any{
		"sid":             c.Sid,
		"account_sid":     accountSid,
		"service_sid":     c.ServiceSid,
		"entity_sid":      c.EntitySid,
		"identity":        c.Identity,
		"factor_sid":      c.FactorSid,
		"date_created":    c.DateCreated.UTC().Format(TimeFormat),
		"expiration_date": c.ExpirationDate.UTC().Format(TimeFormat),
		"details":         details,
		"hidden_details":  hidden,
		"factor_type":     c.FactorType,
	}, nil
}

// NotificationInput is a request to push a challenge again.
type NotificationInput struct {
	TTL string // seconds as sent; empty means 300
}

// CreateNotification re-sends a pending challenge's push, at most three
// times per challenge. A TTL of 0 means deliver now or never.
func (e *Engine) CreateNotification(ctx context.Context, serviceSid, identity, challengeSid string, in NotificationInput) (n store.Notification, err error) {
	ttl := MaxNotificationTTL
	if in.TTL != "" {
		if ttl, err = parseIntIn("Ttl", in.TTL, 0, MaxNotificationTTL); err != nil {
			return n, err
		}
	}
	err = e.write(ctx, func(tx store.Tx, q *Queued) error {
		en, err := entityIn(tx, serviceSid, identity)
		if err != nil {
			return err
		}
		c, err := challengeIn(tx, en, challengeSid)
		if err != nil {
			return err
		}
		switch {
		case c.Status == StatusExpired || e.isLate(c):
			return ErrChallengeExpired
		case c.Status != StatusPending:
			return ErrChallengeResponded
		}
		count, err := tx.CountNotifications(c.Sid)
		if err != nil {
			return err
		}
		if count >= MaxNotificationsPerChallenge {
			return ErrNotificationsLimit
		}
		f, err := factorIn(tx, en, c.FactorSid)
		if err != nil {
			return err
		}
		now := e.Now()
		sid, err := newTimedSID(e.cfg.Rand, PrefixNotification, now)
		if err != nil {
			return err
		}
		n = store.Notification{Sid: sid, ServiceSid: serviceSid, EntitySid: en.Sid, Identity: identity,
			ChallengeSid: c.Sid, Priority: "high", TTL: ttl, DateCreated: now}
		if err := tx.PutNotification(n); err != nil {
			return err
		}
		expires := now.Add(time.Duration(ttl) * time.Second)
		if expires.After(c.ExpirationDate) {
			expires = c.ExpirationDate
		}
		var details challengeDetails
		if err := json.Unmarshal(c.Details, &details); err != nil {
			return err
		}
		return e.queuePush(tx, q, f, c, n.Sid, details.Message, expires)
	})
	return n, err
}

// PushMessageType is the data payload's type for a challenge push.
const PushMessageType = "verify_push_challenge"

// queuePush writes the push for a challenge into the outbox, unless the
// factor asked for no push. An expiry equal to the creation time marks a
// deliver-now-or-drop message (Ttl 0). The row is written as already handed
// over: OnPushes delivers it straight away, and only a restart makes it due
// again.
func (e *Engine) queuePush(tx store.Tx, q *Queued, f store.Factor, c store.Challenge, messageID, message string, expires time.Time) error {
	if f.NotificationPlatform == PlatformNone || f.NotificationToken == "" {
		return nil
	}
	now := e.Now()
	item := store.OutboxItem{
		Kind: store.OutboxPush, Ref: messageID, Target: f.NotificationToken,
		Params: map[string][]string{
			"type":          {PushMessageType},
			"challenge_sid": {c.Sid},
			"factor_sid":    {f.Sid},
			"message":       {message},
		},
		ExpiresAt: &expires, Attempts: 1, NextAttempt: HandedOverUntil(now, expires), DateCreated: now, DateUpdated: now,
	}
	id, err := tx.AddOutbox(item)
	item.ID = id
	q.Pushes = append(q.Pushes, item)
	return err
}

// HandedOverUntil is the next attempt time of a push handed to the push
// service, which delivers it to the phone now or when the phone connects:
// just after it can no longer be delivered, when it is due only to be
// marked dropped.
func HandedOverUntil(now, expires time.Time) time.Time {
	if expires.Before(now) {
		return now.Add(time.Second)
	}
	return expires.Add(time.Second)
}
