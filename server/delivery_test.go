package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pushsim/pushsim/device/pushclient"
	"github.com/pushsim/pushsim/server"
	"github.com/pushsim/pushsim/server/webhook"
	"github.com/twilio/twilio-go/client"
)

// receiver is a phone's push socket for tests.
type receiver struct {
	mu   sync.Mutex
	got  []pushclient.Message
	seen chan pushclient.Message
}

func (h *harness) connectPush(t testing.TB, secret string) (*receiver, context.CancelFunc) {
	t.Helper()
	r := &receiver{seen: make(chan pushclient.Message, 100)}
	_, stop := startPushClient(t, pushclient.Config{
		URL: "ws" + strings.TrimPrefix(h.srv.URL, "http") + "/push/connect", Secret: secret, Now: h.clock.Now,
		OnMessage: r.add,
	})
	return r, stop
}

func (r *receiver) add(m pushclient.Message) {
	r.mu.Lock()
	r.got = append(r.got, m)
	r.mu.Unlock()
	r.seen <- m
}

// startPushClient runs a phone's push client, retrying fast, until stop
// or the end of the test.
func startPushClient(t testing.TB, cfg pushclient.Config) (*pushclient.Client, context.CancelFunc) {
	t.Helper()
	cfg.Backoff = pushclient.Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond}
	c, err := pushclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return c, stop
}

func (r *receiver) next(t testing.TB, within time.Duration) (pushclient.Message, bool) {
	t.Helper()
	select {
	case m := <-r.seen:
		return m, true
	case <-time.After(within):
		return pushclient.Message{}, false
	}
}

// pushSecret is what the phone connects with; it registers the token derived
// from it.
func (p *phone) pushSecret() string {
	return "fcm-registration-secret-" + strings.Repeat("x", 20) + p.identity
}

// TestOfflinePhoneGetsPushOnReconnect: a challenge created while the phone
// was away arrives as soon as it reconnects within the TTL, and never after.
// Meanwhile the push waits in the outbox on disk, not in the server's
// memory, so phones that stay away for days cost the server nothing.
func TestOfflinePhoneGetsPushOnReconnect(t *testing.T) {
	h := newHarness(t, "", newClock())
	h.run()
	_, p := setup(h, aliceID)

	sid := h.challenge(p, url.Values{"Details.Message": {"Approve sign-in?"}})
	for range 3 {
		h.challenge(p, nil) // more for the phone that is away
	}
	if q := h.srv.PushStats().Queued; q != 0 {
		t.Fatalf("%d pushes held in memory for a phone that is away", q)
	}
	r, _ := h.connectPush(t, p.pushSecret())
	m, ok := r.next(t, 5*time.Second)
	if !ok {
		t.Fatal("no push after reconnect")
	}
	want := map[string]string{"type": "verify_push_challenge", "challenge_sid": sid, "factor_sid": p.factorSid, "message": "Approve sign-in?"}
	for k, v := range want {
		if m.Data[k] != v {
			t.Fatalf("push data %v, want %v", m.Data, want)
		}
	}

	for range 3 {
		if _, ok := r.next(t, 5*time.Second); !ok {
			t.Fatal("the other pushes made while away did not arrive")
		}
	}

	// Connected: a new challenge arrives at once.
	sid2 := h.challenge(p, nil)
	if m, ok := r.next(t, 5*time.Second); !ok || m.Data["challenge_sid"] != sid2 {
		t.Fatalf("live push: %v %v", ok, m.Data)
	}
	// Every ack reaches the outbox, so none is offered again.
	waitFor(t, func() bool { return countOutboxState(t, h, "push", "done") == 5 })
}

// A push whose challenge expired while the phone was away is recorded as
// dropped and never delivered: the first push the phone gets when it comes
// back is the next challenge's.
func TestExpiredPushNeverDelivered(t *testing.T) {
	h := newHarness(t, "", newClock())
	h.run()
	_, p := setup(h, aliceID)
	h.challenge(p, url.Values{"ExpirationDate": {h.clock.Now().Add(time.Minute).Format(time.RFC3339)}})
	h.clock.Advance(2 * time.Minute)
	waitFor(t, func() bool { return countOutboxState(t, h, "push", "dropped") == 1 })
	r, _ := h.connectPush(t, p.pushSecret())
	fresh := h.challenge(p, nil)
	if m, ok := r.next(t, 5*time.Second); !ok || m.ID != fresh {
		t.Fatalf("first push after coming back: %v %v, want the one of %s", ok, m.Data, fresh)
	}
}

// TestQueuedWorkSurvivesRestart: a push and a webhook queued by a server
// that never got to deliver them (as if killed) go out after restart.
func TestQueuedWorkSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	clock := newClock()
	var mu sync.Mutex
	var got []url.Values
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		got = append(got, r.PostForm)
		mu.Unlock()
	}))
	defer hook.Close()

	h := newHarness(t, dir, clock) // no run(): nothing is delivered
	svc, p := setup(h, aliceID)
	h.account(http.MethodPost, "/v2/Services/"+svc+"/Webhooks", url.Values{
		"FriendlyName": {"audit"}, "EventTypes": {"challenge.approved"}, "WebhookUrl": {hook.URL + "/events"}}, http.StatusCreated, nil)
	approved := h.challenge(p, nil)
	p.answer(approved, "approved", nil)
	pending := h.challenge(p, nil)
	h.close()

	h2 := newHarness(t, dir, clock)
	h2.run()
	p.h = h2
	r, _ := h2.connectPush(t, p.pushSecret())
	seen := map[string]bool{}
	for len(seen) < 2 {
		m, ok := r.next(t, 5*time.Second)
		if !ok {
			t.Fatalf("after restart got pushes for %v", seen)
		}
		seen[m.Data["challenge_sid"]] = true
	}
	if !seen[approved] || !seen[pending] {
		t.Fatalf("pushes after restart: %v", seen)
	}
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 1 })
	mu.Lock()
	defer mu.Unlock()
	if got[0].Get("challenge_sid") != approved || got[0].Get("type") != "challenge.approved" {
		t.Fatalf("webhook after restart: %v", got[0])
	}
}

// TestWebhookRetriesAndSignatures: every delivery validates with twilio-go's
// validator; an endpoint failing twice gets three attempts with one uuid.
func TestWebhookRetriesAndSignatures(t *testing.T) {
	clock := newClock()
	var mu sync.Mutex
	var attempts []url.Values
	var hookURL string
	validator := client.NewRequestValidator(server.TestAuthToken)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		params := map[string]string{}
		for k := range r.PostForm {
			params[k] = r.PostForm.Get(k)
		}
		if !validator.Validate(hookURL, params, r.Header.Get("X-Twilio-Signature")) {
			t.Errorf("delivery does not validate: %v", r.PostForm)
		}
		if r.Header.Get("I-Twilio-Idempotency-Token") != r.PostForm.Get("uuid") {
			t.Errorf("idempotency token %q, uuid %q", r.Header.Get("I-Twilio-Idempotency-Token"), r.PostForm.Get("uuid"))
		}
		mu.Lock()
		attempts = append(attempts, r.PostForm)
		n := len(attempts)
		mu.Unlock()
		if n <= 2 {
			http.Error(w, "try again", http.StatusServiceUnavailable)
		}
	}))
	defer hook.Close()
	hookURL = hook.URL + "/verify-events?source=pushsim"

	h := newHarness(t, "", clock)
	h.run()
	svc, p := setup(h, aliceID)
	h.account(http.MethodPost, "/v2/Services/"+svc+"/Webhooks", url.Values{
		"FriendlyName": {"backend"}, "EventTypes": {"*"}, "WebhookUrl": {hookURL}}, http.StatusCreated, nil)
	sid := h.challenge(p, url.Values{"HiddenDetails": {`{"ip":"203.0.113.7"}`}})
	p.answer(sid, "denied", nil)

	// The backoff runs from when the dispatcher records a failure, which is
	// after the endpoint saw the attempt: move the clock only once it has.
	recorded := func(n int) func() bool {
		return func() bool {
			for _, o := range outboxItems(t, h, "webhook") {
				if o.Target == hookURL {
					return o.Attempts == n
				}
			}
			return false
		}
	}
	waitFor(t, func() bool { return len(snapshot(&mu, &attempts)) == 1 })
	for i := 1; i <= 2; i++ {
		waitFor(t, recorded(i))
		clock.Advance(10 * time.Second) // past the backoff
		waitFor(t, func() bool { return len(snapshot(&mu, &attempts)) == i+1 })
	}
	got := snapshot(&mu, &attempts)
	for _, a := range got {
		if a.Get("uuid") != got[0].Get("uuid") || a.Get("type") != "challenge.denied" || a.Get("challenge_sid") != sid ||
			a.Get("factor_sid") != p.factorSid || a.Get("challenge_hidden_details") != `{"ip":"203.0.113.7"}` || a.Get("entity_identity") != aliceID {
			t.Fatalf("attempts differ or lack fields: %v", got)
		}
	}
	waitFor(t, func() bool { return countOutboxState(t, h, "webhook", "done") == 1 })
	var log struct {
		Deliveries []struct {
			UUID, Type, URL, State string
			Attempts               int
			LastStatus             int `json:"last_status"`
		}
	}
	h.account(http.MethodGet, "/_pushsim/webhooks", nil, http.StatusOK, &log)
	var ours []string
	for _, d := range log.Deliveries {
		if d.URL == hookURL {
			ours = append(ours, fmt.Sprintf("%s %s %d %d", d.Type, d.State, d.Attempts, d.LastStatus))
		}
	}
	// The log shows the denial delivered on its third attempt.
	if len(ours) == 0 || ours[0] != "challenge.denied done 3 200" {
		t.Fatalf("delivery log for %s: %v", hookURL, ours)
	}

	// Far past any backoff, the finished delivery must still not go out
	// again. New work proves the dispatcher has read the outbox since the
	// clock moved: an approval, which this "*" webhook gets too. A finished
	// row that looked due would come back in that same read, ahead of the
	// approval (rows come in next-attempt order), and be sent with it.
	clock.Advance(time.Hour)
	approved := h.challenge(p, nil)
	p.answer(approved, "approved", nil)
	waitFor(t, func() bool {
		for _, a := range snapshot(&mu, &attempts) {
			if a.Get("challenge_sid") == approved {
				return true
			}
		}
		return false
	})
	// Its delivery recorded, too: the attempt is over, not just begun.
	waitFor(t, func() bool { return countOutboxState(t, h, "webhook", "done") == 2 })
	got = snapshot(&mu, &attempts)
	denials := 0
	for _, a := range got {
		if a.Get("type") == "challenge.denied" {
			denials++
		}
	}
	if denials != 3 || len(got) != 4 || got[3].Get("type") != "challenge.approved" {
		t.Fatalf("after the clock moved: %d attempts, %d of them the denial; want the 3 denial attempts then the approval", len(got), denials)
	}
}

func snapshot(mu *sync.Mutex, v *[]url.Values) []url.Values {
	mu.Lock()
	defer mu.Unlock()
	return append([]url.Values(nil), *v...)
}

// loopbackResolver answers every name with 127.0.0.1, like a rebinding DNS.
type loopbackResolver struct{}

func (loopbackResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
}

func TestStrictWebhookPolicyRefusesPrivateURLs(t *testing.T) {
	h := newHarnessWith(t, server.Config{WebhookPolicy: webhook.Strict, WebhookResolver: loopbackResolver{}}, newClock())
	var svc struct{ Sid string }
	h.account(http.MethodPost, "/v2/Services", url.Values{"FriendlyName": {"strict"}}, http.StatusCreated, &svc)
	for _, u := range []string{"http://127.0.0.1/h", "http://[::1]/h", "http://10.0.0.1/h", "http://169.254.169.254/latest/meta-data", "https://rebind.example.com/h"} {
		status, _, body := h.call(http.MethodPost, "/v2/Services/"+svc.Sid+"/Webhooks",
			url.Values{"FriendlyName": {"x"}, "EventTypes": {"*"}, "WebhookUrl": {u}}, h.sid, h.token)
		expectError(t, status, body, http.StatusBadRequest, 60306)
	}
	// The bundled backend's own sink stays allowed.
	h.account(http.MethodPost, "/v2/Services/"+svc.Sid+"/Webhooks",
		url.Values{"FriendlyName": {"sink"}, "EventTypes": {"*"}, "WebhookUrl": {h.srv.Backend().WebhookURL()}}, http.StatusCreated, nil)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A push with a time to live of 0 is delivered now or never: for a phone
// that is away it is dropped at once, and the phone does not get it when it
// comes back a moment later.
func TestNowOnlyPushForPhoneAwayIsDropped(t *testing.T) {
	h := newHarness(t, "", newClock())
	h.run()
	_, p := setup(h, aliceID)
	first := h.challenge(p, nil)
	h.account(http.MethodPost, p.entityPath()+"/Challenges/"+first+"/Notifications", url.Values{"Ttl": {"0"}}, http.StatusCreated, nil)
	waitFor(t, func() bool { return countOutboxState(t, h, "push", "dropped") == 1 })

	r, _ := h.connectPush(t, p.pushSecret())
	second := h.challenge(p, nil)
	// The offer on connecting and the push of the new challenge may
	// arrive in either order; the dropped push is in neither.
	got := map[string]bool{}
	for range 2 {
		m, ok := r.next(t, 5*time.Second)
		if !ok {
			t.Fatalf("got %v, want the pushes of %s and %s", got, first, second)
		}
		got[m.ID] = true
	}
	if !got[first] || !got[second] {
		t.Fatalf("got %v, want the pushes of %s and %s", got, first, second)
	}
	third := h.challenge(p, nil)
	if m, ok := r.next(t, 5*time.Second); !ok || m.ID != third {
		t.Fatalf("got %s, want the push of %s", m.ID, third)
	}
}
