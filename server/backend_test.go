package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pushsim/pushsim/server/backend"
	"github.com/pushsim/pushsim/server/webhook"
)

func TestSampleBackend(t *testing.T) {
	h := newHarness(t, "", newClock())
	post := func(path string, form url.Values) (int, map[string]any) {
		status, _, body := h.call(http.MethodPost, path, form, "", "")
		var m map[string]any
		json.Unmarshal(body, &m)
		return status, m
	}

	status, tok := post("/backend/access-token", url.Values{"identity": {"alice"}})
	hashed := backend.HashIdentity("alice")
	if status != http.StatusOK || tok["identity"] != hashed || tok["factorType"] != "push" || tok["token"] == "" || !strings.HasPrefix(tok["serviceSid"].(string), "VA") {
		t.Fatalf("access-token: %d %v", status, tok)
	}
	// The iOS sample sends JSON; the same service is found again.
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/backend/access-token", strings.NewReader(`{"identity":"alice"}`))
	req.Header.Set("Content-Type", "Application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok2 map[string]string
	json.NewDecoder(resp.Body).Decode(&tok2)
	resp.Body.Close()
	if tok2["serviceSid"] != tok["serviceSid"] || tok2["token"] == tok["token"] {
		t.Fatalf("JSON access-token: %v", tok2)
	}

	p := newPhone(h, tok["serviceSid"].(string), hashed)
	if status, body := p.enroll(tok["token"].(string)); status != http.StatusCreated {
		t.Fatalf("enroll with backend token: %d %s", status, body)
	}
	if status, _ := post("/backend/create-challenge", url.Values{"identity": {"alice"}, "message": {"Log in?"}}); status != http.StatusNotFound {
		t.Fatalf("challenge before verification: %d", status)
	}
	p.verifyFactor()

	status, c := post("/backend/create-challenge", url.Values{"identity": {"alice"}, "message": {"Log in to Acme?"}, "location": {"Lisbon"}, "browser": {"Firefox"}})
	if status != http.StatusCreated || c["factor_sid"] != p.factorSid {
		t.Fatalf("create-challenge: %d %v", status, c)
	}
	fields := c["details"].(map[string]any)["fields"].([]any)
	if len(fields) != 2 || fields[0].(map[string]any)["label"] != "browser" || fields[1].(map[string]any)["value"] != "Lisbon" {
		t.Fatalf("detail fields: %v", fields)
	}
	if status, body := p.answer(c["sid"].(string), "approved", nil); status != http.StatusOK {
		t.Fatalf("approve: %d %s", status, body)
	}
	status, _, body := h.call(http.MethodGet, "/backend/challenge-status?identity=alice&sid="+c["sid"].(string), nil, "", "")
	if status != http.StatusOK || !strings.Contains(string(body), `"status":"approved"`) {
		t.Fatalf("challenge-status: %d %s", status, body)
	}
	status, _, body = h.call(http.MethodGet, "/backend/list-factors?identity=alice", nil, "", "")
	if status != http.StatusOK || !strings.Contains(string(body), p.factorSid) {
		t.Fatalf("list-factors: %d %s", status, body)
	}
	status, _, body = h.call(http.MethodGet, "/backend/list-factors?identity=nobody", nil, "", "")
	if status != http.StatusOK || strings.TrimSpace(string(body)) != "[]" {
		t.Fatalf("list-factors for a stranger: %d %s", status, body)
	}
	status, m := post("/backend/create-challenge", url.Values{"identity": {"alice"}, "message": {strings.Repeat("x", 300)}})
	if status != http.StatusBadRequest || !strings.Contains(m["error"].(map[string]any)["message"].(string), "60306") {
		t.Fatalf("Verify error not passed through: %d %v", status, m)
	}

	// The webhook sink keeps deliveries and checks their signature.
	hook := h.srv.Backend().WebhookURL()
	params := url.Values{"uuid": {"u-1"}, "type": {"challenge.approved"}, "factor_sid": {p.factorSid}}
	signed, _ := http.NewRequest(http.MethodPost, hook, strings.NewReader(params.Encode()))
	signed.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	signed.Header.Set("X-Twilio-Signature", webhook.Sign(h.token, hook, params))
	forged, _ := http.NewRequest(http.MethodPost, hook, strings.NewReader(params.Encode()))
	forged.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	forged.Header.Set("X-Twilio-Signature", webhook.Sign("not-the-token", hook, params))
	for req, want := range map[*http.Request]int{signed: http.StatusNoContent, forged: http.StatusForbidden} {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("sink answered %d, want %d", resp.StatusCode, want)
		}
	}
	events := h.srv.Backend().Events()
	valid := 0
	for _, e := range events {
		if e.Valid && e.UUID == "u-1" && e.Type == "challenge.approved" {
			valid++
		}
	}
	if len(events) != 2 || valid != 1 {
		t.Fatalf("sink events: %+v", events)
	}
}

func TestSampleBackendDemoControls(t *testing.T) {
	h := newHarness(t, "", newClock())
	post := func(path string, form url.Values) (int, map[string]any) {
		t.Helper()
		status, _, body := h.call(http.MethodPost, path, form, "", "")
		var m map[string]any
		json.Unmarshal(body, &m)
		return status, m
	}
	_, tok := post("/backend/access-token", url.Values{"identity": {"bob"}})
	p := newPhone(h, tok["serviceSid"].(string), backend.HashIdentity("bob"))
	p.enroll(tok["token"].(string))
	p.verifyFactor()

	// Number matching: a two-digit code, in hidden details and in the reply.
	status, c := post("/backend/create-challenge", url.Values{"identity": {"bob"}, "message": {"Sign in?"}, "number_match": {"true"}, "hidden": {`{"ip":"192.0.2.1"}`}})
	code, _ := c[backend.NumberMatchKey].(string)
	hidden, _ := c["hidden_details"].(map[string]any)
	if status != http.StatusCreated || len(code) != 2 || code < "10" || hidden[backend.NumberMatchKey] != code || hidden["ip"] != "192.0.2.1" {
		t.Fatalf("number match challenge: %d %v", status, c)
	}
	sid := c["sid"].(string)

	// Resend: three notifications, then Verify's limit comes back.
	for i := 0; i < 3; i++ {
		if status, n := post("/backend/resend", url.Values{"identity": {"bob"}, "sid": {sid}}); status != http.StatusCreated || n["challenge_sid"] != sid {
			t.Fatalf("resend %d: %d %v", i, status, n)
		}
	}
	if status, m := post("/backend/resend", url.Values{"identity": {"bob"}, "sid": {sid}}); status != http.StatusTooManyRequests || !strings.Contains(jsonText(m), "60309") {
		t.Fatalf("4th resend: %d %v", status, m)
	}

	// Expire now.
	if status, m := post("/backend/expire", url.Values{"identity": {"bob"}, "sid": {sid}, "reason": {"not_needed"}}); status != http.StatusOK || m["status"] != "expired" || m["responded_reason"] != "not_needed" {
		t.Fatalf("expire: %d %v", status, m)
	}
	if status, m := post("/backend/expire", url.Values{"identity": {"bob"}, "sid": {sid}}); status != http.StatusForbidden {
		t.Fatalf("expire twice: %d %v", status, m)
	}

	// Push bombing: the sixth unanswered prompt is refused.
	var refused int
	for i := 0; i < 8; i++ {
		status, _ := post("/backend/create-challenge", url.Values{"identity": {"bob"}, "message": {"Sign in?"}})
		if status == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused != 3 {
		t.Fatalf("%d of 8 rapid challenges refused, want 3 (5 pending allowed)", refused)
	}
	status, _, body := h.call(http.MethodGet, "/backend/challenges?identity=bob", nil, "", "")
	var list []struct{ Status string }
	json.Unmarshal(body, &list)
	if status != http.StatusOK || len(list) != 6 || list[5].Status != "expired" || list[0].Status != "pending" {
		t.Fatalf("challenge list: %d %s", status, body)
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
