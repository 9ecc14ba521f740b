package sim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pushsim/pushsim/server/faults"
	"github.com/pushsim/pushsim/server/store"
	"github.com/pushsim/pushsim/server/verify"
)

// Clock is the server's clock as the control API moves it.
type Clock interface {
	Now() time.Time
	Offset() time.Duration
	Advance(time.Duration) error
}

// mountFaults registers the fault, clock, restart and reset controls.
func mountFaults(mux *http.ServeMux, cfg Config) {
	mux.HandleFunc("GET /_pushsim/faults", cfg.accountOnly(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, cfg.Faults.Snapshot())
	}))
	mux.HandleFunc("DELETE /_pushsim/faults", cfg.accountOnly(func(w http.ResponseWriter, r *http.Request) {
		cfg.Faults.Clear()
		writeJSON(w, cfg.Faults.Snapshot())
	}))
	mux.HandleFunc("POST /_pushsim/faults/push", cfg.accountOnly(func(w http.ResponseWriter, r *http.Request) {
		form, ok := readForm(w, r)
		if !ok {
			return
		}
		factor := form.Get("FactorSid")
		if factor != "" && !verify.IsSID(factor, verify.PrefixFactor) {
			writeVerifyError(w, verify.InvalidParam("FactorSid", "must be a factor SID (YF followed by 32 hex digits), or absent for every factor"))
			return
		}
		// SIDs are minted in lower case; a rule spelled in upper case would
		// be accepted and never match a push.
		if factor != "" {
			factor = verify.PrefixFactor + strings.ToLower(factor[2:])
		}
		mode := form.Get("Mode")
		if mode == "off" {
			cfg.Faults.ClearPush(factor)
			writeJSON(w, cfg.Faults.Snapshot())
			return
		}
		if mode != string(faults.PushDrop) && mode != string(faults.PushDelay) && mode != string(faults.PushDuplicate) {
			writeVerifyError(w, verify.InvalidParam("Mode", "must be drop, delay, duplicate or off"))
			return
		}
		rule := faults.PushRule{FactorSid: factor, Mode: faults.PushMode(mode)}
		if rule.Mode == faults.PushDelay {
			d, err := time.ParseDuration(form.Get("Delay"))
			if err != nil {
				writeVerifyError(w, verify.InvalidParam("Delay", "must be a duration such as 30s or 10m"))
				return
			}
			rule.Delay = d
		}
		if err := cfg.Faults.SetPush(rule); err != nil {
			writeVerifyError(w, verify.InvalidParam("Delay", err.Error()))
			return
		}
		writeJSON(w, cfg.Faults.Snapshot())
	}))
	mux.HandleFunc("POST /_pushsim/faults/webhook", cfg.accountOnly(func(w http.ResponseWriter, r *http.Request) {
		form, ok := readForm(w, r)
		if !ok {
			return
		}
		rule := faults.WebhookRule{Mode: faults.WebhookMode(form.Get("Mode")), Status: http.StatusInternalServerError}
		switch rule.Mode {
		case "off":
			cfg.Faults.ClearWebhook()
			writeJSON(w, cfg.Faults.Snapshot())
			return
		case faults.WebhookStatus:
			if s := form.Get("Status"); s != "" {
				n, err := strconv.Atoi(s)
				if err != nil || n < 100 || n > 599 {
					writeVerifyError(w, verify.InvalidParam("Status", "must be an HTTP status from 100 to 599"))
					return
				}
				rule.Status = n
			}
		case faults.WebhookTimeout, faults.WebhookClose:
		default:
			writeVerifyError(w, verify.InvalidParam("Mode", "must be status, timeout, close or off"))
			return
		}
		if err := cfg.Faults.SetWebhook(rule); err != nil {
			writeVerifyError(w, verify.InvalidParam("Mode", err.Error()))
			return
		}
		writeJSON(w, cfg.Faults.Snapshot())
	}))

	mux.HandleFunc("GET /_pushsim/clock", cfg.accountOnly(func(w http.ResponseWriter, r *http.Request) {
		writeClock(w, cfg.Clock)
	}))
	mux.HandleFunc("POST /_pushsim/clock", cfg.accountOnly(func(w http.ResponseWriter, r *http.Request) {
		form, ok := readForm(w, r)
		if !ok {
			return
		}
		d, err := time.ParseDuration(form.Get("Advance"))
		if err != nil {
			writeVerifyError(w, verify.InvalidParam("Advance", "must be a positive duration such as 6m or 2h"))
			return
		}
		if err := cfg.Clock.Advance(d); err != nil {
			writeVerifyError(w, verify.InvalidParam("Advance", err.Error()))
			return
		}
		writeClock(w, cfg.Clock)
	}))

	restart := func(reset bool) http.HandlerFunc {
		return cfg.accountOnly(func(w http.ResponseWriter, r *http.Request) {
			next := cfg.Restart(reset)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusAccepted)
			json.NewEncoder(w).Encode(map[string]any{"status": "restarting", "generation": next})
		})
	}
	mux.HandleFunc("POST /_pushsim/restart", restart(false))
	mux.HandleFunc("POST /_pushsim/reset", restart(true))

	mux.HandleFunc("GET /_pushsim/pushes", cfg.accountOnly(func(w http.ResponseWriter, r *http.Request) {
		items, err := cfg.recentOutbox(r, store.OutboxPush)
		if err != nil {
			http.Error(w, "could not read the push log", http.StatusInternalServerError)
			return
		}
		log := make([]pushDelivery, 0, len(items))
		for _, o := range items {
			log = append(log, pushDelivery{ID: o.Ref, ChallengeSid: o.Params.Get("challenge_sid"), FactorSid: o.Params.Get("factor_sid"),
				State: o.State, Attempts: o.Attempts, LastError: o.LastError, Created: o.DateCreated, Updated: o.DateUpdated})
		}
		writeJSON(w, map[string]any{"pushes": log})
	}))
}

// pushDelivery is one push in the push log, newest first.
type pushDelivery struct {
	ID           string    `json:"id"`
	ChallengeSid string    `json:"challenge_sid"`
	FactorSid    string    `json:"factor_sid"`
	State        string    `json:"state"`
	Attempts     int       `json:"attempts"`
	LastError    string    `json:"last_error,omitempty"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
}

func writeClock(w http.ResponseWriter, c Clock) {
	off := c.Offset()
	writeJSON(w, map[string]any{"now": c.Now().UTC().Format(time.RFC3339), "offset": off.String(), "offset_seconds": int64(off / time.Second)})
}

// readForm parses a small form body (or query) and answers the error
// itself when it cannot.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		writeVerifyError(w, verify.InvalidParam("body", "must be a form of at most 4 KB"))
		return nil, false
	}
	return r.Form, true
}
