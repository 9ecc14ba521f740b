package backend

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzParamsEncodings: a parameter means the same whether it comes in the
// query, a form body or a JSON body, as in a Twilio Function's event; the
// body wins over the query; a JSON null removes the query's value; a JSON
// value that is not a string arrives as its compact JSON text. Two
// parameters (k1 in the query, k2 in the body) and a raw JSON value for a
// third, in every encoding.
func FuzzParamsEncodings(f *testing.F) {
	f.Add("identity", "alice", "message", "Sign in?", `[{"label":"a","value":"b"}]`)
	f.Add("identity", "alice", "identity", "bob", `null`)
	f.Add("", "", "", "", `""`)
	f.Add("a b&c=d", "%zz;x", "é\xff", "\x00\n", `{ "k" : [ 1 , 2.50 , true ] }`)
	f.Add("details", "[1]", "numberMatch", "true", `12e3`)
	f.Add("k", "v", "k2", "v2", `{"a":`)
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, raw string) {
		query := url.Values{k1: {v1}}.Encode()

		// Form body.
		p, err := readRequest(t, "application/x-www-form-urlencoded", url.Values{k2: {v2}}.Encode(), query)
		if err != nil {
			t.Fatalf("form: %v", err)
		}
		expectParam(t, "form", p, k2, v2)
		if k1 != k2 {
			expectParam(t, "form query", p, k1, v1)
		}

		// JSON body: strings arrive as sent (as UTF-8).
		body, _ := json.Marshal(map[string]string{k2: v2})
		p, err = readRequest(t, "application/json; charset=utf-8", string(body), query)
		if err != nil {
			t.Fatalf("JSON %s: %v", body, err)
		}
		expectParam(t, "JSON", p, asJSONText(k2), asJSONText(v2))
		if k1 != asJSONText(k2) {
			expectParam(t, "JSON query", p, k1, v1)
		}

		// A JSON null in the body removes the parameter, the query's
		// value included.
		body, _ = json.Marshal(map[string]any{k1: nil})
		if p, err = readRequest(t, "application/json", string(body), query); err != nil {
			t.Fatalf("JSON %s: %v", body, err)
		}
		if v, present := p[asJSONText(k1)]; present {
			t.Fatalf("null for %q left %q", k1, v)
		}

		// Any other JSON value: its compact text, or a refusal if it is not
		// JSON.
		key, _ := json.Marshal(k2)
		body = []byte(`{` + string(key) + `:` + raw + `}`)
		p, err = readRequest(t, "application/json", string(body), "")
		var value any
		valid := json.Unmarshal([]byte(raw), &value) == nil
		switch {
		case !valid:
			if err == nil && json.Valid(body) {
				t.Fatalf("body %s is JSON but value %q is not", body, raw)
			}
			if err == nil {
				t.Fatalf("accepted body %s", body)
			}
		case err != nil:
			t.Fatalf("refused body %s: %v", body, err)
		case value == nil:
			if v := p[asJSONText(k2)]; v != "" {
				t.Fatalf("null became %q", v)
			}
		default:
			want := compact(raw)
			if s, ok := value.(string); ok {
				want = s
			}
			expectParam(t, "JSON value", p, asJSONText(k2), want)
		}
	})
}

func readRequest(t *testing.T, contentType, body, query string) (params, error) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/backend/create-challenge", strings.NewReader(body))
	r.URL.RawQuery = query
	r.Header.Set("Content-Type", contentType)
	p, err := readParams(httptest.NewRecorder(), r)
	if err != nil && err.Error() == "" {
		t.Fatal("an error with no message")
	}
	return p, err
}

func expectParam(t *testing.T, how string, p params, k, v string) {
	t.Helper()
	got, ok := p[k]
	if !ok || got != v {
		t.Fatalf("%s: parameter %q is %q (present %v), want %q; all: %q", how, k, got, ok, v, p)
	}
}

func compact(raw string) string {
	var b bytes.Buffer
	json.Compact(&b, []byte(raw))
	return b.String()
}

// asJSONText is s after a trip through JSON: each invalid UTF-8 byte
// becomes U+FFFD.
func asJSONText(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}

// FuzzHiddenDetails: the hidden details create-challenge sends Verify. The
// caller's JSON object of strings is kept key for key; pushsim's own keys
// (the sign-in that ties sibling challenges together, the number-matching
// code) always carry pushsim's values, whatever the caller put under
// them; anything but a JSON object of strings is refused, never half
// used; with nothing to add, the caller's text goes to Verify untouched.
func FuzzHiddenDetails(f *testing.F) {
	f.Add(`{"ip":"1.2.3.4"}`, "s-1", "42", true)
	f.Add(`{"pushsim_sign_in":"forged","number_match":"00"}`, "s-2", "17", true)
	f.Add(`{"number_match":"00"}`, "s-3", "", false)
	f.Add(`{"n":1}`, "s-4", "99", true)
	f.Add(` `, "s-5", "", false)
	f.Add(`null`, "s-6", "10", true)
	f.Add(`{"a":"b","a":"c"}`, "s-7", "", true)
	f.Add(`[]`, "", "", false)
	f.Fuzz(func(t *testing.T, hidden, signIn, code string, add bool) {
		req := challengeRequest{hidden: hidden}
		extra := map[string]string{}
		if add {
			extra[SignInKey] = signIn
			if code != "" {
				extra[NumberMatchKey] = code
			}
		}
		var caller map[string]string
		blank := strings.TrimSpace(hidden) == ""
		ok := blank || json.Unmarshal([]byte(hidden), &caller) == nil
		out, err := req.hiddenWith(extra)
		if len(extra) == 0 {
			if err != nil || out != hidden {
				t.Fatalf("nothing to add, yet %q became %q (%v)", hidden, out, err)
			}
			return
		}
		if !ok {
			if err == nil {
				t.Fatalf("hidden details %q are not an object of strings, yet sent as %q", hidden, out)
			}
			return
		}
		if err != nil {
			t.Fatalf("hidden details %q refused: %v", hidden, err)
		}
		var sent map[string]string
		if err := json.Unmarshal([]byte(out), &sent); err != nil || sent == nil {
			t.Fatalf("sent %q: %v", out, err)
		}
		for k, v := range extra {
			if sent[k] != asJSONText(v) {
				t.Fatalf("%s is %q, want pushsim's %q", k, sent[k], v)
			}
		}
		for k, v := range caller {
			if _, ours := extra[k]; !ours && sent[k] != v {
				t.Fatalf("caller's %s became %q, was %q", k, sent[k], v)
			}
		}
		if len(sent) > len(caller)+len(extra) {
			t.Fatalf("sent %q holds keys nobody gave", out)
		}
	})
}
