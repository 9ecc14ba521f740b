// Package sim serves the emulator-only endpoints under /_pushsim/: things a
// real Verify service does not have but a simulator's users need, such as
// health and the webhook delivery log.
package sim

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

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
}

// Mount registers the emulator endpoints on mux.
func Mount(mux *http.ServeMux, cfg Config) {
	mux.HandleFunc("GET /_pushsim/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("POST /_pushsim/Services/{ServiceSid}/Entities/{Identity}/Challenges/{Sid}/Expire", cfg.accountOnly(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
		c, err := cfg.Engine.ExpireChallenge(r.Context(), r.PathValue("ServiceSid"), r.PathValue("Identity"), r.PathValue("Sid"), r.PostFormValue("RespondedReason"))
		if e, ok := verify.AsError(err); ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(e.Status)
			json.NewEncoder(w).Encode(map[string]any{"code": e.Code, "message": e.Message, "more_info": e.MoreInfo(), "status": e.Status})
			return
		}
		if err != nil {
			http.Error(w, "could not expire the challenge", http.StatusInternalServerError)
			return
		}
		writeJSON(w, map[string]string{"sid": c.Sid, "status": c.Status, "responded_reason": c.RespondedReason})
	}))
	// The delivery log shows what webhooks carried (hidden details
	// included), so it is the account's to read.
	mux.HandleFunc("GET /_pushsim/webhooks", cfg.accountOnly(func(w http.ResponseWriter, r *http.Request) {
		limit := 100
		if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n > 0 && n <= 1000 {
			limit = n
		}
		var items []store.OutboxItem
		err := cfg.Store.Read(r.Context(), func(tx store.Tx) (err error) {
			items, err = tx.RecentOutbox(store.OutboxWebhook, limit)
			return err
		})
		if err != nil {
			http.Error(w, "could not read the delivery log", http.StatusInternalServerError)
			return
		}
		log := make([]delivery, 0, len(items))
		for _, o := range items {
			log = append(log, delivery{
				UUID: o.Ref, Type: o.Params.Get("type"), URL: o.Target, State: o.State, Attempts: o.Attempts,
				LastStatus: o.LastStatus, LastError: o.LastError, Created: o.DateCreated, Updated: o.DateUpdated,
			})
		}
		writeJSON(w, map[string]any{"deliveries": log})
	}))
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
	UUID       string    `json:"uuid"`
	Type       string    `json:"type"`
	URL        string    `json:"url"`
	State      string    `json:"state"`
	Attempts   int       `json:"attempts"`
	LastStatus int       `json:"last_status,omitempty"`
	LastError  string    `json:"last_error,omitempty"`
	Created    time.Time `json:"created"`
	Updated    time.Time `json:"updated"`
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
