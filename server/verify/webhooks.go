package verify

import (
	"context"
	"net/url"

	"github.com/pushsim/pushsim/server/store"
)

// Webhook event types.
const (
	EventAll               = "*"
	EventFactorCreated     = "factor.created"
	EventFactorVerified    = "factor.verified"
	EventFactorDeleted     = "factor.deleted"
	EventChallengeApproved = "challenge.approved"
	EventChallengeDenied   = "challenge.denied"
)

var eventTypes = []string{EventAll, EventFactorCreated, EventFactorVerified, EventFactorDeleted, EventChallengeApproved, EventChallengeDenied}

// WebhookInput carries webhook parameters; nil/empty means "not sent".
type WebhookInput struct {
	FriendlyName *string
	EventTypes   []string
	WebhookURL   *string
	Status       *string
	Version      *string
}

// URLChecker vets a webhook URL before it is stored (the delivery policy).
type URLChecker func(ctx context.Context, rawURL string) error

func (e *Engine) checkWebhook(ctx context.Context, in WebhookInput, create bool) error {
	if create {
		switch {
		case in.FriendlyName == nil || *in.FriendlyName == "":
			return MissingParam("FriendlyName")
		case len(in.EventTypes) == 0:
			return MissingParam("EventTypes")
		case in.WebhookURL == nil || *in.WebhookURL == "":
			return MissingParam("WebhookUrl")
		}
	}
	if in.FriendlyName != nil {
		if err := requireText("FriendlyName", *in.FriendlyName, 64); err != nil {
			return err
		}
	}
	if len(in.EventTypes) > len(eventTypes) {
		return InvalidParam("EventTypes", "lists too many event types")
	}
	for _, t := range in.EventTypes {
		if err := oneOf("EventTypes", t, eventTypes...); err != nil {
			return err
		}
	}
	if in.Status != nil {
		if err := oneOf("Status", *in.Status, "enabled", "disabled"); err != nil {
			return err
		}
	}
	if in.Version != nil {
		if err := oneOf("Version", *in.Version, "v1", "v2"); err != nil {
			return err
		}
	}
	if in.WebhookURL != nil {
		u, err := url.Parse(*in.WebhookURL)
		if err != nil || len(*in.WebhookURL) > 2048 || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return InvalidParam("WebhookUrl", "must be an absolute http or https URL")
		}
		if e.cfg.CheckWebhookURL != nil {
			if err := e.cfg.CheckWebhookURL(ctx, *in.WebhookURL); err != nil {
				return InvalidParam("WebhookUrl", err.Error())
			}
		}
	}
	return nil
}

// CreateWebhook subscribes a URL to a service's events.
func (e *Engine) CreateWebhook(ctx context.Context, serviceSid string, in WebhookInput) (w store.Webhook, err error) {
	if err := e.checkWebhook(ctx, in, true); err != nil {
		return w, err
	}
	sid, err := e.sid(PrefixWebhook)
	if err != nil {
		return w, err
	}
	now := e.Now()
	w = store.Webhook{Sid: sid, ServiceSid: serviceSid, FriendlyName: *in.FriendlyName, EventTypes: in.EventTypes,
		Status: "enabled", Version: "v2", WebhookURL: *in.WebhookURL, DateCreated: now, DateUpdated: now}
	if in.Status != nil {
		w.Status = *in.Status
	}
	if in.Version != nil {
		w.Version = *in.Version
	}
	err = e.write(ctx, func(tx store.Tx, _ *Queued) error {
		if _, err := serviceIn(tx, serviceSid); err != nil {
			return err
		}
		return tx.PutWebhook(w)
	})
	return w, err
}

func webhookIn(tx store.Tx, serviceSid, sid string) (store.Webhook, error) {
	w, err := tx.GetWebhook(sid)
	if err == nil && w.ServiceSid != serviceSid {
		err = store.ErrNotFound
	}
	return w, notFound(err, "/Webhooks/"+sid)
}

// GetWebhook fetches a webhook.
func (e *Engine) GetWebhook(ctx context.Context, serviceSid, sid string) (w store.Webhook, err error) {
	err = e.read(ctx, func(tx store.Tx) error {
		w, err = webhookIn(tx, serviceSid, sid)
		return err
	})
	return w, err
}

// ListWebhooks pages through a service's webhooks.
func (e *Engine) ListWebhooks(ctx context.Context, serviceSid string, p store.Page) (l store.Listed[store.Webhook], err error) {
	err = e.read(ctx, func(tx store.Tx) error {
		if _, err := serviceIn(tx, serviceSid); err != nil {
			return err
		}
		l, err = tx.ListWebhooks(serviceSid, p)
		return err
	})
	return l, err
}

// UpdateWebhook changes the parameters that were sent.
func (e *Engine) UpdateWebhook(ctx context.Context, serviceSid, sid string, in WebhookInput) (w store.Webhook, err error) {
	if err := e.checkWebhook(ctx, in, false); err != nil {
		return w, err
	}
	err = e.write(ctx, func(tx store.Tx, _ *Queued) error {
		w, err = webhookIn(tx, serviceSid, sid)
		if err != nil {
			return err
		}
		if in.FriendlyName != nil {
			w.FriendlyName = *in.FriendlyName
		}
		if len(in.EventTypes) > 0 {
			w.EventTypes = in.EventTypes
		}
		if in.WebhookURL != nil {
			w.WebhookURL = *in.WebhookURL
		}
		if in.Status != nil {
			w.Status = *in.Status
		}
		if in.Version != nil {
			w.Version = *in.Version
		}
		w.DateUpdated = e.Now()
		return tx.PutWebhook(w)
	})
	return w, err
}

// DeleteWebhook removes a webhook.
func (e *Engine) DeleteWebhook(ctx context.Context, serviceSid, sid string) error {
	return e.write(ctx, func(tx store.Tx, _ *Queued) error {
		w, err := webhookIn(tx, serviceSid, sid)
		if err != nil {
			return err
		}
		return tx.DeleteWebhook(w.Sid)
	})
}

func subscribed(w store.Webhook, event string) bool {
	if w.Status != "enabled" {
		return false
	}
	for _, t := range w.EventTypes {
		if t == EventAll || t == event {
			return true
		}
	}
	return false
}

// emit queues one webhook delivery per enabled subscriber of event, in the
// transaction that made the change. Each delivery gets its own uuid, which
// stays the same on every retry.
func (e *Engine) emit(tx store.Tx, q *Queued, svc store.Service, event string, f store.Factor, c *store.Challenge) error {
	hooks, err := tx.ListWebhooks(svc.Sid, store.Page{Size: 1000})
	if err != nil {
		return err
	}
	now := e.Now()
	for _, w := range hooks.Items {
		if !subscribed(w, event) {
			continue
		}
		id, err := newUUID(e.cfg.Rand)
		if err != nil {
			return err
		}
		params := url.Values{
			"uuid":                 {id},
			"type":                 {event},
			"account_sid":          {e.cfg.AccountSid},
			"service_sid":          {svc.Sid},
			"entity_identity":      {f.Identity},
			"factor_sid":           {f.Sid},
			"factor_type":          {f.FactorType},
			"factor_friendly_name": {f.FriendlyName},
		}
		if c != nil {
			params.Set("challenge_sid", c.Sid)
			params.Set("challenge_details", string(c.Details))
			if len(c.HiddenDetails) > 0 {
				params.Set("challenge_hidden_details", string(c.HiddenDetails))
			}
			if len(c.Metadata) > 0 {
				params.Set("challenge_metadata", string(c.Metadata))
			}
		}
		if _, err := tx.AddOutbox(store.OutboxItem{Kind: store.OutboxWebhook, Ref: id, Target: w.WebhookURL,
			Params: params, NextAttempt: now, DateCreated: now}); err != nil {
			return err
		}
		q.Webhooks = true
	}
	return nil
}

// SweepUnverifiedFactors deletes factors never verified within the
// configured lifetime, reporting factor.deleted for each.
func (e *Engine) SweepUnverifiedFactors(ctx context.Context, limit int) (n int, err error) {
	err = e.write(ctx, func(tx store.Tx, q *Queued) error {
		stale, err := tx.UnverifiedFactorsBefore(e.Now().Add(-e.cfg.UnverifiedFactorTTL), limit)
		if err != nil {
			return err
		}
		for _, f := range stale {
			svc, err := tx.GetService(f.ServiceSid)
			if err != nil {
				return err
			}
			if err := tx.DeleteFactor(f.Sid); err != nil {
				return err
			}
			if err := e.emit(tx, q, svc, EventFactorDeleted, f, nil); err != nil {
				return err
			}
		}
		n = len(stale)
		return nil
	})
	return n, err
}
