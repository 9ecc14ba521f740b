package server_test

import (
	"net/http"
	"net/url"
	"reflect"
	"sync"
	"testing"
	"time"

	verifyapi "github.com/twilio/twilio-go/rest/verify/v2"
)

// TestTwilioHelperLibrary drives the backend side with twilio-go exactly as
// an integrator's code would, and checks every response decodes into its
// types with the values that were sent.
func TestTwilioHelperLibrary(t *testing.T) {
	h := newHarness(t, "", newClock())
	var mu sync.Mutex
	var requests []*http.Request
	tw := h.twilio(func(r *http.Request) {
		mu.Lock()
		requests = append(requests, r)
		mu.Unlock()
	})

	svc, err := tw.CreateService((&verifyapi.CreateServiceParams{}).SetFriendlyName("Acme Push").SetPushIncludeDate(true).SetTotpIssuer("Acme"))
	if err != nil {
		t.Fatal(err)
	}
	if *svc.FriendlyName != "Acme Push" || *svc.AccountSid != h.sid || len(*svc.Sid) != 34 {
		t.Fatalf("service: %+v", svc)
	}
	push := (*svc.Push).(map[string]any)
	if push["include_date"] != true {
		t.Fatalf("push settings not echoed: %v", push)
	}
	if totp := (*svc.Totp).(map[string]any); totp["issuer"] != "Acme" {
		t.Fatalf("totp settings not echoed: %v", totp)
	}

	identity := "ff483d1ff591898a9942916050d2ca3f"
	at, err := tw.CreateAccessToken(*svc.Sid, (&verifyapi.CreateAccessTokenParams{}).
		SetIdentity(identity).SetFactorType("push").SetFactorFriendlyName("Alice's phone").SetTtl(120))
	if err != nil {
		t.Fatal(err)
	}
	if *at.EntityIdentity != identity || *at.FactorType != "push" || at.Ttl != 120 || *at.FactorFriendlyName != "Alice's phone" || *at.Token == "" {
		t.Fatalf("access token: %+v", at)
	}
	fetched, err := tw.FetchAccessToken(*svc.Sid, *at.Sid)
	if err != nil || *fetched.Token != *at.Token {
		t.Fatalf("fetch access token: %v %+v", err, fetched)
	}

	p := newPhone(h, *svc.Sid, identity)
	if status, body := p.enroll(*at.Token); status != http.StatusCreated {
		t.Fatalf("enroll: %d %s", status, body)
	}
	if status, body := p.verifyFactor(); status != http.StatusOK {
		t.Fatalf("verify: %d %s", status, body)
	}

	fields := []any{map[string]any{"label": "Action", "value": "Sign in"}, map[string]any{"label": "Location", "value": "Lisbon"}}
	hidden := map[string]any{"ip": "172.168.1.234"}
	expires := h.clock.Now().Add(10 * time.Minute)
	var sids []string
	for i := 0; i < 5; i++ {
		c, err := tw.CreateChallenge(*svc.Sid, identity, (&verifyapi.CreateChallengeParams{}).
			SetFactorSid(p.factorSid).SetDetailsMessage("Sign in to Acme?").SetDetailsFields(fields).
			SetHiddenDetails(hidden).SetExpirationDate(expires))
		if err != nil {
			t.Fatal(err)
		}
		if *c.Status != "pending" || *c.FactorSid != p.factorSid || !c.ExpirationDate.Equal(expires) || c.DateResponded != nil {
			t.Fatalf("challenge: %+v", c)
		}
		details := (*c.Details).(map[string]any)
		if details["message"] != "Sign in to Acme?" || !reflect.DeepEqual(details["fields"], fields) || details["date"] == nil {
			t.Fatalf("details: %v", details)
		}
		if !reflect.DeepEqual(*c.HiddenDetails, any(hidden)) {
			t.Fatalf("hidden details: %v", *c.HiddenDetails)
		}
		sids = append(sids, *c.Sid)
		h.clock.Advance(time.Second)
	}

	got, err := tw.FetchChallenge(*svc.Sid, identity, sids[2])
	if err != nil || *got.Sid != sids[2] || *got.Identity != identity || *got.AccountSid != h.sid {
		t.Fatalf("fetch challenge: %v %+v", err, got)
	}

	mu.Lock()
	requests = nil
	mu.Unlock()
	listed, err := tw.ListChallenge(*svc.Sid, identity, (&verifyapi.ListChallengeParams{}).SetFactorSid(p.factorSid).SetPageSize(2))
	if err != nil {
		t.Fatal(err)
	}
	var listedSids []string
	for _, c := range listed {
		listedSids = append(listedSids, *c.Sid)
	}
	if !reflect.DeepEqual(listedSids, sids) {
		t.Fatalf("paged list = %v, want %v", listedSids, sids)
	}
	mu.Lock()
	pages := requests
	mu.Unlock()
	if len(pages) != 3 {
		t.Fatalf("followed %d pages, want 3", len(pages))
	}
	for i, r := range pages[1:] {
		q := r.URL.Query()
		if q.Get("PageToken") == "" || q.Get("PageSize") != "2" || q.Get("FactorSid") != p.factorSid {
			t.Fatalf("page %d request %s lacks PageToken/PageSize/FactorSid", i+1, r.URL)
		}
	}

	wh, err := tw.CreateWebhook(*svc.Sid, (&verifyapi.CreateWebhookParams{}).SetFriendlyName("backend").
		SetEventTypes([]string{"challenge.approved", "challenge.denied"}).SetWebhookUrl("http://127.0.0.1:9/hook"))
	if err != nil {
		t.Fatal(err)
	}
	if *wh.Status != "enabled" || *wh.Version != "v2" || *wh.WebhookMethod != "POST" || !reflect.DeepEqual(*wh.EventTypes, []string{"challenge.approved", "challenge.denied"}) {
		t.Fatalf("webhook: %+v", wh)
	}
	hooks, err := tw.ListWebhook(*svc.Sid, nil)
	if err != nil || len(hooks) != 1 || *hooks[0].Sid != *wh.Sid {
		t.Fatalf("list webhooks: %v %+v", err, hooks)
	}
	updated, err := tw.UpdateWebhook(*svc.Sid, *wh.Sid, (&verifyapi.UpdateWebhookParams{}).SetStatus("disabled").SetEventTypes([]string{"*"}))
	if err != nil || *updated.Status != "disabled" || !reflect.DeepEqual(*updated.EventTypes, []string{"*"}) || *updated.WebhookUrl != "http://127.0.0.1:9/hook" {
		t.Fatalf("update webhook: %v %+v", err, updated)
	}
	if err := tw.DeleteWebhook(*svc.Sid, *wh.Sid); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.FetchWebhook(*svc.Sid, *wh.Sid); err == nil {
		t.Fatal("deleted webhook still fetched")
	}

	factors, err := tw.ListFactor(*svc.Sid, identity, nil)
	if err != nil || len(factors) != 1 || *factors[0].Status != "verified" {
		t.Fatalf("list factors: %v %+v", err, factors)
	}
	cfg := (*factors[0].Config).(map[string]any)
	if cfg["credential_sid"] != p.credentialSid || cfg["notification_platform"] != "fcm" {
		t.Fatalf("factor config: %v", cfg)
	}
	if err := tw.DeleteFactor(*svc.Sid, identity, p.factorSid); err != nil {
		t.Fatal(err)
	}
	if factors, err := tw.ListFactor(*svc.Sid, identity, nil); err != nil || len(factors) != 0 {
		t.Fatalf("factor survived delete: %v %+v", err, factors)
	}
	// The deleted factor's key no longer opens anything.
	status, hdr, body := p.device(http.MethodGet, p.entityPath()+"/Challenges", url.Values{"FactorSid": {p.factorSid}})
	expectError(t, status, body, http.StatusUnauthorized, 20003)
	if hdr.Get("Date") == "" {
		t.Fatal("401 without Date")
	}
}
