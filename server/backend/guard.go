package backend

import (
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"
)

// isAccount reports whether the request carries the account's credentials
// as Basic auth, as the Verify API takes them.
func (b *Backend) isAccount(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	return ok && subtle.ConstantTimeCompare([]byte(user), []byte(b.cfg.AccountSid)) == 1 &&
		subtle.ConstantTimeCompare([]byte(pass), []byte(b.cfg.AuthToken)) == 1
}

func refuseUnauthenticated(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Basic realm="pushsim sample backend"`)
	writeError(w, http.StatusUnauthorized,
		"this server is reachable from the network: authenticate with the account SID and auth token (curl -u ACxxx:token)",
		"https://www.twilio.com/docs/errors/20003")
}

// enrollmentCode is a one-time code the host hands to a user so that they
// can enroll another phone while their first is verified.
type enrollmentCode struct {
	code    string
	expires time.Time
}

// codeAlphabet leaves out letters and digits that read alike (0/O, 1/I/L)
// so that a code can be read off a projector.
const codeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// enrollmentCode mints a code for a user (pushsim's addition); the answer
// says which identity it is for and until when it works.
func (b *Backend) enrollmentCode(w http.ResponseWriter, r *http.Request, p params) {
	if missing := p.missing("identity"); missing != nil {
		writeMissing(w, missing)
		return
	}
	code, expires, err := b.NewEnrollmentCode(p["identity"])
	if err != nil {
		b.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"identity": b.identity(p["identity"]), "enrollmentCode": code, "expiresAt": expires.UTC().Format(time.RFC3339),
	})
}

// NewEnrollmentCode mints a one-time code with which the user's next
// access-token request may enroll another phone on a guarded server.
func (b *Backend) NewEnrollmentCode(user string) (string, time.Time, error) {
	buf := make([]byte, 0, 8)
	var one [1]byte
	for len(buf) < cap(buf) {
		if _, err := io.ReadFull(b.cfg.Rand, one[:]); err != nil {
			return "", time.Time{}, err
		}
		if int(one[0]) < 256/len(codeAlphabet)*len(codeAlphabet) { // no modulo bias
			buf = append(buf, codeAlphabet[int(one[0])%len(codeAlphabet)])
		}
	}
	code := string(buf)
	now := b.cfg.Now()
	expires := now.Add(b.cfg.EnrollmentCodeTTL)
	identity := b.identity(user)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pruneCodes(now)
	b.codes[identity] = append(b.codes[identity], enrollmentCode{code, expires})
	return code, expires, nil
}

// pruneCodes drops expired codes; b.mu is held.
func (b *Backend) pruneCodes(now time.Time) {
	for id, codes := range b.codes {
		kept := codes[:0]
		for _, c := range codes {
			if now.Before(c.expires) {
				kept = append(kept, c)
			}
		}
		if len(kept) == 0 {
			delete(b.codes, id)
		} else {
			b.codes[id] = kept
		}
	}
}

// takeCode uses up code if it is a live one for identity.
func (b *Backend) takeCode(identity, code string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pruneCodes(b.cfg.Now())
	codes := b.codes[identity]
	for i, c := range codes {
		if subtle.ConstantTimeCompare([]byte(c.code), []byte(code)) == 1 {
			b.codes[identity] = append(codes[:i:i], codes[i+1:]...)
			return true
		}
	}
	return false
}

// checkEnrollment decides, on a guarded server, whether a caller who
// knows only a user's name may have an enrollment token: yes while the
// user has no verified phone (first come, first served, as a name on a
// sign-up form), otherwise only with an enrollment code. A refusal is
// returned as the message to show; err is a failure to ask Verify.
func (b *Backend) checkEnrollment(ctx context.Context, identity, code string) (refusal string, err error) {
	entity, err := b.entityPath(ctx, identity)
	if err != nil {
		return "", err
	}
	var page struct {
		Factors []struct {
			Status string `json:"status"`
		} `json:"factors"`
	}
	err = b.verify(ctx, http.MethodGet, entity+"/Factors", url.Values{"PageSize": {"100"}}, &page)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
		return "", nil // nobody has this name yet
	}
	if err != nil {
		return "", err
	}
	verified := false
	for _, f := range page.Factors {
		verified = verified || f.Status == "verified"
	}
	switch {
	case !verified:
		return "", nil
	case code == "":
		return "this identity already has a verified phone: to enroll another, ask the host for a one-time enrollment code and pass it (pushsim device --enrollment-code CODE, or the enrollmentCode parameter)", nil
	case !b.takeCode(identity, code):
		return "the enrollment code is not valid for this identity, or has been used or has expired: ask the host for a new one", nil
	}
	return "", nil
}
