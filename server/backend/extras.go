package backend

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/pushsim/pushsim/internal/bounded"
	"github.com/pushsim/pushsim/server/webhook"
)

// pushsim's additions. They answer as the template's functions do (200,
// the helper library's camelCase objects, the template's error object).
// Calls about one challenge (resend, expire) take the identity as Verify
// knows it, as challenge-status does; calls about a user take the user's
// name and process it as IDENTITY_PROCESSING says.

// listChallenges lists a user's challenges, newest first (status filters).
func (b *Backend) listChallenges(w http.ResponseWriter, r *http.Request, p params) {
	if missing := p.missing("identity"); missing != nil {
		writeMissing(w, missing)
		return
	}
	q := url.Values{"Order": {"desc"}, "PageSize": {"50"}}
	if p["status"] != "" {
		q.Set("Status", p["status"])
	}
	b.answerList(w, r, b.identity(p["identity"]), "/Challenges", q, "challenges")
}

// challengeEntity reads a call about one challenge ("identity" as Verify
// knows it, "sid") and returns the identity's path below the API root, or
// answers the request itself and returns false.
func (b *Backend) challengeEntity(w http.ResponseWriter, r *http.Request, p params) (string, bool) {
	if missing := p.missing("identity", "sid"); missing != nil {
		writeMissing(w, missing)
		return "", false
	}
	entity, err := b.entityPath(r.Context(), p["identity"])
	if err != nil {
		b.fail(w, err)
		return "", false
	}
	return strings.TrimPrefix(entity, "/v2"), true
}

// resend pushes a pending challenge again through the Notifications
// resource (Verify allows three per challenge); ttl is Verify's Ttl.
func (b *Backend) resend(w http.ResponseWriter, r *http.Request, p params) {
	entity, ok := b.challengeEntity(w, r, p)
	if !ok {
		return
	}
	form := url.Values{}
	if p["ttl"] != "" {
		form.Set("Ttl", p["ttl"])
	}
	var raw json.RawMessage
	if err := b.verify(r.Context(), http.MethodPost, "/v2"+entity+"/Challenges/"+url.PathEscape(p["sid"])+"/Notifications", form, &raw); err != nil {
		b.fail(w, err)
		return
	}
	b.answerObject(w, raw)
}

// expire ends a pending challenge now; reason=not_needed marks it
// answered on another device.
func (b *Backend) expire(w http.ResponseWriter, r *http.Request, p params) {
	entity, ok := b.challengeEntity(w, r, p)
	if !ok {
		return
	}
	out, err := b.expireChallenge(r.Context(), entity, p["sid"], p["reason"])
	if err != nil {
		b.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// answerObject answers with one Verify object in the helper library's
// shape.
func (b *Backend) answerObject(w http.ResponseWriter, raw json.RawMessage) {
	out, err := asHelperLibrary(raw)
	if err != nil {
		b.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// hashIdentity says which identity Verify sees for a user name.
func (b *Backend) hashIdentity(w http.ResponseWriter, r *http.Request, p params) {
	if missing := p.missing("identity"); missing != nil {
		writeMissing(w, missing)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"identity": b.identity(p["identity"])})
}

// Event is one webhook delivery the sink received.
type Event struct {
	Received time.Time         `json:"received"`
	Valid    bool              `json:"signatureValid"`
	Type     string            `json:"type"`
	UUID     string            `json:"uuid"`
	Params   map[string]string `json:"params"`
	// ParamsLeftOut counts the parameters past the first keptParams (by
	// name) that were not kept.
	ParamsLeftOut int `json:"paramsLeftOut,omitempty"`
	// Signature is the X-Twilio-Signature header as delivered, so that a
	// reader sees what was checked.
	Signature string `json:"signature"`
}

// What one delivery leaves in the event list: Verify's carry about ten
// short fields and a 28-character signature, a forger's may carry
// thousands, and the list keeps the last KeepEvents of either.
const (
	keptParams     = 32
	keptValueBytes = 1024
	keptSignature  = 128
)

// receiveWebhook keeps every delivery with whether its X-Twilio-Signature
// checks out against the URL the sink was registered under, and withdraws
// the siblings of an answered sign-in. A failed withdrawal answers 500 so
// that Verify delivers the event again.
func (b *Backend) receiveWebhook(w http.ResponseWriter, r *http.Request, p params) {
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "webhook body must be form-encoded", "")
		return
	}
	valid := webhook.Verify(b.cfg.AuthToken, b.WebhookURL(), r.PostForm, r.Header.Get("X-Twilio-Signature"))
	ev := Event{Received: b.cfg.Now().UTC(), Valid: valid, Type: bounded.Text(r.PostForm.Get("type"), keptValueBytes), UUID: bounded.Text(r.PostForm.Get("uuid"), keptValueBytes),
		Params: map[string]string{}, Signature: bounded.Text(r.Header.Get("X-Twilio-Signature"), keptSignature)}
	names := slices.Sorted(maps.Keys(r.PostForm))
	if len(names) > keptParams {
		ev.ParamsLeftOut, names = len(names)-keptParams, names[:keptParams]
	}
	for _, k := range names {
		ev.Params[bounded.Text(k, keptValueBytes)] = bounded.Text(r.PostForm.Get(k), keptValueBytes)
	}
	b.mu.Lock()
	b.events = append(b.events, ev)
	if len(b.events) > b.cfg.KeepEvents {
		b.events = b.events[len(b.events)-b.cfg.KeepEvents:]
	}
	b.mu.Unlock()
	if !valid {
		// A real backend refuses forged deliveries; Verify will retry.
		writeError(w, http.StatusForbidden, "invalid X-Twilio-Signature", "")
		return
	}
	if err := b.withdrawSiblings(r.Context(), r.PostForm); err != nil {
		b.cfg.Logger.Error("sample backend: withdraw the other phones' challenges", "err", err)
		writeError(w, http.StatusInternalServerError, "could not withdraw the sign-in's other challenges: "+err.Error(), "")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Events returns the webhook deliveries received, oldest first.
func (b *Backend) Events() []Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Event(nil), b.events...)
}

func (b *Backend) listEvents(w http.ResponseWriter, r *http.Request, p params) {
	writeJSON(w, http.StatusOK, map[string]any{"events": b.Events()})
}
