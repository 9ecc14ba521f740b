package verify

import (
	"context"

	"github.com/pushsim/pushsim/server/store"
)

// settingKind says how a service setting is validated and echoed.
type settingKind int

const (
	settingText settingKind = iota
	settingBool
	settingInt
)

type serviceSetting struct {
	kind   settingKind
	lo, hi int    // settingInt range; settingText max length in hi
	prefix string // settingText: a SID prefix it must carry
}

// serviceSettings are the documented Service parameters besides
// FriendlyName. Push ones change behaviour; the rest are stored and echoed so
// that clients written against Twilio keep working.
var serviceSettings = map[string]serviceSetting{
	"CodeLength":                       {kind: settingInt, lo: 4, hi: 10},
	"LookupEnabled":                    {kind: settingBool},
	"SkipSmsToLandlines":               {kind: settingBool},
	"DtmfInputRequired":                {kind: settingBool},
	"Psd2Enabled":                      {kind: settingBool},
	"DoNotShareWarningEnabled":         {kind: settingBool},
	"CustomCodeEnabled":                {kind: settingBool},
	"VerifyEventSubscriptionEnabled":   {kind: settingBool},
	"TtsName":                          {hi: 255},
	"Push.IncludeDate":                 {kind: settingBool},
	"Push.ApnCredentialSid":            {prefix: PrefixCredential},
	"Push.FcmCredentialSid":            {prefix: PrefixCredential},
	"Totp.Issuer":                      {hi: 255},
	"Totp.TimeStep":                    {kind: settingInt, lo: 20, hi: 60},
	"Totp.CodeLength":                  {kind: settingInt, lo: 3, hi: 8},
	"Totp.Skew":                        {kind: settingInt, lo: 0, hi: 2},
	"DefaultTemplateSid":               {prefix: "HJ"},
	"Whatsapp.MsgServiceSid":           {prefix: "MG"},
	"Whatsapp.From":                    {hi: 64},
	"Passkeys.RelyingParty.Id":         {hi: 255},
	"Passkeys.RelyingParty.Name":       {hi: 255},
	"Passkeys.RelyingParty.Origins":    {hi: 2048},
	"Passkeys.AuthenticatorAttachment": {hi: 64},
	"Passkeys.DiscoverableCredentials": {hi: 64},
	"Passkeys.UserVerification":        {hi: 64},
}

// IsServiceSetting reports whether name is a Service parameter the engine
// stores; others are ignored, as Twilio ignores unknown parameters.
func IsServiceSetting(name string) bool {
	_, ok := serviceSettings[name]
	return ok
}

// ServiceSettingIsBool and ServiceSettingIsInt tell the renderer how to type
// a stored setting.
func ServiceSettingIsBool(name string) bool { return serviceSettings[name].kind == settingBool }

// ServiceSettingIsInt reports whether a setting is echoed as a number.
func ServiceSettingIsInt(name string) bool { return serviceSettings[name].kind == settingInt }

func checkSettings(settings map[string]string) error {
	for name, v := range settings {
		s, ok := serviceSettings[name]
		if !ok {
			continue
		}
		var err error
		switch {
		case s.kind == settingBool:
			_, err = parseBool(name, v)
		case s.kind == settingInt:
			_, err = parseIntIn(name, v, s.lo, s.hi)
		case s.prefix != "":
			err = checkSID(name, v, s.prefix)
		default:
			err = optionalText(name, v, s.hi)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func checkServiceName(name string) error { return requireText("FriendlyName", name, 32) }

// CreateService makes a new Verify service.
func (e *Engine) CreateService(ctx context.Context, friendlyName string, settings map[string]string) (store.Service, error) {
	if err := checkServiceName(friendlyName); err != nil {
		return store.Service{}, err
	}
	if err := checkSettings(settings); err != nil {
		return store.Service{}, err
	}
	sid, err := e.sid(PrefixService)
	if err != nil {
		return store.Service{}, err
	}
	now := e.Now()
	s := store.Service{Sid: sid, AccountSid: e.cfg.AccountSid, FriendlyName: friendlyName, Settings: map[string]string{}, DateCreated: now, DateUpdated: now}
	for k, v := range settings {
		if IsServiceSetting(k) {
			s.Settings[k] = v
		}
	}
	err = e.write(ctx, func(tx store.Tx, _ *Queued) error { return tx.PutService(s) })
	return s, err
}

// GetService fetches a service.
func (e *Engine) GetService(ctx context.Context, sid string) (s store.Service, err error) {
	err = e.read(ctx, func(tx store.Tx) error {
		s, err = serviceIn(tx, sid)
		return err
	})
	return s, err
}

// ListServices pages through services.
func (e *Engine) ListServices(ctx context.Context, p store.Page) (l store.Listed[store.Service], err error) {
	err = e.read(ctx, func(tx store.Tx) error {
		l, err = tx.ListServices(p)
		return err
	})
	return l, err
}

// UpdateService changes a service's name (when friendlyName is not nil) and
// any settings given.
func (e *Engine) UpdateService(ctx context.Context, sid string, friendlyName *string, settings map[string]string) (s store.Service, err error) {
	if friendlyName != nil {
		if err := checkServiceName(*friendlyName); err != nil {
			return s, err
		}
	}
	if err := checkSettings(settings); err != nil {
		return s, err
	}
	err = e.write(ctx, func(tx store.Tx, _ *Queued) error {
		s, err = serviceIn(tx, sid)
		if err != nil {
			return err
		}
		if friendlyName != nil {
			s.FriendlyName = *friendlyName
		}
		if s.Settings == nil {
			s.Settings = map[string]string{}
		}
		for k, v := range settings {
			if IsServiceSetting(k) {
				s.Settings[k] = v
			}
		}
		s.DateUpdated = e.Now()
		return tx.PutService(s)
	})
	return s, err
}

// DeleteService removes a service and everything in it.
func (e *Engine) DeleteService(ctx context.Context, sid string) error {
	return e.write(ctx, func(tx store.Tx, _ *Queued) error {
		return notFound(tx.DeleteService(sid), "/Services/"+sid)
	})
}

// includeDate reports whether the service asks for the deprecated
// details.date on its challenges.
func includeDate(s store.Service) bool {
	v, _ := parseBool("", s.Settings["Push.IncludeDate"])
	return v
}
