package api

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/pushsim/pushsim/server/store"
	"github.com/pushsim/pushsim/server/verify"
)

// wireTime is a date as Verify sends it: UTC, whole seconds, "Z".
type wireTime time.Time

func (t wireTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format(verify.TimeFormat) + `"`), nil
}

func wt(t time.Time) wireTime { return wireTime(t) }

func wtp(t *time.Time) *wireTime {
	if t == nil {
		return nil
	}
	w := wireTime(*t)
	return &w
}

// rawOrNull renders stored JSON, or null when there is none.
func rawOrNull(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return b
}

type serviceJSON struct {
	Sid                            string            `json:"sid"`
	AccountSid                     string            `json:"account_sid"`
	FriendlyName                   string            `json:"friendly_name"`
	CodeLength                     any               `json:"code_length"`
	LookupEnabled                  any               `json:"lookup_enabled"`
	Psd2Enabled                    any               `json:"psd2_enabled"`
	SkipSmsToLandlines             any               `json:"skip_sms_to_landlines"`
	DtmfInputRequired              any               `json:"dtmf_input_required"`
	TtsName                        any               `json:"tts_name"`
	DoNotShareWarningEnabled       any               `json:"do_not_share_warning_enabled"`
	CustomCodeEnabled              any               `json:"custom_code_enabled"`
	Push                           map[string]any    `json:"push"`
	Totp                           map[string]any    `json:"totp"`
	DefaultTemplateSid             any               `json:"default_template_sid"`
	Whatsapp                       map[string]any    `json:"whatsapp"`
	Passkeys                       map[string]any    `json:"passkeys"`
	VerifyEventSubscriptionEnabled any               `json:"verify_event_subscription_enabled"`
	DateCreated                    wireTime          `json:"date_created"`
	DateUpdated                    wireTime          `json:"date_updated"`
	URL                            string            `json:"url"`
	Links                          map[string]string `json:"links"`
}

// setting echoes a stored service setting typed as the API documents it,
// or def when it was never set.
func setting(s store.Service, name string, def any) any {
	v, ok := s.Settings[name]
	if !ok {
		return def
	}
	switch {
	case verify.ServiceSettingIsBool(name):
		return strings.EqualFold(v, "true")
	case verify.ServiceSettingIsInt(name):
		n, _ := strconv.Atoi(v)
		return n
	}
	return v
}

func (a *API) service(s store.Service) serviceJSON {
	u := a.url("/v2/Services/" + s.Sid)
	var origins any
	if o, ok := s.Settings["Passkeys.RelyingParty.Origins"]; ok {
		origins = strings.Split(o, ",")
	}
	return serviceJSON{
		Sid: s.Sid, AccountSid: s.AccountSid, FriendlyName: s.FriendlyName,
		CodeLength:                     setting(s, "CodeLength", 6),
		LookupEnabled:                  setting(s, "LookupEnabled", false),
		Psd2Enabled:                    setting(s, "Psd2Enabled", false),
		SkipSmsToLandlines:             setting(s, "SkipSmsToLandlines", false),
		DtmfInputRequired:              setting(s, "DtmfInputRequired", true),
		TtsName:                        setting(s, "TtsName", nil),
		DoNotShareWarningEnabled:       setting(s, "DoNotShareWarningEnabled", false),
		CustomCodeEnabled:              setting(s, "CustomCodeEnabled", false),
		VerifyEventSubscriptionEnabled: setting(s, "VerifyEventSubscriptionEnabled", false),
		DefaultTemplateSid:             setting(s, "DefaultTemplateSid", nil),
		Push: map[string]any{
			"include_date":       setting(s, "Push.IncludeDate", false),
			"apn_credential_sid": setting(s, "Push.ApnCredentialSid", nil),
			"fcm_credential_sid": setting(s, "Push.FcmCredentialSid", nil),
		},
		Totp: map[string]any{
			"issuer":      setting(s, "Totp.Issuer", nil),
			"time_step":   setting(s, "Totp.TimeStep", nil),
			"code_length": setting(s, "Totp.CodeLength", nil),
			"skew":        setting(s, "Totp.Skew", nil),
		},
		Whatsapp: map[string]any{
			"msg_service_sid": setting(s, "Whatsapp.MsgServiceSid", nil),
			"from":            setting(s, "Whatsapp.From", nil),
		},
		Passkeys: map[string]any{
			"relying_party": map[string]any{
				"id":      setting(s, "Passkeys.RelyingParty.Id", nil),
				"name":    setting(s, "Passkeys.RelyingParty.Name", nil),
				"origins": origins,
			},
			"authenticator_attachment": setting(s, "Passkeys.AuthenticatorAttachment", nil),
			"discoverable_credentials": setting(s, "Passkeys.DiscoverableCredentials", nil),
			"user_verification":        setting(s, "Passkeys.UserVerification", nil),
		},
		DateCreated: wt(s.DateCreated), DateUpdated: wt(s.DateUpdated), URL: u,
		Links: map[string]string{
			"verification_checks":      u + "/VerificationCheck",
			"verifications":            u + "/Verifications",
			"rate_limits":              u + "/RateLimits",
			"messaging_configurations": u + "/MessagingConfigurations",
			"entities":                 u + "/Entities",
			"webhooks":                 u + "/Webhooks",
			"access_tokens":            u + "/AccessTokens",
		},
	}
}

type entityJSON struct {
	Sid         string            `json:"sid"`
	Identity    string            `json:"identity"`
	AccountSid  string            `json:"account_sid"`
	ServiceSid  string            `json:"service_sid"`
	DateCreated wireTime          `json:"date_created"`
	DateUpdated wireTime          `json:"date_updated"`
	URL         string            `json:"url"`
	Links       map[string]string `json:"links"`
}

func (a *API) entityPath(serviceSid, identity string) string {
	return "/v2/Services/" + serviceSid + "/Entities/" + identity
}

func (a *API) entity(e store.Entity) entityJSON {
	u := a.url(a.entityPath(e.ServiceSid, e.Identity))
	return entityJSON{Sid: e.Sid, Identity: e.Identity, AccountSid: a.engine.AccountSid(), ServiceSid: e.ServiceSid,
		DateCreated: wt(e.DateCreated), DateUpdated: wt(e.DateUpdated), URL: u,
		Links: map[string]string{"factors": u + "/Factors", "new_factors": u + "/Factors", "challenges": u + "/Challenges"}}
}

type factorJSON struct {
	Sid          string            `json:"sid"`
	AccountSid   string            `json:"account_sid"`
	ServiceSid   string            `json:"service_sid"`
	EntitySid    string            `json:"entity_sid"`
	Identity     string            `json:"identity"`
	Binding      any               `json:"binding,omitempty"`
	DateCreated  wireTime          `json:"date_created"`
	DateUpdated  wireTime          `json:"date_updated"`
	FriendlyName string            `json:"friendly_name"`
	Status       string            `json:"status"`
	FactorType   string            `json:"factor_type"`
	Config       factorConfigJSON  `json:"config"`
	Metadata     map[string]string `json:"metadata"`
	URL          string            `json:"url"`
}

type factorConfigJSON struct {
	SdkVersion           string  `json:"sdk_version"`
	AppID                string  `json:"app_id"`
	NotificationPlatform string  `json:"notification_platform"`
	NotificationToken    *string `json:"notification_token"`
	CredentialSid        string  `json:"credential_sid"`
}

func (a *API) factor(f store.Factor) factorJSON {
	var token *string
	if f.NotificationToken != "" {
		token = &f.NotificationToken
	}
	return factorJSON{
		Sid: f.Sid, AccountSid: a.engine.AccountSid(), ServiceSid: f.ServiceSid, EntitySid: f.EntitySid, Identity: f.Identity,
		DateCreated: wt(f.DateCreated), DateUpdated: wt(f.DateUpdated), FriendlyName: f.FriendlyName,
		Status: f.Status, FactorType: f.FactorType,
		Config: factorConfigJSON{SdkVersion: f.SdkVersion, AppID: f.AppID, NotificationPlatform: f.NotificationPlatform,
			NotificationToken: token, CredentialSid: f.CredentialSid},
		Metadata: f.Metadata,
		URL:      a.url(a.entityPath(f.ServiceSid, f.Identity) + "/Factors/" + f.Sid),
	}
}

// newFactor is the create response: the only one that shows the binding.
func (a *API) newFactor(f store.Factor) any {
	j := a.factor(f)
	j.Binding = map[string]string{"alg": f.Alg, "public_key": f.PublicKey}
	// options is null for push factors; the field must be present.
	return struct {
		factorJSON
		Options *struct{} `json:"options"`
	}{j, nil}
}

type challengeJSON struct {
	Sid             string            `json:"sid"`
	AccountSid      string            `json:"account_sid"`
	ServiceSid      string            `json:"service_sid"`
	EntitySid       string            `json:"entity_sid"`
	Identity        string            `json:"identity"`
	FactorSid       string            `json:"factor_sid"`
	DateCreated     wireTime          `json:"date_created"`
	DateUpdated     wireTime          `json:"date_updated"`
	DateResponded   *wireTime         `json:"date_responded"`
	ExpirationDate  wireTime          `json:"expiration_date"`
	Status          string            `json:"status"`
	RespondedReason string            `json:"responded_reason"`
	Details         json.RawMessage   `json:"details"`
	HiddenDetails   json.RawMessage   `json:"hidden_details"`
	Metadata        json.RawMessage   `json:"metadata"`
	FactorType      string            `json:"factor_type"`
	URL             string            `json:"url"`
	Links           map[string]string `json:"links"`
}

// Challenge renders c exactly as GET .../Challenges/{Sid} answers it, for
// the emulator's controls.
func (a *API) Challenge(c store.Challenge) any { return a.challenge(c) }

func (a *API) challenge(c store.Challenge) challengeJSON {
	u := a.url(a.entityPath(c.ServiceSid, c.Identity) + "/Challenges/" + c.Sid)
	return challengeJSON{
		Sid: c.Sid, AccountSid: a.engine.AccountSid(), ServiceSid: c.ServiceSid, EntitySid: c.EntitySid,
		Identity: c.Identity, FactorSid: c.FactorSid, DateCreated: wt(c.DateCreated), DateUpdated: wt(c.DateUpdated),
		DateResponded: wtp(c.DateResponded), ExpirationDate: wt(c.ExpirationDate), Status: c.Status,
		RespondedReason: c.RespondedReason, Details: c.Details, HiddenDetails: rawOrNull(c.HiddenDetails),
		Metadata: rawOrNull(c.Metadata), FactorType: c.FactorType, URL: u,
		Links: map[string]string{"notifications": u + "/Notifications"},
	}
}

type notificationJSON struct {
	Sid          string   `json:"sid"`
	AccountSid   string   `json:"account_sid"`
	ServiceSid   string   `json:"service_sid"`
	EntitySid    string   `json:"entity_sid"`
	Identity     string   `json:"identity"`
	ChallengeSid string   `json:"challenge_sid"`
	Priority     string   `json:"priority"`
	TTL          int      `json:"ttl"`
	DateCreated  wireTime `json:"date_created"`
}

func (a *API) notification(n store.Notification) notificationJSON {
	return notificationJSON{Sid: n.Sid, AccountSid: a.engine.AccountSid(), ServiceSid: n.ServiceSid, EntitySid: n.EntitySid,
		Identity: n.Identity, ChallengeSid: n.ChallengeSid, Priority: n.Priority, TTL: n.TTL, DateCreated: wt(n.DateCreated)}
}

type accessTokenJSON struct {
	Sid                string   `json:"sid"`
	AccountSid         string   `json:"account_sid"`
	ServiceSid         string   `json:"service_sid"`
	EntityIdentity     string   `json:"entity_identity"`
	FactorType         string   `json:"factor_type"`
	FactorFriendlyName *string  `json:"factor_friendly_name"`
	Token              string   `json:"token"`
	URL                string   `json:"url"`
	TTL                int      `json:"ttl"`
	DateCreated        wireTime `json:"date_created"`
}

func (a *API) accessToken(t store.AccessToken) accessTokenJSON {
	var name *string
	if t.FactorFriendlyName != "" {
		name = &t.FactorFriendlyName
	}
	return accessTokenJSON{Sid: t.Sid, AccountSid: a.engine.AccountSid(), ServiceSid: t.ServiceSid,
		EntityIdentity: t.EntityIdentity, FactorType: t.FactorType, FactorFriendlyName: name, Token: t.Token,
		URL: a.url("/v2/Services/" + t.ServiceSid + "/AccessTokens/" + t.Sid), TTL: t.TTL, DateCreated: wt(t.DateCreated)}
}

type webhookJSON struct {
	Sid           string   `json:"sid"`
	ServiceSid    string   `json:"service_sid"`
	AccountSid    string   `json:"account_sid"`
	FriendlyName  string   `json:"friendly_name"`
	EventTypes    []string `json:"event_types"`
	Status        string   `json:"status"`
	Version       string   `json:"version"`
	WebhookURL    string   `json:"webhook_url"`
	WebhookMethod string   `json:"webhook_method"`
	DateCreated   wireTime `json:"date_created"`
	DateUpdated   wireTime `json:"date_updated"`
	URL           string   `json:"url"`
}

func (a *API) webhook(w store.Webhook) webhookJSON {
	return webhookJSON{Sid: w.Sid, ServiceSid: w.ServiceSid, AccountSid: a.engine.AccountSid(), FriendlyName: w.FriendlyName,
		EventTypes: w.EventTypes, Status: w.Status, Version: w.Version, WebhookURL: w.WebhookURL, WebhookMethod: "POST",
		DateCreated: wt(w.DateCreated), DateUpdated: wt(w.DateUpdated), URL: a.url("/v2/Services/" + w.ServiceSid + "/Webhooks/" + w.Sid)}
}
