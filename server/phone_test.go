package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pushsim/pushsim/device/sdkjose"
	"github.com/twilio/twilio-go/client"
)

const aliceID = "alice-0001"

// TestPhoneApprovesAndTwilioReadsIt is the happy path end to end: a phone
// enrolls, verifies, approves; the backend's helper library reads approved.
func TestPhoneApprovesAndTwilioReadsIt(t *testing.T) {
	h := newHarness(t, "", newClock())
	svc, p := setup(h, aliceID)
	sid := h.challenge(p, url.Values{"Details.Fields": {`{"label":"IP","value":"10.0.0.1"}`}})

	status, hdr, body := p.device(http.MethodGet, p.entityPath()+"/Challenges/"+sid, nil)
	if status != http.StatusOK {
		t.Fatalf("phone GET: %d %s", status, body)
	}
	want := "sid,account_sid,service_sid,entity_sid,identity,factor_sid,date_created,expiration_date,details,hidden_details,factor_type"
	if got := hdr.Get("Twilio-Verify-Signature-Fields"); got != want {
		t.Fatalf("Twilio-Verify-Signature-Fields = %q", got)
	}
	if status, body := p.answer(sid, "approved", nil); status != http.StatusOK {
		t.Fatalf("approve: %d %s", status, body)
	}
	c, err := h.twilio(nil).FetchChallenge(svc, aliceID, sid)
	if err != nil {
		t.Fatal(err)
	}
	if *c.Status != "approved" || c.DateResponded == nil || !c.DateResponded.Equal(h.clock.Now()) {
		t.Fatalf("backend reads %s responded %v", *c.Status, c.DateResponded)
	}
}

func TestPhoneRefusals(t *testing.T) {
	h := newHarness(t, "", newClock())

	t.Run("second answer is 60322", func(t *testing.T) {
		_, p := setup(h, "second-answer")
		sid := h.challenge(p, nil)
		if status, body := p.answer(sid, "denied", nil); status != http.StatusOK {
			t.Fatalf("deny: %d %s", status, body)
		}
		// Sign against the pending rendering, as a replaying attacker would.
		status, body := p.answer(sid, "approved", func(m map[string]any) { m["status"] = "pending" })
		expectError(t, status, body, http.StatusForbidden, 60322)
	})

	t.Run("each mutated signature field is 60324", func(t *testing.T) {
		_, p := setup(h, "mutated-fields")
		sid := h.challenge(p, url.Values{"HiddenDetails": {`{"ip":"1.2.3.4"}`}})
		mutations := map[string]func(map[string]any){
			"sid":             func(m map[string]any) { m["sid"] = "YC" + strings.Repeat("0", 32) },
			"account_sid":     func(m map[string]any) { m["account_sid"] = "AC" + strings.Repeat("1", 32) },
			"service_sid":     func(m map[string]any) { m["service_sid"] = "VA" + strings.Repeat("2", 32) },
			"entity_sid":      func(m map[string]any) { m["entity_sid"] = "YE" + strings.Repeat("3", 32) },
			"identity":        func(m map[string]any) { m["identity"] = "mallory-0001" },
			"factor_sid":      func(m map[string]any) { m["factor_sid"] = "YF" + strings.Repeat("4", 32) },
			"date_created":    func(m map[string]any) { m["date_created"] = "2020-01-01T00:00:00Z" },
			"expiration_date": func(m map[string]any) { m["expiration_date"] = "2099-01-01T00:00:00Z" },
			"details":         func(m map[string]any) { m["details"].(map[string]any)["message"] = "Transfer $0" },
			"hidden_details":  func(m map[string]any) { m["hidden_details"] = map[string]any{"ip": "6.6.6.6"} },
			"factor_type":     func(m map[string]any) { m["factor_type"] = "totp" },
		}
		for _, field := range strings.Split("sid,account_sid,service_sid,entity_sid,identity,factor_sid,date_created,expiration_date,details,hidden_details,factor_type", ",") {
			status, body := p.answer(sid, "approved", mutations[field])
			if status != http.StatusForbidden || !strings.Contains(string(body), "60324") {
				t.Fatalf("mutated %s: %d %s", field, status, body)
			}
		}
		// A status the server does not accept, and a DER signature instead of r||s.
		if status, body := p.answer(sid, "pending", nil); status != http.StatusForbidden {
			t.Fatalf("status pending accepted: %d %s", status, body)
		}
		// After all that, the real answer still works: nothing was consumed.
		if status, body := p.answer(sid, "approved", nil); status != http.StatusOK {
			t.Fatalf("genuine approve after refusals: %d %s", status, body)
		}
	})

	t.Run("answer after expiry is 60323", func(t *testing.T) {
		_, p := setup(h, "late-answer")
		sid := h.challenge(p, nil)
		code, hdr, body := p.device(http.MethodGet, p.entityPath()+"/Challenges/"+sid, nil)
		if code != http.StatusOK {
			t.Fatal(code)
		}
		payload, err := sdkjose.ChallengeAuthPayload(p.key, body, strings.Split(hdr.Get("Twilio-Verify-Signature-Fields"), ","), "approved")
		if err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(5*time.Minute + time.Second)
		status, _, resp := p.device(http.MethodPost, p.entityPath()+"/Challenges/"+sid, url.Values{"AuthPayload": {payload}})
		expectError(t, status, resp, http.StatusForbidden, 60323)
		_, _, body = p.device(http.MethodGet, p.entityPath()+"/Challenges/"+sid, nil)
		if !strings.Contains(string(body), `"status":"expired"`) {
			t.Fatalf("late challenge not expired: %s", body)
		}
	})

	t.Run("bad device tokens are 401 with Date", func(t *testing.T) {
		_, p := setup(h, "bad-tokens")
		_, other := setup(h, "other-phone")
		path := p.entityPath() + "/Challenges"
		q := url.Values{"FactorSid": {p.factorSid}}
		now := h.clock.Now()
		header := func(alg string) string {
			return base64.RawURLEncoding.EncodeToString([]byte(`{"cty":"twilio-pba;v=1","kid":"` + p.credentialSid + `","typ":"JWT","alg":"` + alg + `"}`))
		}
		claims := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"` + h.sid + `","nbf":` + jsonInt(now.Unix()) + `,"exp":` + jsonInt(now.Unix()+600) + `}`))
		otherKeyToken, _ := sdkjose.DeviceJWT(other.key, p.credentialSid, h.sid, now)
		expired, _ := sdkjose.DeviceJWT(p.key, p.credentialSid, h.sid, now.Add(-20*time.Minute))
		wrongSub, _ := sdkjose.DeviceJWT(p.key, p.credentialSid, "AC"+strings.Repeat("9", 32), now)
		cases := map[string]string{
			"signed by another factor's key": otherKeyToken,
			"alg none":                       header("none") + "." + claims + ".",
			"HS256":                          header("HS256") + "." + claims + "." + base64.RawURLEncoding.EncodeToString(make([]byte, 32)),
			"expired":                        expired,
			"wrong sub":                      wrongSub,
			"garbage":                        "a.b.c",
			"many dots":                      strings.Repeat(".", 10000),
		}
		// Go's base64 decoder skips line breaks: a genuine token with one
		// decodes to the same bytes, but no phone ever wrote it.
		genuine := p.jwt()
		dot := strings.IndexByte(genuine, '.')
		cases["a line break in a genuine token"] = genuine[:dot+5] + "\n" + genuine[dot+5:]
		for name, tok := range cases {
			status, hdr, body := h.call(http.MethodGet, path, q, "token", tok)
			if status != http.StatusUnauthorized || hdr.Get("Date") == "" || !strings.Contains(string(body), `"code":20003`) {
				t.Errorf("%s: %d Date=%q %s", name, status, hdr.Get("Date"), body)
			}
		}
		// Another phone's valid token does not open this phone's challenges.
		status, _, body := other.device(http.MethodGet, path, q)
		if status == http.StatusOK {
			t.Fatalf("foreign phone listed challenges: %s", body)
		}
	})

	t.Run("one key enrolls once, however its base64 is spelled", func(t *testing.T) {
		svc, p := setup(h, "same-key")
		again := newPhone(h, svc, "same-key")
		again.key = p.key
		enroll := func(respell func(string) string) (int, []byte) {
			form := again.enrollForm("fcm")
			form.Set("Binding.PublicKey", respell(form.Get("Binding.PublicKey")))
			status, _, body := h.call(http.MethodPost, again.entityPath()+"/Factors", form, "token", h.accessToken(svc, "same-key"))
			return status, body
		}
		status, body := enroll(func(s string) string { return s })
		expectError(t, status, body, http.StatusConflict, 60317)
		// Go's decoder skips line breaks, and its PKIX parser an element
		// after the key: the same key, other strings.
		status, body = enroll(func(s string) string { return s[:20] + "\r\n" + s[20:] })
		expectError(t, status, body, http.StatusBadRequest, 60314)
		status, body = enroll(func(s string) string {
			der, _ := base64.StdEncoding.DecodeString(s)
			// A SEQUENCE of at most 127 bytes: its length is one byte.
			der = append(der, 0x05, 0x00) // NULL
			der[1] += 2
			return base64.StdEncoding.EncodeToString(der)
		})
		expectError(t, status, body, http.StatusBadRequest, 60314)
		var factors struct{ Factors []any }
		h.account(http.MethodGet, p.entityPath()+"/Factors", nil, http.StatusOK, &factors)
		if len(factors.Factors) != 1 {
			t.Fatalf("%d factors for one key", len(factors.Factors))
		}
	})

	t.Run("21st push factor is 60315", func(t *testing.T) {
		svc, _ := setup(h, "many-factors")
		for i := 1; i < 20; i++ {
			p := newPhone(h, svc, "many-factors")
			if status, body := p.enroll(h.accessToken(svc, "many-factors")); status != http.StatusCreated {
				t.Fatalf("factor %d: %d %s", i+1, status, body)
			}
		}
		p := newPhone(h, svc, "many-factors")
		status, body := p.enroll(h.accessToken(svc, "many-factors"))
		expectError(t, status, body, http.StatusBadRequest, 60315)
	})

	t.Run("challenge for unverified factor is 60318", func(t *testing.T) {
		svc, _ := setup(h, "unverified")
		p := newPhone(h, svc, "unverified")
		if status, body := p.enroll(h.accessToken(svc, "unverified")); status != http.StatusCreated {
			t.Fatalf("enroll: %d %s", status, body)
		}
		status, _, body := h.call(http.MethodPost, p.entityPath()+"/Challenges",
			url.Values{"FactorSid": {p.factorSid}, "Details.Message": {"hi"}}, h.sid, h.token)
		expectError(t, status, body, http.StatusForbidden, 60318)
	})

	t.Run("reused or expired access token is 401", func(t *testing.T) {
		svc, _ := setup(h, "token-reuse")
		tok := h.accessToken(svc, "token-reuse")
		if status, body := newPhone(h, svc, "token-reuse").enroll(tok); status != http.StatusCreated {
			t.Fatalf("first use: %d %s", status, body)
		}
		status, body := newPhone(h, svc, "token-reuse").enroll(tok)
		expectError(t, status, body, http.StatusUnauthorized, 20003)

		late := h.accessToken(svc, "token-reuse")
		h.clock.Advance(61 * time.Second)
		status, body = newPhone(h, svc, "token-reuse").enroll(late)
		expectError(t, status, body, http.StatusUnauthorized, 20003)

		// A token for another identity does not enroll this one.
		foreign := h.accessToken(svc, "someone-else")
		status, body = newPhone(h, svc, "token-reuse").enroll(foreign)
		expectError(t, status, body, http.StatusUnauthorized, 20003)
	})

	t.Run("wrong proof of possession is 60311", func(t *testing.T) {
		svc, _ := setup(h, "bad-proof")
		p := newPhone(h, svc, "bad-proof")
		p.enroll(h.accessToken(svc, "bad-proof"))
		other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		payload, _ := sdkjose.FactorAuthPayload(other, p.factorSid)
		status, _, body := p.device(http.MethodPost, p.entityPath()+"/Factors/"+p.factorSid, url.Values{"AuthPayload": {payload}})
		expectError(t, status, body, http.StatusForbidden, 60311)
	})

	t.Run("a phone with a skewed clock gets Date to resync from", func(t *testing.T) {
		_, p := setup(h, "skewed-phone")
		p.skew = -15 * time.Minute
		status, hdr, _ := p.device(http.MethodGet, p.entityPath()+"/Challenges", url.Values{"FactorSid": {p.factorSid}})
		serverDate, err := http.ParseTime(hdr.Get("Date"))
		if status != http.StatusUnauthorized || err != nil || !serverDate.Equal(h.clock.Now()) {
			t.Fatalf("status %d Date %q (%v), want 401 and the server's clock", status, hdr.Get("Date"), err)
		}
		p.skew = 0
		if status, _, body := p.device(http.MethodGet, p.entityPath()+"/Challenges", url.Values{"FactorSid": {p.factorSid}}); status != http.StatusOK {
			t.Fatalf("after resync: %d %s", status, body)
		}
	})
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestErrorBodiesDecodeInTwilioGo checks a failure surfaces in twilio-go as
// its typed REST error with our code.
func TestErrorBodiesDecodeInTwilioGo(t *testing.T) {
	h := newHarness(t, "", newClock())
	_, err := h.twilio(nil).FetchService("VA" + strings.Repeat("0", 32))
	restErr, ok := err.(*client.TwilioRestError)
	if !ok || restErr.Code != 20404 || restErr.Status != http.StatusNotFound {
		t.Fatalf("got %T %v", err, err)
	}
}
