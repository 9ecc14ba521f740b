package backend

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAsHelperLibrary(t *testing.T) {
	in := `{"sid":"YC1","factor_sid":"YF1","date_created":"2026-03-04T05:06:07Z","date_responded":null,` +
		`"expiration_date":"2026-03-04T05:11:07Z","responded_reason":"none",` +
		`"details":{"message":"m","fields":[{"label":"a_b","value":"2026-03-04T05:06:07Z"}]},"hidden_details":{"ip_address":"x"}}`
	want := `{"sid":"YC1","factorSid":"YF1","dateCreated":"2026-03-04T05:06:07.000Z","dateResponded":null,` +
		`"expirationDate":"2026-03-04T05:11:07.000Z","respondedReason":"none",` +
		`"details":{"message":"m","fields":[{"label":"a_b","value":"2026-03-04T05:06:07Z"}]},"hiddenDetails":{"ip_address":"x"}}`
	got, err := asHelperLibrary(json.RawMessage(in))
	if err != nil || string(got) != want {
		t.Fatalf("got %s, %v\nwant %s", got, err, want)
	}
	for _, bad := range []string{``, `[]`, `"s"`, `{"a":`, `{"a" 1}`} {
		if _, err := asHelperLibrary(json.RawMessage(bad)); err == nil {
			t.Errorf("%q converted", bad)
		}
	}
}

// FuzzReadParams: whatever arrives, reading a request's parameters either
// fails with a message or yields parameters; it never panics.
func FuzzReadParams(f *testing.F) {
	f.Add("application/json", `{"identity":"alice","details":[{"label":"a","value":"b"}],"n":1,"x":null}`, "sid=YC1")
	f.Add("application/x-www-form-urlencoded", "identity=alice&identity=bob&message=%zz", "")
	f.Add("application/json", `[1,2]`, "")
	f.Add("text/plain; charset=", "\x00\xff", "a=%")
	f.Fuzz(func(t *testing.T, contentType, body, query string) {
		r := httptest.NewRequest(http.MethodPost, "/backend/create-challenge", strings.NewReader(body))
		r.URL.RawQuery = query
		r.Header.Set("Content-Type", contentType)
		p, err := readParams(httptest.NewRecorder(), r)
		if err != nil && err.Error() == "" {
			t.Fatal("an error with no message")
		}
		if err == nil && p == nil {
			t.Fatal("no error and no parameters")
		}
	})
}

// FuzzChallengeRequest: details and hidden details from a client are
// either refused with a message or become what Verify is sent: valid JSON.
func FuzzChallengeRequest(f *testing.F) {
	f.Add(`[{"label":"a","value":"b"}]`, `{"k":"v"}`, "true")
	f.Add(`{}`, `[]`, "maybe")
	f.Add(`[1, "x", null]`, `{"k":1}`, "")
	f.Fuzz(func(t *testing.T, details, hidden, numberMatch string) {
		b := New(Config{})
		req, err := b.challengeRequest(params{"message": "m", "details": details, "hiddenDetails": hidden, "numberMatch": numberMatch})
		if err != nil {
			return
		}
		for _, field := range req.fields {
			if field != "" && !json.Valid([]byte(field)) {
				t.Fatalf("field %q is not JSON", field)
			}
		}
		out, err := req.hiddenWith(map[string]string{SignInKey: "s"})
		if err != nil {
			return
		}
		var m map[string]string
		if json.Unmarshal([]byte(out), &m) != nil || m[SignInKey] != "s" {
			t.Fatalf("hidden details %q", out)
		}
	})
}
