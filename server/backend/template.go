package backend

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// The template's four functions. Each takes its parameters from the query
// or the body, answers 200 with the helper library's camelCase object, and
// passes Verify's errors on with Verify's status.

// accessToken hands a phone an enrollment token for a user.
func (b *Backend) accessToken(w http.ResponseWriter, r *http.Request, p params) {
	if missing := p.missing("identity"); missing != nil {
		writeMissing(w, missing)
		return
	}
	identity := b.identity(p["identity"])
	if b.cfg.Guarded && !b.isAccount(r) {
		if refusal, err := b.checkEnrollment(r.Context(), identity, p["enrollmentCode"]); err != nil {
			b.failRestException(w, err)
			return
		} else if refusal != "" {
			writeError(w, http.StatusForbidden, refusal, "")
			return
		}
	}
	serviceSid, err := b.Ensure(r.Context())
	if err != nil {
		b.failRestException(w, err)
		return
	}
	var at struct {
		Token string `json:"token"`
	}
	form := url.Values{"Identity": {identity}, "FactorType": {"push"}}
	if err := b.verify(r.Context(), http.MethodPost, "/v2/Services/"+serviceSid+"/AccessTokens", form, &at); err != nil {
		b.failRestException(w, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Token      string `json:"token"`
		ServiceSid string `json:"serviceSid"`
		Identity   string `json:"identity"`
		FactorType string `json:"factorType"`
	}{at.Token, serviceSid, identity, "push"})
}

// failRestException is access-token's catch block.
func (b *Backend) failRestException(w http.ResponseWriter, err error) {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		writeRestException(w, apiErr)
		return
	}
	b.fail(w, err)
}

// createChallenge asks Verify for a challenge on the factor given; without
// a factor (pushsim's addition) it challenges every verified factor of the
// user at once (see signin.go).
func (b *Backend) createChallenge(w http.ResponseWriter, r *http.Request, p params) {
	// A request without factor is pushsim's fan-out, but only once it is
	// otherwise complete: a request the template refuses gets the
	// template's refusal, factor included.
	if missing := p.missing("identity", "message", "factor"); len(missing) > 1 || (len(missing) == 1 && missing[0] != "factor") {
		writeMissing(w, missing)
		return
	}
	req, err := b.challengeRequest(p)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), "")
		return
	}
	entity, err := b.entityPath(r.Context(), b.identity(p["identity"]))
	if err != nil {
		b.fail(w, err)
		return
	}
	if p.has("factor") {
		challenge, err := b.createOne(r.Context(), entity, req, p["factor"])
		if err != nil {
			b.fail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, challenge)
		return
	}
	b.signIn(w, r, entity, req)
}

// challengeStatus reads one challenge. The identity is used as given, as
// the template does: its page sends back the identity create-challenge
// answered with, which is already processed.
func (b *Backend) challengeStatus(w http.ResponseWriter, r *http.Request, p params) {
	if missing := p.missing("identity", "sid"); missing != nil {
		writeMissing(w, missing)
		return
	}
	challenge, err := b.fetchChallenge(r, p)
	if err != nil {
		var apiErr *APIError
		if !errors.As(err, &apiErr) {
			b.fail(w, err)
			return
		}
		writeJSON(w, apiErr.Status, struct {
			Success bool      `json:"success"`
			Error   errorBody `json:"error"`
		}{false, errorBody{apiErr.Message, apiErr.MoreInfo}})
		return
	}
	writeJSON(w, http.StatusOK, challenge)
}

// fetchChallenge reads the challenge p names ("identity" as Verify knows
// it, "sid") in the helper library's shape.
func (b *Backend) fetchChallenge(r *http.Request, p params) (json.RawMessage, error) {
	entity, err := b.entityPath(r.Context(), p["identity"])
	if err != nil {
		return nil, err
	}
	var raw json.RawMessage
	if err := b.verify(r.Context(), http.MethodGet, entity+"/Challenges/"+url.PathEscape(p["sid"]), nil, &raw); err != nil {
		return nil, err
	}
	return asHelperLibrary(raw)
}

// listFactors lists a user's factors (the first 20, as the template's
// list({limit: 20}) does). A user Verify has never seen is Verify's 404.
func (b *Backend) listFactors(w http.ResponseWriter, r *http.Request, p params) {
	if missing := p.missing("identity"); missing != nil {
		writeMissing(w, missing)
		return
	}
	b.answerList(w, r, b.identity(p["identity"]), "/Factors", url.Values{"PageSize": {"20"}}, "factors")
}

// answerList answers with the items of one page of a Verify list under an
// identity, in the helper library's shape.
func (b *Backend) answerList(w http.ResponseWriter, r *http.Request, identity, below string, q url.Values, key string) {
	items, err := b.list(r, identity, below, q, key)
	if err != nil {
		b.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, items)
}

func (b *Backend) list(r *http.Request, identity, below string, q url.Values, key string) ([]json.RawMessage, error) {
	entity, err := b.entityPath(r.Context(), identity)
	if err != nil {
		return nil, err
	}
	var page map[string]json.RawMessage
	if err := b.verify(r.Context(), http.MethodGet, entity+below, q, &page); err != nil {
		return nil, err
	}
	var items []json.RawMessage
	if err := json.Unmarshal(page[key], &items); err != nil {
		return nil, fmt.Errorf("the %s list from Verify: %w", key, err)
	}
	return asHelperLibraryList(items)
}
