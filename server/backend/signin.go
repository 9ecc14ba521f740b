package backend

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// NumberMatchKey is the hidden-details key that carries a number-matching
// code: the backend shows the code on the sign-in screen and the phone asks
// its user to type it, denying on a mismatch. It is an extension of
// pushsim's sample app, not of the Verify API: the code travels in hidden
// details, which the phone signs with the rest of the challenge.
const NumberMatchKey = "number_match"

// SignInKey is the hidden-details key that ties together the challenges
// one sign-in sent to several phones. It lives in Verify, not in the
// backend's memory, so the webhook that says one was answered finds its
// siblings whichever process receives it, and after a restart.
const SignInKey = "pushsim_sign_in"

// ReasonNotNeeded is the responded reason of a challenge withdrawn because
// the user answered the same sign-in on another phone.
const ReasonNotNeeded = "not_needed"

// challengeRequest is what create-challenge asks of Verify: the
// template's parameters and pushsim's additions.
type challengeRequest struct {
	message     string
	fields      []string // the Details.Fields values to send
	hidden      string   // hiddenDetails as the caller sent it
	numberMatch bool
	expiration  string
}

// noDetails is what the helper library sends for a caller that gave no
// details: one empty Details.Fields.
var noDetails = []string{""}

func (b *Backend) challengeRequest(p params) (challengeRequest, error) {
	req := challengeRequest{message: p["message"], hidden: p["hiddenDetails"], expiration: p["expirationDate"], fields: noDetails}
	if d := p["details"]; d != "" {
		var fields []json.RawMessage
		if json.Unmarshal([]byte(d), &fields) != nil {
			return req, errors.New(`details must be a JSON array of {"label": "...", "value": "..."} objects`)
		}
		req.fields = nil
		for _, f := range fields {
			var compact bytes.Buffer
			json.Compact(&compact, f) // valid: it was just decoded
			req.fields = append(req.fields, compact.String())
		}
	}
	if v, ok := p["numberMatch"]; ok {
		on, err := strconv.ParseBool(v)
		if err != nil {
			return req, errors.New("numberMatch must be true or false")
		}
		req.numberMatch = on
	}
	return req, nil
}

// hiddenWith is the HiddenDetails to send: the caller's, as sent, or with
// pushsim's keys added.
func (req challengeRequest) hiddenWith(extra map[string]string) (string, error) {
	if len(extra) == 0 {
		return req.hidden, nil
	}
	hidden := map[string]string{}
	if strings.TrimSpace(req.hidden) != "" && json.Unmarshal([]byte(req.hidden), &hidden) != nil {
		return "", errors.New("hiddenDetails must be a JSON object of strings")
	}
	if hidden == nil {
		hidden = map[string]string{} // hiddenDetails=null: none of the caller's
	}
	for k, v := range extra {
		hidden[k] = v
	}
	out, _ := json.Marshal(hidden)
	return string(out), nil
}

// pushsimHidden draws the number-matching code when one is asked for.
func (b *Backend) pushsimHidden(req challengeRequest) (map[string]string, error) {
	extra := map[string]string{}
	if req.numberMatch {
		code, err := b.numberMatchCode()
		if err != nil {
			return nil, err
		}
		extra[NumberMatchKey] = code
	}
	return extra, nil
}

// createOne is the template's create-challenge: one challenge on one
// factor, in the helper library's shape.
func (b *Backend) createOne(ctx context.Context, entity string, req challengeRequest, factor string) (json.RawMessage, error) {
	extra, err := b.pushsimHidden(req)
	if err != nil {
		return nil, err
	}
	hidden, err := req.hiddenWith(extra)
	if err != nil {
		return nil, &APIError{Status: http.StatusBadRequest, Message: err.Error()}
	}
	return b.create(ctx, entity, req, hidden, factor)
}

func (b *Backend) create(ctx context.Context, entity string, req challengeRequest, hidden, factor string) (json.RawMessage, error) {
	form := url.Values{"FactorSid": {factor}, "Details.Message": {req.message}}
	for _, f := range req.fields {
		form.Add("Details.Fields", f)
	}
	if hidden != "" {
		form.Set("HiddenDetails", hidden)
	}
	if req.expiration != "" {
		form.Set("ExpirationDate", req.expiration)
	}
	var raw json.RawMessage
	if err := b.verify(ctx, http.MethodPost, entity+"/Challenges", form, &raw); err != nil {
		return nil, err
	}
	return asHelperLibrary(raw)
}

// refusal is a phone Verify would not challenge during a sign-in.
type refusal struct {
	FactorSid string `json:"factorSid"`
	Status    int    `json:"status"`
	Code      int    `json:"code"`
	Message   string `json:"message"`
	MoreInfo  string `json:"moreInfo"`
}

// signIn challenges every verified factor of the user: a backend cannot
// know which phone is in the user's hand. Siblings share a SignInKey in
// their hidden details (and one number-matching code); once one is
// answered, the webhook sink withdraws the others. The answer is the first
// challenge, as create-challenge gives it, plus "challenges" (all of them)
// and "refused" (the phones Verify refused, such as one at its pending
// cap).
func (b *Backend) signIn(w http.ResponseWriter, r *http.Request, entity string, req challengeRequest) {
	var page struct {
		Factors []struct {
			Sid    string `json:"sid"`
			Status string `json:"status"`
		} `json:"factors"`
	}
	err := b.verify(r.Context(), http.MethodGet, entity+"/Factors", url.Values{"PageSize": {"100"}}, &page)
	var apiErr *APIError
	if err != nil && !(errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound) {
		b.fail(w, err)
		return
	}
	var phones []string
	for _, f := range page.Factors {
		if f.Status == "verified" {
			phones = append(phones, f.Sid)
		}
	}
	if len(phones) == 0 {
		writeError(w, http.StatusNotFound, "no verified factor for this identity: enroll a phone first, or give factor", "")
		return
	}
	extra, err := b.pushsimHidden(req)
	if err != nil {
		b.fail(w, err)
		return
	}
	if len(phones) > 1 {
		if extra[SignInKey], err = b.randomHex(8); err != nil {
			b.fail(w, err)
			return
		}
	}
	hidden, err := req.hiddenWith(extra)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), "")
		return
	}
	created := []json.RawMessage{}
	refused := []refusal{}
	var firstRefusal *APIError
	for _, factor := range phones {
		c, err := b.create(r.Context(), entity, req, hidden, factor)
		var apiErr *APIError
		switch {
		case errors.As(err, &apiErr):
			refused = append(refused, refusal{factor, apiErr.Status, apiErr.Code, apiErr.Message, apiErr.MoreInfo})
			if firstRefusal == nil {
				firstRefusal = apiErr
			}
		case err != nil:
			b.fail(w, err)
			return
		default:
			created = append(created, c)
		}
	}
	if len(created) == 0 {
		writeVerifyError(w, firstRefusal)
		return
	}
	if group := extra[SignInKey]; group != "" && len(created) > 1 {
		var sids []string
		for _, c := range created {
			var one struct{ Sid string }
			json.Unmarshal(c, &one)
			sids = append(sids, one.Sid)
		}
		if err := b.withdrawIfAnswered(r.Context(), strings.TrimPrefix(entity, "/v2"), group, sids); err != nil {
			// The sign-in stands; the next answer's webhook tries again.
			b.cfg.Logger.Error("sample backend: withdraw a sign-in answered during creation", "err", err)
		}
	}
	extraFields, _ := json.Marshal(struct {
		Challenges []json.RawMessage `json:"challenges"`
		Refused    []refusal         `json:"refused"`
	}{created, refused})
	// The first challenge's object with the two lists added: both are
	// JSON objects, so joining them is dropping one brace from each.
	first := created[0]
	body := append(append(first[:len(first)-1:len(first)-1], ','), extraFields[1:]...)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// withdrawSiblings expires, as not needed, the pending challenges of the
// sign-in whose answer the webhook reports. It is driven by the signed
// challenge.approved / challenge.denied webhook, so it happens however the
// answer came and whoever watches.
func (b *Backend) withdrawSiblings(ctx context.Context, event url.Values) error {
	if t := event.Get("type"); t != "challenge.approved" && t != "challenge.denied" {
		return nil
	}
	var hidden map[string]string
	if json.Unmarshal([]byte(event.Get("challenge_hidden_details")), &hidden) != nil || hidden[SignInKey] == "" {
		return nil
	}
	entity := "/Services/" + url.PathEscape(event.Get("service_sid")) + "/Entities/" + url.PathEscape(event.Get("entity_identity"))
	return b.withdraw(ctx, entity, hidden[SignInKey], event.Get("challenge_sid"))
}

// withdrawIfAnswered covers a phone that answers while its siblings are
// still being created: its webhook may have found some of them missing,
// so once all exist the backend looks for an answer itself.
func (b *Backend) withdrawIfAnswered(ctx context.Context, entity, group string, sids []string) error {
	for _, sid := range sids {
		var c struct{ Status string }
		if err := b.verify(ctx, http.MethodGet, "/v2"+entity+"/Challenges/"+url.PathEscape(sid), nil, &c); err != nil {
			return err
		}
		if c.Status == "approved" || c.Status == "denied" {
			return b.withdraw(ctx, entity, group, sid)
		}
	}
	return nil
}

// withdraw expires the pending challenges of sign-in group other than
// answered. entity is the path below the API root.
func (b *Backend) withdraw(ctx context.Context, entity, group, answered string) error {
	var page struct {
		Challenges []struct {
			Sid           string            `json:"sid"`
			HiddenDetails map[string]string `json:"hidden_details"`
		} `json:"challenges"`
	}
	if err := b.verify(ctx, http.MethodGet, "/v2"+entity+"/Challenges", url.Values{"Status": {"pending"}, "PageSize": {"1000"}}, &page); err != nil {
		return err
	}
	var errs []error
	for _, c := range page.Challenges {
		if c.Sid == answered || c.HiddenDetails[SignInKey] != group {
			continue
		}
		_, err := b.expireChallenge(ctx, entity, c.Sid, ReasonNotNeeded)
		var apiErr *APIError
		if errors.As(err, &apiErr) && (apiErr.Status == http.StatusForbidden || apiErr.Status == http.StatusNotFound) {
			continue // answered, expired or deleted meanwhile: nothing to withdraw
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// expireChallenge ends a pending challenge now through the emulator's
// control (Verify itself has no such call). entity is the path below the
// API root, "/Services/VA…/Entities/…".
func (b *Backend) expireChallenge(ctx context.Context, entity, sid, reason string) (json.RawMessage, error) {
	form := url.Values{}
	if reason != "" {
		form.Set("RespondedReason", reason)
	}
	var raw json.RawMessage
	if err := b.verify(ctx, http.MethodPost, "/_pushsim"+entity+"/Challenges/"+url.PathEscape(sid)+"/Expire", form, &raw); err != nil {
		return nil, err
	}
	return asHelperLibrary(raw)
}

// numberMatchCode draws a two-digit code, 10 to 99.
func (b *Backend) numberMatchCode() (string, error) {
	var buf [1]byte
	for {
		if _, err := io.ReadFull(b.cfg.Rand, buf[:]); err != nil {
			return "", err
		}
		if buf[0] < 180 { // 180 = 2 × 90: no modulo bias
			return fmt.Sprint(10 + int(buf[0])%90), nil
		}
	}
}

func (b *Backend) randomHex(n int) (string, error) {
	buf := make([]byte, n)
	if _, err := io.ReadFull(b.cfg.Rand, buf); err != nil {
		return "", err
	}
	return hex.EncodeToString(buf), nil
}
