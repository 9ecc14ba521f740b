package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pushsim/pushsim/server/store"
)

// TestRestartKeepsFactorAndPendingChallenge stops the server and starts it
// on the same data directory: the factor and the pending challenge are still
// there and the challenge can be approved.
func TestRestartKeepsFactorAndPendingChallenge(t *testing.T) {
	dir := t.TempDir()
	clock := newClock()
	h := newHarness(t, dir, clock)
	_, p := setup(h, aliceID)
	sid := h.challenge(p, nil)
	h.close()

	h2 := newHarness(t, dir, clock)
	if h2.sid != h.sid {
		t.Fatalf("account changed across restart: %s then %s", h.sid, h2.sid)
	}
	p.h = h2
	status, _, body := h2.call(http.MethodGet, p.entityPath()+"/Factors/"+p.factorSid, nil, h2.sid, h2.token)
	if status != http.StatusOK || !strings.Contains(string(body), `"status":"verified"`) {
		t.Fatalf("factor after restart: %d %s", status, body)
	}
	if status, body := p.answer(sid, "approved", nil); status != http.StatusOK {
		t.Fatalf("approve after restart: %d %s", status, body)
	}
	// The access-token key survived too: a token minted before the restart
	// still enrolls.
	var svc struct{ Sid string }
	h2.account(http.MethodPost, "/v2/Services", url.Values{"FriendlyName": {"Second"}}, http.StatusCreated, &svc)
	tok := h2.accessToken(svc.Sid, "bob-00000001")
	h2.close()
	h3 := newHarness(t, dir, clock)
	if status, body := newPhone(h3, svc.Sid, "bob-00000001").enroll(tok); status != http.StatusCreated {
		t.Fatalf("token minted before restart: %d %s", status, body)
	}
}

// TestConcurrentAnswersExactlyOnce races ten answers per challenge: every
// round exactly one wins, and exactly one webhook is queued for it.
func TestConcurrentAnswersExactlyOnce(t *testing.T) {
	h := newHarness(t, "", newClock())
	svc, p := setup(h, aliceID)
	h.account(http.MethodPost, "/v2/Services/"+svc+"/Webhooks", url.Values{
		"FriendlyName": {"audit"}, "EventTypes": {"challenge.approved", "challenge.denied"}, "WebhookUrl": {"http://127.0.0.1:9/hook"},
	}, http.StatusCreated, nil)
	const rounds, racers = 200, 10
	for round := 0; round < rounds; round++ {
		sid := h.challenge(p, nil)
		// Each racer signs the pending rendering before anyone answers, so
		// all ten carry a valid signature.
		code, hdr, body := p.device(http.MethodGet, p.entityPath()+"/Challenges/"+sid, nil)
		if code != http.StatusOK {
			t.Fatal(code)
		}
		fields := strings.Split(hdr.Get("Twilio-Verify-Signature-Fields"), ",")
		var wins, responded atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < racers; i++ {
			status := "approved"
			if i%2 == 1 {
				status = "denied"
			}
			payload, err := signFields(p, body, fields, status)
			if err != nil {
				t.Fatal(err)
			}
			jwt := p.jwt()
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, _, resp := h.call(http.MethodPost, p.entityPath()+"/Challenges/"+sid, url.Values{"AuthPayload": {payload}}, "token", jwt)
				switch {
				case code == http.StatusOK:
					wins.Add(1)
				case code == http.StatusForbidden && strings.Contains(string(resp), `"code":60322`):
					responded.Add(1)
				default:
					t.Errorf("unexpected answer %d %s", code, resp)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 || responded.Load() != racers-1 {
			t.Fatalf("round %d: %d wins, %d already-responded", round, wins.Load(), responded.Load())
		}
	}
	if n := countOutbox(t, h, store.OutboxWebhook); n != rounds {
		t.Fatalf("%d webhook deliveries queued for %d answers", n, rounds)
	}
}
