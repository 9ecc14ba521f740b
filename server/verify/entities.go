package verify

import (
	"context"
	"errors"

	"github.com/pushsim/pushsim/server/store"
)

// CreateEntity makes an entity for identity in a service.
func (e *Engine) CreateEntity(ctx context.Context, serviceSid, identity string) (en store.Entity, err error) {
	if err := checkIdentity(identity); err != nil {
		return en, err
	}
	err = e.write(ctx, func(tx store.Tx, _ *Queued) error {
		if _, err := serviceIn(tx, serviceSid); err != nil {
			return err
		}
		if _, err := tx.GetEntity(serviceSid, identity); err == nil {
			return newError(60306, 409, "Entity %s already exists", identity)
		}
		en, err = e.newEntity(tx, serviceSid, identity)
		return err
	})
	return en, err
}

func (e *Engine) newEntity(tx store.Tx, serviceSid, identity string) (store.Entity, error) {
	sid, err := e.sid(PrefixEntity)
	if err != nil {
		return store.Entity{}, err
	}
	now := e.Now()
	en := store.Entity{Sid: sid, ServiceSid: serviceSid, Identity: identity, DateCreated: now, DateUpdated: now}
	return en, tx.PutEntity(en)
}

// entityOrNew returns the entity, creating it when a phone enrolls the first
// factor for an identity.
func (e *Engine) entityOrNew(tx store.Tx, serviceSid, identity string) (store.Entity, error) {
	en, err := tx.GetEntity(serviceSid, identity)
	if errors.Is(err, store.ErrNotFound) {
		return e.newEntity(tx, serviceSid, identity)
	}
	return en, err
}

// GetEntity fetches an entity by identity.
func (e *Engine) GetEntity(ctx context.Context, serviceSid, identity string) (en store.Entity, err error) {
	err = e.read(ctx, func(tx store.Tx) error {
		en, err = entityIn(tx, serviceSid, identity)
		return err
	})
	return en, err
}

// ListEntities pages through a service's entities.
func (e *Engine) ListEntities(ctx context.Context, serviceSid string, p store.Page) (l store.Listed[store.Entity], err error) {
	err = e.read(ctx, func(tx store.Tx) error {
		if _, err := serviceIn(tx, serviceSid); err != nil {
			return err
		}
		l, err = tx.ListEntities(serviceSid, p)
		return err
	})
	return l, err
}

// DeleteEntity removes an entity with its factors and challenges.
func (e *Engine) DeleteEntity(ctx context.Context, serviceSid, identity string) error {
	return e.write(ctx, func(tx store.Tx, _ *Queued) error {
		en, err := entityIn(tx, serviceSid, identity)
		if err != nil {
			return err
		}
		return tx.DeleteEntity(en.Sid)
	})
}
