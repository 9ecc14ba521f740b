package webhook

import (
	"net/url"
	"testing"

	twilio "github.com/twilio/twilio-go/client"
)

func flat(v url.Values) map[string]string {
	m := make(map[string]string, len(v))
	for k := range v {
		m[k] = v.Get(k)
	}
	return m
}

// The example from Twilio's webhook-security documentation, also pinned by
// twilio-go's own tests.
func TestSignMatchesTwilioDocumentedVector(t *testing.T) {
	params := url.Values{
		"CallSid":               {"CA1234567890ABCDE"},
		"Caller":                {"+14158675309"},
		"Digits":                {"1234"},
		"From":                  {"+14158675309"},
		"To":                    {"+18005551212"},
		"ReasonConferenceEnded": {"test"},
		"Reason":                {"Participant"},
	}
	got := Sign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params)
	if want := "vOEb5UThFn24KEfnOFLQY2AE5FY="; got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
}

func verifyEvent() url.Values {
	return url.Values{
		"uuid":                     {"8b4b5c2e-3f7a-4c1e-9d0b-2a6f1e7c9d10"},
		"type":                     {"challenge.approved"},
		"account_sid":              {"AC00000000000000000000000000000001"},
		"service_sid":              {"VA00000000000000000000000000000001"},
		"entity_identity":          {"ff483d1ff591898a9942916050d2ca3f"},
		"factor_sid":               {"YF00000000000000000000000000000001"},
		"factor_type":              {"push"},
		"factor_friendly_name":     {"Ana's phone"},
		"challenge_sid":            {"YC00000000000000000000000000000001"},
		"challenge_details":        {`{"message":"Hi & welcome","fields":[{"label":"IP","value":"10.0.0.1"}]}`},
		"challenge_hidden_details": {`{"ip":"172.0.0.1"}`},
		"challenge_metadata":       {`{"os":"Android"}`},
	}
}

func TestSignatureValidatesWithTwilioGo(t *testing.T) {
	const token = "auth-token-0123456789abcdef0123"
	for _, u := range []string{
		"https://example.com/hooks/verify",
		"http://127.0.0.1:8080/hooks/verify?tenant=a%20b&x=1",
		"https://example.com:8443/v?x=y",
	} {
		params := verifyEvent()
		sig := Sign(token, u, params)
		v := twilio.NewRequestValidator(token)
		if !v.Validate(u, flat(params), sig) {
			t.Errorf("%s: twilio-go rejects our signature", u)
		}
		if !Verify(token, u, params, sig) {
			t.Errorf("%s: Verify rejects our signature", u)
		}

		tampered := verifyEvent()
		tampered.Set("type", "challenge.denied")
		if v.Validate(u, flat(tampered), sig) || Verify(token, u, tampered, sig) {
			t.Errorf("%s: tampered body accepted", u)
		}
		if v.Validate(u+"&evil=1", flat(params), sig) || Verify(token, u+"&evil=1", params, sig) {
			t.Errorf("%s: tampered URL accepted", u)
		}
		if other := twilio.NewRequestValidator("another-token"); other.Validate(u, flat(params), sig) {
			t.Errorf("%s: accepted under another auth token", u)
		}
	}
}

func TestSignRepeatedNamesSortsValues(t *testing.T) {
	a := url.Values{"EventTypes": {"factor.created", "challenge.approved"}, "x": {"1"}}
	b := url.Values{"x": {"1"}, "EventTypes": {"challenge.approved", "factor.created"}}
	if Sign("t", "https://e.com/", a) != Sign("t", "https://e.com/", b) {
		t.Fatal("signature depends on the order of repeated values")
	}
	c := url.Values{"EventTypes": {"challenge.approved"}, "x": {"1"}}
	if Sign("t", "https://e.com/", a) == Sign("t", "https://e.com/", c) {
		t.Fatal("signature ignores the second value of a repeated name")
	}
	// A single-valued form must sign exactly as name+value pairs; twilio-go
	// (first value only) is the reference for that case.
	single := url.Values{"b": {"2"}, "a": {"1"}}
	v := twilio.NewRequestValidator("t")
	if !v.Validate("https://e.com/", flat(single), Sign("t", "https://e.com/", single)) {
		t.Fatal("single-valued form not accepted by twilio-go")
	}
}
