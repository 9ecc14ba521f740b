// Package sim serves the emulator-only endpoints under /_pushsim/: things a
// real Verify service does not have but a simulator's users need, such as
// health, reset and restart, faults switched on and off, the server's
// clock, the webhook and push delivery logs, the request log and the newest
// challenge of an identity. docs/control-api.md documents them.
package sim

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"time"

	"github.com/pushsim/pushsim/server/faults"
	"github.com/pushsim/pushsim/server/store"
	"github.com/pushsim/pushsim/server/verify"
)

// Config gives the endpoints what they read and act on.
type Config struct {
	Store  store.Store
	Engine *verify.Engine
	// AuthToken guards the endpoints that change state, with the account
	// SID as the Basic user, as the Verify API is guarded.
	AuthToken string
	// RenderChallenge renders a challenge as the Verify API's fetch does.
	RenderChallenge func(store.Challenge) any
	// Requests is the server's request log; nil serves an empty one.
	Requests *RequestLog
	// Faults are switched on and off by the fault controls.
	Faults *faults.Set
	// Clock is the server's clock, moved by the clock control.
	Clock Clock
	// Generation is the server's life count, shown by health.
	Generation func() int64
	// Restart asks the server to restart (reset: wiped first) and returns
	// the generation that will serve next.
	Restart func(reset bool) int64
}

// Mount registers the emulator endpoints on mux.
func Mount(mux *http.ServeMux, cfg Config) {
	mux.HandleFunc("GET /_pushsim/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"status": "ok", "generation": cfg.Generation()})
	})
	mountFaults(mux, cfg)
	mux.HandleFunc("POST /_pushsim/Services/{ServiceSid}/Entities/{Identity}/Challenges/{Sid}/Expire", cfg.accountOnly(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
		c, err := cfg.Engine.ExpireChallenge(r.Context(), r.PathValue("ServiceSid"), r.PathValue("Identity"), r.PathValue("Sid"), r.PostFormValue("RespondedReason"))
		if writeVerifyError(w, err) {
			return
		}
		if err != nil {
			http.Error(w, "could not expire the challenge", http.StatusInternalServerError)
			return
		}
		writeJSON(w, map[string]string{"sid": c.Sid, "status": c.Status, "responded_reason": c.RespondedReason})
	}))
	// The newest challenge, hidden details included, so a test can read
	// the number a user must match.
	mux.HandleFunc("GET /_pushsim/Services/{ServiceSid}/Entities/{Identity}/Challenges/Latest", cfg.accountOnly(func(w http.ResponseWriter, r *http.Request) {
		l, err := cfg.Engine.ListChallenges(r.Context(), r.PathValue("ServiceSid"), r.PathValue("Identity"), verify.ChallengeFilter{}, store.Page{Size: 1, Descending: true})
		if err == nil && len(l.Items) == 0 {
			err = verify.NotFound("/Challenges/Latest")
		}
		if writeVerifyError(w, err) {
			return
		}
		if err != nil {
			http.Error(w, "could not read the challenges", http.StatusInternalServerError)
			return
		}
		writeJSON(w, cfg.RenderChallenge(l.Items[0]))
	}))
	mux.HandleFunc("GET /_pushsim/requests", cfg.accountOnly(func(w http.ResponseWriter, r *http.Request) {
		log := []Request{}
		if cfg.Requests != nil {
			log = cfg.Requests.Recent(limitParam(r, 100, len(cfg.Requests.ring)))
		}
		writeJSON(w, map[string]any{"requests": log})
	}))
	// The delivery log shows what webhooks carried (hidden details
	// included), so it is the account's to read.
	mux.HandleFunc("GET /_pushsim/webhooks", cfg.accountOnly(func(w http.ResponseWriter, r *http.Request) {
		items, err := cfg.recentOutbox(r, store.OutboxWebhook)
		if err != nil {
			http.Error(w, "could not read the delivery log", http.StatusInternalServerError)
			return
		}
		log := make([]delivery, 0, len(items))
		for _, o := range items {
			log = append(log, delivery{
				UUID: o.Ref, Type: o.Params.Get("type"), ChallengeSid: o.Params.Get("challenge_sid"), FactorSid: o.Params.Get("factor_sid"),
				URL: o.Target, State: o.State, Attempts: o.Attempts,
				LastStatus: o.LastStatus, LastError: o.LastError, Created: o.DateCreated, Updated: o.DateUpdated,
			})
		}
		writeJSON(w, map[string]any{"deliveries": log})
	}))
}

// recentOutbox reads the newest outbox rows of kind, as many as the
// request's limit asks (default 100, at most 1000).
func (cfg Config) recentOutbox(r *http.Request, kind string) (items []store.OutboxItem, err error) {
	err = cfg.Store.Read(r.Context(), func(tx store.Tx) (err error) {
		items, err = tx.RecentOutbox(kind, limitParam(r, 100, 1000))
		return err
	})
	return items, err
}

// accountOnly lets through requests that carry the account SID and auth
// token as Basic auth, as the Verify API is guarded; only health is open.
func (cfg Config) accountOnly(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(cfg.Engine.AccountSid())) != 1 ||
			subtle.ConstantTimeCompare([]byte(pass), []byte(cfg.AuthToken)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="pushsim"`)
			http.Error(w, "authenticate with the account SID and auth token", http.StatusUnauthorized)
			return
		}
		next(w, r)
	}
}

// delivery is one webhook delivery in the log, newest first.
type delivery struct {
	UUID         string    `json:"uuid"`
	Type         string    `json:"type"`
	ChallengeSid string    `json:"challenge_sid,omitempty"`
	FactorSid    string    `json:"factor_sid,omitempty"`
	URL          string    `json:"url"`
	State        string    `json:"state"`
	Attempts     int       `json:"attempts"`
	LastStatus   int       `json:"last_status,omitempty"`
	LastError    string    `json:"last_error,omitempty"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
}

// writeVerifyError answers a Verify error in Verify's error shape and
// reports whether err was one.
func writeVerifyError(w http.ResponseWriter, err error) bool {
	e, ok := verify.AsError(err)
	if !ok {
		return false
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	json.NewEncoder(w).Encode(map[string]any{"code": e.Code, "message": e.Message, "more_info": e.MoreInfo(), "status": e.Status})
	return true
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
