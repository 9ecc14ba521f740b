package verify

import (
	"context"
	"crypto/ecdsa"

	"github.com/pushsim/pushsim/server/store"
)

// Notification platforms.
const (
	PlatformAPN  = "apn"
	PlatformFCM  = "fcm"
	PlatformNone = "none"
)

// FactorInput is a phone's enrollment request.
type FactorInput struct {
	AccessToken          string
	FriendlyName         string
	FactorType           string
	BindingAlg           string
	BindingPublicKey     string
	AppID                string
	NotificationPlatform string
	NotificationToken    string
	SdkVersion           string
	Metadata             string // JSON object of strings, optional
}

// FactorUpdate carries the optional parameters of a factor update; nil
// means "not sent".
type FactorUpdate struct {
	AuthPayload          *string
	FriendlyName         *string
	NotificationPlatform *string
	NotificationToken    *string
	SdkVersion           *string
}

func checkPushConfig(platform, token string) error {
	if err := oneOf("Config.NotificationPlatform", platform, PlatformAPN, PlatformFCM, PlatformNone); err != nil {
		return err
	}
	if platform == PlatformNone {
		return nil
	}
	if token == "" {
		return MissingParam("Config.NotificationToken")
	}
	if len(token) < 32 || len(token) > 255 {
		return InvalidParam("Config.NotificationToken", "must be 32 to 255 characters")
	}
	return optionalText("Config.NotificationToken", token, 255)
}

// CreateFactor enrolls a push factor with an access token, creating the
// entity if it is new. The factor starts unverified.
func (e *Engine) CreateFactor(ctx context.Context, serviceSid, identity string, in FactorInput) (f store.Factor, err error) {
	if err := checkIdentity(identity); err != nil {
		return f, err
	}
	if err := requireText("FriendlyName", in.FriendlyName, 64); err != nil {
		return f, err
	}
	if in.FactorType == "" {
		return f, MissingParam("FactorType")
	}
	if err := oneOf("FactorType", in.FactorType, "push"); err != nil {
		return f, err
	}
	if in.BindingAlg != "ES256" {
		return f, ErrInvalidBinding
	}
	if _, err := ParsePublicKey(in.BindingPublicKey); err != nil {
		return f, err
	}
	if err := requireText("Config.AppId", in.AppID, 100); err != nil {
		return f, err
	}
	if err := requireText("Config.SdkVersion", in.SdkVersion, 64); err != nil {
		return f, err
	}
	if in.NotificationPlatform == "" {
		return f, MissingParam("Config.NotificationPlatform")
	}
	if err := checkPushConfig(in.NotificationPlatform, in.NotificationToken); err != nil {
		return f, err
	}
	var metadata map[string]string
	if in.Metadata != "" {
		if metadata, err = stringMap("Metadata", in.Metadata, 1024); err != nil {
			return f, err
		}
	}
	token := in.NotificationToken
	if in.NotificationPlatform == PlatformNone {
		token = ""
	}
	tokenSid, err := e.checkAccessToken(in.AccessToken, serviceSid, identity, in.FactorType)
	if err != nil {
		return f, err
	}
	err = e.write(ctx, func(tx store.Tx, q *Queued) error {
		svc, err := serviceIn(tx, serviceSid)
		if err != nil {
			return err
		}
		if err := useAccessToken(tx, tokenSid); err != nil {
			return err
		}
		en, err := e.entityOrNew(tx, serviceSid, identity)
		if err != nil {
			return err
		}
		n, err := tx.CountFactors(en.Sid, in.FactorType)
		if err != nil {
			return err
		}
		if n >= MaxPushFactorsPerEntity {
			return ErrTooManyPushFactors
		}
		existing, err := tx.ListFactors(en.Sid, store.Page{Size: MaxPushFactorsPerEntity})
		if err != nil {
			return err
		}
		for _, other := range existing.Items {
			if other.PublicKey == in.BindingPublicKey {
				return ErrFactorExists
			}
		}
		sid, err := e.sid(PrefixFactor)
		if err != nil {
			return err
		}
		cred, err := e.sid(PrefixCredential)
		if err != nil {
			return err
		}
		now := e.Now()
		f = store.Factor{
			Sid: sid, ServiceSid: serviceSid, EntitySid: en.Sid, Identity: identity,
			FriendlyName: in.FriendlyName, FactorType: in.FactorType, Status: StatusUnverified,
			PublicKey: in.BindingPublicKey, Alg: in.BindingAlg, CredentialSid: cred,
			SdkVersion: in.SdkVersion, AppID: in.AppID, NotificationPlatform: in.NotificationPlatform,
			NotificationToken: token, Metadata: metadata, DateCreated: now, DateUpdated: now,
		}
		if err := tx.PutFactor(f); err != nil {
			return err
		}
		return e.emit(tx, q, svc, EventFactorCreated, f, nil)
	})
	return f, err
}

// GetFactor fetches a factor of an entity.
func (e *Engine) GetFactor(ctx context.Context, serviceSid, identity, sid string) (store.Factor, error) {
	return readInEntity(ctx, e, serviceSid, identity, func(tx store.Tx, en store.Entity) (store.Factor, error) {
		return factorIn(tx, en, sid)
	})
}

// ListFactors pages through an entity's factors.
func (e *Engine) ListFactors(ctx context.Context, serviceSid, identity string, p store.Page) (store.Listed[store.Factor], error) {
	return readInEntity(ctx, e, serviceSid, identity, func(tx store.Tx, en store.Entity) (store.Listed[store.Factor], error) {
		return tx.ListFactors(en.Sid, p)
	})
}

// UpdateFactor verifies a factor (AuthPayload) and/or changes its name and
// push configuration. Unknown parameters never reach here: the SDK's
// Config.AppId on update is ignored, as Twilio ignores it.
func (e *Engine) UpdateFactor(ctx context.Context, serviceSid, identity, sid string, in FactorUpdate) (f store.Factor, err error) {
	if in.FriendlyName != nil {
		if err := requireText("FriendlyName", *in.FriendlyName, 64); err != nil {
			return f, err
		}
	}
	if in.SdkVersion != nil {
		if err := requireText("Config.SdkVersion", *in.SdkVersion, 64); err != nil {
			return f, err
		}
	}
	err = e.write(ctx, func(tx store.Tx, q *Queued) error {
		svc, err := serviceIn(tx, serviceSid)
		if err != nil {
			return err
		}
		en, err := entityIn(tx, serviceSid, identity)
		if err != nil {
			return err
		}
		f, err = factorIn(tx, en, sid)
		if err != nil {
			return err
		}
		verified := false
		if in.AuthPayload != nil {
			pub, err := e.keys.publicKey(f.PublicKey)
			if err != nil {
				return err
			}
			if !verifyFactorPayload(pub, f.Sid, *in.AuthPayload) {
				return ErrFactorVerification
			}
			verified = f.Status != StatusVerified
			f.Status = StatusVerified
		}
		if in.FriendlyName != nil {
			f.FriendlyName = *in.FriendlyName
		}
		if in.SdkVersion != nil {
			f.SdkVersion = *in.SdkVersion
		}
		if in.NotificationPlatform != nil || in.NotificationToken != nil {
			platform, token := f.NotificationPlatform, f.NotificationToken
			if in.NotificationPlatform != nil {
				platform = *in.NotificationPlatform
			}
			if in.NotificationToken != nil {
				token = *in.NotificationToken
			}
			if err := checkPushConfig(platform, token); err != nil {
				return err
			}
			if platform == PlatformNone {
				token = ""
			}
			f.NotificationPlatform, f.NotificationToken = platform, token
		}
		f.DateUpdated = e.Now()
		if err := tx.PutFactor(f); err != nil {
			return err
		}
		if verified {
			return e.emit(tx, q, svc, EventFactorVerified, f, nil)
		}
		return nil
	})
	return f, err
}

// DeleteFactor removes a factor.
func (e *Engine) DeleteFactor(ctx context.Context, serviceSid, identity, sid string) error {
	return e.write(ctx, func(tx store.Tx, q *Queued) error {
		svc, err := serviceIn(tx, serviceSid)
		if err != nil {
			return err
		}
		en, err := entityIn(tx, serviceSid, identity)
		if err != nil {
			return err
		}
		f, err := factorIn(tx, en, sid)
		if err != nil {
			return err
		}
		if err := tx.DeleteFactor(f.Sid); err != nil {
			return err
		}
		return e.emit(tx, q, svc, EventFactorDeleted, f, nil)
	})
}

// AuthenticateDevice checks a phone's device token for a request under
// serviceSid/identity and returns the factor whose key signed it. Every
// failure is the same ErrUnauthenticated, so nothing leaks about which part
// was wrong.
func (e *Engine) AuthenticateDevice(ctx context.Context, serviceSid, identity, token string) (f store.Factor, err error) {
	jwt, err := ParseDeviceJWT(token)
	if err != nil {
		return f, ErrUnauthenticated
	}
	err = e.read(ctx, func(tx store.Tx) error {
		f, err = tx.FactorByCredential(jwt.KeyID)
		return err
	})
	if err != nil || f.ServiceSid != serviceSid || f.Identity != identity {
		return store.Factor{}, ErrUnauthenticated
	}
	var pub *ecdsa.PublicKey
	if pub, err = e.keys.publicKey(f.PublicKey); err != nil {
		return store.Factor{}, ErrUnauthenticated
	}
	if err := jwt.Verify(pub, e.cfg.AccountSid, e.cfg.Now(), e.cfg.Leeway); err != nil {
		return store.Factor{}, ErrUnauthenticated
	}
	return f, nil
}
