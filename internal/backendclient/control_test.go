package backendclient

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// controlRequest is one request the fake control API was sent.
type controlRequest struct {
	method, path string
	form         url.Values
	user         string
}

// fakeControl answers every request with a fixed body and status and
// keeps what it was sent.
type fakeControl struct {
	mu     sync.Mutex
	status int
	body   string
	seen   []controlRequest
}

func (f *fakeControl) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(raw))
	if r.Method == http.MethodGet {
		form = r.URL.Query()
	}
	user, _, _ := r.BasicAuth()
	f.mu.Lock()
	f.seen = append(f.seen, controlRequest{method: r.Method, path: r.URL.Path, form: form, user: user})
	status, body := f.status, f.body
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func (f *fakeControl) last(t *testing.T) controlRequest {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.seen) == 0 {
		t.Fatal("no request reached the server")
	}
	return f.seen[len(f.seen)-1]
}

const faultsBody = `{"push":[{"factor_sid":"","mode":"delay","delay":"2m0s"},{"factor_sid":"YF00000000000000000000000000000001","mode":"drop"}],"webhook":{"mode":"status","status":503}}`

// Each control sends the contract's method, path and form fields with
// the account's credentials, and decodes the answer into typed values:
// push delays and the clock's offset as durations.
func TestControlCallsAndAnswers(t *testing.T) {
	const sid = "AC00000000000000000000000000000000"
	fake := &fakeControl{status: http.StatusOK, body: faultsBody}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	c := New(srv.URL, sid, "secret", srv.Client(), nil)
	ctx := context.Background()

	wantFaults := func(t *testing.T, f Faults) {
		t.Helper()
		all, ok := f.PushRule("")
		if !ok || all.Mode != PushDelay || all.Delay != 2*time.Minute {
			t.Errorf("the rule for every factor: %+v, %v", all, ok)
		}
		one, ok := f.PushRule("YF00000000000000000000000000000001")
		if !ok || one.Mode != PushDrop || one.Delay != 0 {
			t.Errorf("the factor's rule: %+v, %v", one, ok)
		}
		if f.Webhook == nil || f.Webhook.Mode != WebhookStatus || f.Webhook.Status != 503 || !f.Any() {
			t.Errorf("the webhook rule: %+v", f.Webhook)
		}
	}
	for _, tc := range []struct {
		name     string
		call     func() (Faults, error)
		method   string
		path     string
		form     url.Values
		unlogged bool
	}{
		{"read", func() (Faults, error) { return c.Faults(ctx) }, http.MethodGet, "/_pushsim/faults", url.Values{}, true},
		{"push delay for all", func() (Faults, error) {
			return c.SetPushFault(ctx, PushFault{Mode: PushDelay, Delay: 2 * time.Minute})
		}, http.MethodPost, "/_pushsim/faults/push", url.Values{"Mode": {"delay"}, "Delay": {"2m0s"}}, false},
		{"push drop for one", func() (Faults, error) {
			return c.SetPushFault(ctx, PushFault{FactorSid: "YF00000000000000000000000000000001", Mode: PushDrop, Delay: time.Hour})
		}, http.MethodPost, "/_pushsim/faults/push", url.Values{"Mode": {"drop"}, "FactorSid": {"YF00000000000000000000000000000001"}}, false},
		{"push off", func() (Faults, error) { return c.SetPushFault(ctx, PushFault{Mode: FaultOff}) },
			http.MethodPost, "/_pushsim/faults/push", url.Values{"Mode": {"off"}}, false},
		{"webhook status", func() (Faults, error) { return c.SetWebhookFault(ctx, WebhookFault{Mode: WebhookStatus, Status: 503}) },
			http.MethodPost, "/_pushsim/faults/webhook", url.Values{"Mode": {"status"}, "Status": {"503"}}, false},
		{"webhook timeout", func() (Faults, error) { return c.SetWebhookFault(ctx, WebhookFault{Mode: WebhookTimeout, Status: 500}) },
			http.MethodPost, "/_pushsim/faults/webhook", url.Values{"Mode": {"timeout"}}, false},
		{"all off", func() (Faults, error) { return c.ClearFaults(ctx) }, http.MethodDelete, "/_pushsim/faults", url.Values{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logged := len(c.Log().Entries())
			f, err := tc.call()
			if err != nil {
				t.Fatal(err)
			}
			wantFaults(t, f)
			got := fake.last(t)
			if got.method != tc.method || got.path != tc.path || got.user != sid {
				t.Errorf("sent %s %s as %q, want %s %s as %s", got.method, got.path, got.user, tc.method, tc.path, sid)
			}
			if got.form.Encode() != tc.form.Encode() {
				t.Errorf("sent form %q, want %q", got.form.Encode(), tc.form.Encode())
			}
			if n := len(c.Log().Entries()) - logged; n != map[bool]int{true: 0, false: 1}[tc.unlogged] {
				t.Errorf("%d entries logged", n)
			}
		})
	}

	fake.body = `{"now":"2026-03-04T09:51:00Z","offset":"10m0s","offset_seconds":600}`
	// In this order: the advance is the request checked after the loop.
	for _, step := range []struct {
		name string
		call func() (ServerClock, error)
	}{
		{"clock read", func() (ServerClock, error) { return c.ServerClock(ctx) }},
		{"clock advance", func() (ServerClock, error) { return c.AdvanceClock(ctx, 10*time.Minute) }},
	} {
		name := step.name
		clock, err := step.call()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if clock.Offset != 10*time.Minute || !clock.Now.Equal(time.Date(2026, 3, 4, 9, 51, 0, 0, time.UTC)) {
			t.Errorf("%s: %+v", name, clock)
		}
	}
	if got := fake.last(t); got.method != http.MethodPost || got.path != "/_pushsim/clock" || got.form.Get("Advance") != "10m0s" {
		t.Errorf("advance sent %s %s %v", got.method, got.path, got.form)
	}

	fake.status, fake.body = http.StatusAccepted, `{"status":"restarting","generation":4}`
	for name, call := range map[string]func(context.Context) (Restarting, error){"/_pushsim/restart": c.Restart, "/_pushsim/reset": c.Reset} {
		r, err := call(ctx)
		if err != nil || r.Generation != 4 || r.Status != "restarting" {
			t.Errorf("%s: %+v, %v", name, r, err)
		}
		if got := fake.last(t); got.method != http.MethodPost || got.path != name || got.user != sid {
			t.Errorf("%s sent %s %s as %q", name, got.method, got.path, got.user)
		}
	}

	fake.status, fake.body = http.StatusOK, `{"status":"ok","generation":4}`
	if h, err := c.Health(ctx); err != nil || h.Generation != 4 {
		t.Errorf("health: %+v, %v", h, err)
	}
	if got := fake.last(t); got.user != "" {
		t.Errorf("health sent the account's credentials, which it does not need")
	}

	fake.body = `{"deliveries":[{"uuid":"u2","type":"challenge.approved","state":"pending","attempts":3,"last_status":500},{"uuid":"u1","type":"factor.verified","state":"done","attempts":1,"last_status":200}]}`
	ds, err := c.WebhookDeliveries(ctx, 20)
	if err != nil || len(ds) != 2 || !ds[0].Failing() || ds[1].Failing() || ds[0].LastStatus != 500 {
		t.Errorf("deliveries: %+v, %v", ds, err)
	}
	if got := fake.last(t); got.path != "/_pushsim/webhooks" || got.form.Get("limit") != "20" {
		t.Errorf("deliveries sent %s %v", got.path, got.form)
	}
}

// A refusal comes back as an *APIError with Verify's code and message.
func TestControlRefusalIsAnAPIError(t *testing.T) {
	fake := &fakeControl{status: http.StatusBadRequest,
		body: `{"code":60200,"message":"Invalid parameter: Delay","more_info":"https://www.twilio.com/docs/errors/60200","status":400}`}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	c := New(srv.URL, "AC00000000000000000000000000000000", "secret", srv.Client(), nil)
	_, err := c.SetPushFault(context.Background(), PushFault{Mode: PushDelay})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 400 || apiErr.Code != 60200 || !strings.Contains(err.Error(), "Invalid parameter: Delay") {
		t.Fatalf("got %v", err)
	}
}
