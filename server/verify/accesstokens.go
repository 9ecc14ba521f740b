package verify

import (
	"context"
	"time"

	"github.com/pushsim/pushsim/server/store"
)

// AccessTokenInput is what a backend asks for.
type AccessTokenInput struct {
	Identity           string
	FactorType         string
	FactorFriendlyName string
	TTL                string // seconds as sent; empty means the default
}

// CreateAccessToken issues a single-use enrollment token bound to the
// service, identity and factor type.
func (e *Engine) CreateAccessToken(ctx context.Context, serviceSid string, in AccessTokenInput) (at store.AccessToken, err error) {
	if err := checkIdentity(in.Identity); err != nil {
		return at, err
	}
	if in.FactorType == "" {
		return at, MissingParam("FactorType")
	}
	if err := oneOf("FactorType", in.FactorType, "push"); err != nil {
		return at, err
	}
	if err := optionalText("FactorFriendlyName", in.FactorFriendlyName, 64); err != nil {
		return at, err
	}
	ttl := DefaultAccessTokenTTL
	if in.TTL != "" {
		if ttl, err = parseIntIn("Ttl", in.TTL, MinAccessTokenTTL, MaxAccessTokenTTL); err != nil {
			return at, err
		}
	}
	sid, err := e.sid(PrefixAccessToken)
	if err != nil {
		return at, err
	}
	now := e.Now()
	token, err := e.tokens.seal(accessTokenClaims{
		ID: sid, AccountSid: e.cfg.AccountSid, ServiceSid: serviceSid, Identity: in.Identity,
		FactorType: in.FactorType, FriendlyName: in.FactorFriendlyName, Expiry: now.Add(time.Duration(ttl) * time.Second).Unix(),
	})
	if err != nil {
		return at, err
	}
	at = store.AccessToken{
		Sid: sid, ServiceSid: serviceSid, EntityIdentity: in.Identity, FactorType: in.FactorType,
		FactorFriendlyName: in.FactorFriendlyName, Token: token, TTL: ttl, DateCreated: now,
	}
	err = e.write(ctx, func(tx store.Tx, _ *Queued) error {
		if _, err := serviceIn(tx, serviceSid); err != nil {
			return err
		}
		return tx.PutAccessToken(at)
	})
	return at, err
}

// GetAccessToken fetches an issued token.
func (e *Engine) GetAccessToken(ctx context.Context, serviceSid, sid string) (at store.AccessToken, err error) {
	err = e.read(ctx, func(tx store.Tx) error {
		at, err = tx.GetAccessToken(sid)
		if err == nil && at.ServiceSid != serviceSid {
			err = store.ErrNotFound
		}
		return notFound(err, "/AccessTokens/"+sid)
	})
	return at, err
}

// checkAccessToken opens token and checks it against the enrollment it is
// used for, outside any transaction: a forged token costs the writer
// nothing. It returns the token's SID, for useAccessToken.
func (e *Engine) checkAccessToken(token, serviceSid, identity, factorType string) (string, error) {
	c, err := e.tokens.open(token)
	if err != nil {
		return "", ErrUnauthenticated
	}
	if c.ServiceSid != serviceSid || c.Identity != identity || c.FactorType != factorType || c.AccountSid != e.cfg.AccountSid {
		return "", ErrUnauthenticated
	}
	if e.Now().Unix() >= c.Expiry {
		return "", ErrUnauthenticated
	}
	return c.ID, nil
}

// useAccessToken marks the checked token sid used, inside the enrollment's
// transaction: a token enrolls at most one factor.
func useAccessToken(tx store.Tx, sid string) error {
	at, err := tx.GetAccessToken(sid)
	if err != nil || at.Used {
		return ErrUnauthenticated
	}
	at.Used = true
	return tx.PutAccessToken(at)
}
