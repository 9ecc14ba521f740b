package verifyclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Factor statuses.
const (
	FactorUnverified = "unverified"
	FactorVerified   = "verified"
)

// Challenge statuses.
const (
	ChallengePending  = "pending"
	ChallengeApproved = "approved"
	ChallengeDenied   = "denied"
	ChallengeExpired  = "expired"
)

// Notification platforms.
const (
	PlatformFCM  = "fcm"
	PlatformNone = "none"
)

// Factor is what the SDK reads from a create- or update-factor response.
type Factor struct {
	Sid           string
	FriendlyName  string
	AccountSid    string
	Status        string // unverified or verified; unknown values read as unverified
	CredentialSid string // the device JWT's kid
	// NotificationPlatform is config.notification_platform, or "" when the
	// response leaves it out.
	NotificationPlatform string
	CreatedAt            time.Time
	Metadata             map[string]string
}

// Challenge is what the SDK reads from a challenge body.
type Challenge struct {
	Sid            string
	FactorSid      string
	Status         string // pending, approved, denied or expired; unknown values read as expired
	Details        Details
	HiddenDetails  map[string]string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	ExpirationDate time.Time
	// RespondedReason is none, not_needed or not_requested when the server
	// sends it.
	RespondedReason string

	// SignatureFields is the Twilio-Verify-Signature-Fields list of a GET of
	// one pending challenge; nil otherwise, as in the SDK.
	SignatureFields []string

	// body is the whole GET response, kept with SignatureFields because the
	// signed payload copies values from it.
	body []byte
}

// Details are the challenge details shown to the user.
type Details struct {
	Message string
	Fields  []Field
	Date    *time.Time // only when the service includes it
}

// Field is one label/value line of the details.
type Field struct {
	Label string
	Value string
}

// ChallengeList is one page of challenges.
type ChallengeList struct {
	Challenges []Challenge
	Meta       ListMeta
}

// ListMeta is the paging state the SDK derives from meta.
type ListMeta struct {
	Page              int
	PageSize          int
	PreviousPageToken string // "" when there is no previous page
	NextPageToken     string // "" when there is no next page
}

// mapperError wraps a parse failure as the SDK's 60402.
func mapperError(format string, args ...any) error {
	return Wrap(CodeMapper, fmt.Errorf(format, args...))
}

type object map[string]json.RawMessage

func decodeObject(data []byte) (object, error) {
	var obj object
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&obj); err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, errors.New("body is not a JSON object")
	}
	if dec.More() {
		return nil, errors.New("trailing data after the JSON object")
	}
	return obj, nil
}

func (o object) has(key string) bool {
	v, ok := o[key]
	return ok && string(v) != "null"
}

// str reads a required string; org.json's getString also accepts numbers
// and booleans, so those are taken as their JSON text.
func (o object) str(key string) (string, error) {
	v, ok := o[key]
	if !ok || string(v) == "null" {
		return "", fmt.Errorf("missing %q", key)
	}
	s, ok := scalarString(v)
	if !ok {
		return "", fmt.Errorf("%q is not a string", key)
	}
	return s, nil
}

func scalarString(v json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s, true
	}
	var n json.Number
	if json.Unmarshal(v, &n) == nil {
		return n.String(), true
	}
	var b bool
	if json.Unmarshal(v, &b) == nil {
		return fmt.Sprint(b), true
	}
	return "", false
}

func (o object) date(key string) (time.Time, error) {
	s, err := o.str(key)
	if err != nil {
		return time.Time{}, err
	}
	t, err := parseDate(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: %w", key, err)
	}
	return t, nil
}

func (o object) sub(key string) (object, error) {
	v, ok := o[key]
	if !ok || string(v) == "null" {
		return nil, fmt.Errorf("missing %q", key)
	}
	obj, err := decodeObject(v)
	if err != nil {
		return nil, fmt.Errorf("%q is not an object", key)
	}
	return obj, nil
}

// stringMap reads an optional object of strings; null or absent is nil.
func (o object) stringMap(key string) (map[string]string, error) {
	if !o.has(key) {
		return nil, nil
	}
	obj, err := o.sub(key)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(obj))
	for k := range obj {
		if out[k], err = obj.str(k); err != nil {
			return nil, fmt.Errorf("%q: %w", key, err)
		}
	}
	return out, nil
}

// parseDate accepts RFC 3339 with a Z or a numeric offset (the fixtures use
// -08:00), the forms both SDKs read.
func parseDate(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 date", s)
	}
	return t, nil
}

// parseFactor maps a create/update-factor body. Required: sid,
// friendly_name, account_sid, status, date_created, config.credential_sid.
func parseFactor(body []byte) (*Factor, error) {
	obj, err := decodeObject(body)
	if err != nil {
		return nil, mapperError("factor: %v", err)
	}
	var f Factor
	for _, field := range []struct {
		key string
		dst *string
	}{{"sid", &f.Sid}, {"friendly_name", &f.FriendlyName}, {"account_sid", &f.AccountSid}, {"status", &f.Status}} {
		if *field.dst, err = obj.str(field.key); err != nil {
			return nil, mapperError("factor: %v", err)
		}
	}
	f.Status = factorStatus(f.Status)
	if f.CreatedAt, err = obj.date("date_created"); err != nil {
		return nil, mapperError("factor: %v", err)
	}
	config, err := obj.sub("config")
	if err != nil {
		return nil, mapperError("factor: %v", err)
	}
	if f.CredentialSid, err = config.str("credential_sid"); err != nil {
		return nil, mapperError("factor: config: %v", err)
	}
	if config.has("notification_platform") {
		if f.NotificationPlatform, err = config.str("notification_platform"); err != nil {
			return nil, mapperError("factor: config: %v", err)
		}
	}
	if f.Metadata, err = obj.stringMap("metadata"); err != nil {
		return nil, mapperError("factor: %v", err)
	}
	return &f, nil
}

// factorStatus follows Android: anything but "verified" is unverified.
func factorStatus(s string) string {
	if s == FactorVerified {
		return FactorVerified
	}
	return FactorUnverified
}

// parseFactorStatus maps a verify-factor body, of which the SDK reads only
// status.
func parseFactorStatus(body []byte) (string, error) {
	obj, err := decodeObject(body)
	if err != nil {
		return "", mapperError("verify factor: %v", err)
	}
	s, err := obj.str("status")
	if err != nil {
		return "", mapperError("verify factor: %v", err)
	}
	return factorStatus(s), nil
}

// parseChallenge maps one challenge body. Required: sid, factor_sid,
// status, date_created, date_updated, expiration_date, details.message.
func parseChallenge(body []byte) (*Challenge, error) {
	obj, err := decodeObject(body)
	if err != nil {
		return nil, mapperError("challenge: %v", err)
	}
	return challengeFromObject(obj)
}

func challengeFromObject(obj object) (*Challenge, error) {
	var c Challenge
	var err error
	for _, field := range []struct {
		key string
		dst *string
	}{{"sid", &c.Sid}, {"factor_sid", &c.FactorSid}, {"status", &c.Status}} {
		if *field.dst, err = obj.str(field.key); err != nil {
			return nil, mapperError("challenge: %v", err)
		}
	}
	c.Status = challengeStatus(c.Status)
	for _, field := range []struct {
		key string
		dst *time.Time
	}{{"date_created", &c.CreatedAt}, {"date_updated", &c.UpdatedAt}, {"expiration_date", &c.ExpirationDate}} {
		if *field.dst, err = obj.date(field.key); err != nil {
			return nil, mapperError("challenge %s: %v", c.Sid, err)
		}
	}
	details, err := obj.sub("details")
	if err != nil {
		return nil, mapperError("challenge %s: %v", c.Sid, err)
	}
	if c.Details.Message, err = details.str("message"); err != nil {
		return nil, mapperError("challenge %s: details: %v", c.Sid, err)
	}
	if details.has("fields") {
		var fields []object
		if err := json.Unmarshal(details["fields"], &fields); err != nil {
			return nil, mapperError("challenge %s: details: \"fields\" is not an array of objects", c.Sid)
		}
		for i, f := range fields {
			label, err := f.str("label")
			if err != nil {
				return nil, mapperError("challenge %s: details.fields[%d]: %v", c.Sid, i, err)
			}
			value, err := f.str("value")
			if err != nil {
				return nil, mapperError("challenge %s: details.fields[%d]: %v", c.Sid, i, err)
			}
			c.Details.Fields = append(c.Details.Fields, Field{Label: label, Value: value})
		}
	}
	// Android chokes on "date": null while iOS accepts it; null is read as
	// absent here, the tolerant choice.
	if details.has("date") {
		d, err := details.date("date")
		if err != nil {
			return nil, mapperError("challenge %s: details: %v", c.Sid, err)
		}
		c.Details.Date = &d
	}
	if c.HiddenDetails, err = obj.stringMap("hidden_details"); err != nil {
		return nil, mapperError("challenge %s: %v", c.Sid, err)
	}
	// The SDK never reads responded_reason; the phone shows it when present
	// (not_needed: answered elsewhere), and a missing or odd one is ignored.
	if obj.has("responded_reason") {
		c.RespondedReason, _ = obj.str("responded_reason")
	}
	return &c, nil
}

// challengeStatus follows Android: an unknown status reads as expired.
func challengeStatus(s string) string {
	switch s {
	case ChallengePending, ChallengeApproved, ChallengeDenied:
		return s
	}
	return ChallengeExpired
}

// parseChallengeList maps a list body: {challenges: [...], meta: {page,
// page_size, previous_page_url, next_page_url}}.
func parseChallengeList(body []byte) (*ChallengeList, error) {
	obj, err := decodeObject(body)
	if err != nil {
		return nil, mapperError("challenge list: %v", err)
	}
	var items []object
	if !obj.has("challenges") {
		return nil, mapperError("challenge list: missing \"challenges\"")
	}
	if err := json.Unmarshal(obj["challenges"], &items); err != nil {
		return nil, mapperError("challenge list: \"challenges\" is not an array of objects")
	}
	list := &ChallengeList{Challenges: make([]Challenge, 0, len(items))}
	for _, item := range items {
		c, err := challengeFromObject(item)
		if err != nil {
			return nil, err
		}
		list.Challenges = append(list.Challenges, *c)
	}
	meta, err := obj.sub("meta")
	if err != nil {
		return nil, mapperError("challenge list: %v", err)
	}
	for _, field := range []struct {
		key string
		dst *int
	}{{"page", &list.Meta.Page}, {"page_size", &list.Meta.PageSize}} {
		if err := json.Unmarshal(meta[field.key], field.dst); err != nil || !meta.has(field.key) {
			return nil, mapperError("challenge list: meta: %q is not an integer", field.key)
		}
	}
	list.Meta.PreviousPageToken = pageToken(meta["previous_page_url"])
	list.Meta.NextPageToken = pageToken(meta["next_page_url"])
	return list, nil
}

// pageToken extracts the PageToken query parameter (exact case, as the SDK
// reads it) from a meta URL; a missing, null, non-string or unparsable URL
// yields no token.
func pageToken(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil || s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return u.Query().Get("PageToken")
}

// parseSignatureFields splits Twilio-Verify-Signature-Fields on commas
// without trimming: the SDK does not trim, so neither does a faithful phone.
func parseSignatureFields(header string) []string {
	if header == "" {
		return nil
	}
	return strings.Split(header, ",")
}
