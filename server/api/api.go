// Package api serves the Verify v2 push API over HTTP: routes under /v2,
// strict form decoding, account and device authentication, Twilio-shaped
// JSON bodies and errors, and paging links built from the public base URL.
package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/pushsim/pushsim/server/store"
	"github.com/pushsim/pushsim/server/verify"
)

// Config sets up the API.
type Config struct {
	Engine    *verify.Engine
	AuthToken string
	// PublicURL is the base of every url, links and meta link, e.g.
	// "http://127.0.0.1:4010".
	PublicURL string
	Logger    *slog.Logger
}

// API is the /v2 HTTP handler.
type API struct {
	engine    *verify.Engine
	authToken string
	publicURL string
	log       *slog.Logger
	mux       *http.ServeMux
}

// New builds the API and its routes.
func New(cfg Config) *API {
	a := &API{engine: cfg.Engine, authToken: cfg.AuthToken, publicURL: strings.TrimRight(cfg.PublicURL, "/"), log: cfg.Logger}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.mux = http.NewServeMux()
	a.routes()
	return a
}

func (a *API) url(path string) string { return a.publicURL + path }

// ServeHTTP serves one request; a panic becomes a 500 with a Twilio body
// instead of a dropped connection.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			a.log.Error("handler panic", "method", r.Method, "path", r.URL.Path, "panic", p)
			a.writeError(w, &verify.Error{Code: 20500, Status: http.StatusInternalServerError, Message: "Internal server error"})
		}
	}()
	a.mux.ServeHTTP(w, r)
}

// caller is who made a request: the account, or a phone through one of its
// factors.
type caller struct {
	account bool
	factor  store.Factor // set for a phone
	token   string       // the raw Basic password of a phone
}

func (c caller) isDevice() bool { return !c.account }

// authKind says which credentials a route takes.
type authKind int

const (
	accountOnly     authKind = iota
	accountOrDevice          // a phone's device JWT is also accepted
	accessToken              // Basic token:<access token> (enrollment)
)

// handlerFunc is a route body: it gets the decoded parameters and returns
// the status and value to send, or an error.
type handlerFunc func(ctx context.Context, r *http.Request, who caller, v url.Values) (int, any, error)

func (a *API) handle(pattern string, auth authKind, h handlerFunc) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		who, err := a.authenticate(r, auth)
		if err != nil {
			a.writeError(w, err)
			return
		}
		v, err := readForm(w, r)
		if err != nil {
			a.writeError(w, err)
			return
		}
		status, body, err := h(r.Context(), r, who, v)
		if err != nil {
			a.writeError(w, a.internal(r, err))
			return
		}
		if _, ok := body.(signatureFields); ok {
			w.Header().Set("Twilio-Verify-Signature-Fields", verify.SignatureFields)
		}
		writeJSON(w, status, body)
	})
}

// internal logs unexpected errors and hides their text from the client.
func (a *API) internal(r *http.Request, err error) error {
	if _, ok := verify.AsError(err); ok || errors.Is(err, context.Canceled) {
		return err
	}
	a.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	return &verify.Error{Code: 20500, Status: http.StatusInternalServerError, Message: "Internal server error"}
}

func (a *API) authenticate(r *http.Request, auth authKind) (caller, error) {
	user, pass, ok := r.BasicAuth()
	if !ok || len(pass) > 16<<10 {
		return caller{}, verify.ErrUnauthenticated
	}
	if user == a.engine.AccountSid() {
		if subtle.ConstantTimeCompare([]byte(pass), []byte(a.authToken)) == 1 {
			return caller{account: true}, nil
		}
		return caller{}, verify.ErrUnauthenticated
	}
	if user != "token" || auth == accountOnly {
		return caller{}, verify.ErrUnauthenticated
	}
	if auth == accessToken {
		return caller{token: pass}, nil
	}
	f, err := a.engine.AuthenticateDevice(r.Context(), r.PathValue("ServiceSid"), r.PathValue("Identity"), pass)
	if err != nil {
		return caller{}, err
	}
	return caller{factor: f, token: pass}, nil
}

// ownFactor refuses a phone acting on a factor that is not its own.
func ownFactor(who caller, factorSid string) error {
	if who.isDevice() && who.factor.Sid != factorSid {
		return verify.ErrForbidden
	}
	return nil
}

type errorBody struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

func (a *API) writeError(w http.ResponseWriter, err error) {
	e, ok := verify.AsError(err)
	if !ok {
		e = &verify.Error{Code: 20500, Status: http.StatusInternalServerError, Message: "Internal server error"}
	}
	if e.Status == http.StatusUnauthorized {
		// The SDK resyncs its clock from this header; net/http would add
		// it too, but a 401 without it is a protocol bug worth being sure of.
		w.Header().Set("Date", a.engine.Now().Format(http.TimeFormat))
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
	}
	writeJSON(w, e.Status, errorBody{Code: e.Code, Message: e.Message, MoreInfo: e.MoreInfo(), Status: e.Status})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	b, err := json.Marshal(body)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"code":20500,"message":"Internal server error","more_info":"https://www.twilio.com/docs/errors/20500","status":500}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}
