package backendclient

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
)

// headerLog answers every request with an empty JSON object and keeps the
// Authorization header each path was sent.
type headerLog struct {
	mu   sync.Mutex
	auth map[string]string
}

func (h *headerLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.auth[r.URL.Path] = r.Header.Get("Authorization")
	h.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte("{}"))
}

// The sample backend is called with the account's credentials, as a
// customer's backend calls its own, except access-token, which is the
// phones' endpoint; a client without credentials sends none.
func TestBackendCallsCarryTheAccountsCredentials(t *testing.T) {
	const sid, token = "AC00000000000000000000000000000000", "secret"
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(sid+":"+token))
	for _, tc := range []struct {
		name       string
		sid, token string
		want       string
	}{
		{"with credentials", sid, token, basic},
		{"without", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen := &headerLog{auth: map[string]string{}}
			srv := httptest.NewServer(seen)
			defer srv.Close()
			c := New(srv.URL, tc.sid, tc.token, srv.Client(), nil)
			ctx := context.Background()
			form := url.Values{"identity": {"alice"}}
			calls := []Call{
				{Method: http.MethodPost, Path: "/backend/hash-identity", Form: form},
				{Method: http.MethodGet, Path: "/backend/list-factors", Form: form},
				{Method: http.MethodGet, Path: "/backend/challenges", Form: form},
				{Method: http.MethodGet, Path: "/backend/webhook/events"},
				{Method: http.MethodPost, Path: "/backend/create-challenge", Form: form},
				{Method: http.MethodPost, Path: "/backend/resend", Form: form},
				{Method: http.MethodPost, Path: "/backend/expire", Form: form},
				{Method: http.MethodPost, Path: "/backend/access-token", Form: form},
			}
			for _, call := range calls {
				if err := c.Do(ctx, call, nil); err != nil {
					t.Fatalf("%s %s: %v", call.Method, call.Path, err)
				}
			}
			for _, call := range calls {
				want := tc.want
				if call.Path == "/backend/access-token" {
					want = ""
				}
				if got := seen.auth[call.Path]; got != want {
					t.Errorf("%s sent Authorization %q, want %q", call.Path, got, want)
				}
			}
		})
	}
}
