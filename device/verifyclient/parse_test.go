package verifyclient

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// pendingChallenge is shaped like the SDK's own pending-challenge fixture:
// -08:00 offsets, details with fields and a date, hidden details, plus keys
// the SDK does not read.
const pendingChallenge = `{
  "sid": "YC03aa", "factor_sid": "YF02bb",
  "date_created": "2020-02-19T16:39:57-08:00", "date_updated": "2020-02-21T18:39:57-08:00",
  "status": "pending",
  "details": {"message": "Sign in?", "fields": [{"label": "City", "value": "Lyon"}], "date": "2020-02-19T16:39:57-08:00"},
  "hidden_details": {"key1": "value1"},
  "expiration_date": "2020-02-27T08:50:57-08:00",
  "responded_reason": "none", "date_responded": null, "url": "https://verify.example/v2/x",
  "links": {"notifications": "https://verify.example/v2/x/Notifications"}, "brand_new_key": [1, 2, 3]
}`

func TestParseChallengeFixtureShape(t *testing.T) {
	c, err := parseChallenge([]byte(pendingChallenge))
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2020, 2, 20, 0, 39, 57, 0, time.UTC)
	if c.Sid != "YC03aa" || c.FactorSid != "YF02bb" || c.Status != ChallengePending || !c.CreatedAt.Equal(created) ||
		!c.UpdatedAt.Equal(time.Date(2020, 2, 22, 2, 39, 57, 0, time.UTC)) ||
		!c.ExpirationDate.Equal(time.Date(2020, 2, 27, 16, 50, 57, 0, time.UTC)) {
		t.Errorf("challenge = %+v", c)
	}
	if c.Details.Message != "Sign in?" || len(c.Details.Fields) != 1 || c.Details.Fields[0] != (Field{"City", "Lyon"}) ||
		c.Details.Date == nil || !c.Details.Date.Equal(created) || c.HiddenDetails["key1"] != "value1" {
		t.Errorf("details = %+v hidden = %v", c.Details, c.HiddenDetails)
	}
}

// edit returns pendingChallenge with change applied to its decoded form.
func edit(t *testing.T, body string, change func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	change(m)
	out, _ := json.Marshal(m)
	return out
}

func TestParseChallengeTolerance(t *testing.T) {
	for name, change := range map[string]func(map[string]any){
		"Z dates":               func(m map[string]any) { m["date_created"] = "2020-02-20T00:39:57Z" },
		"positive offset":       func(m map[string]any) { m["date_created"] = "2020-02-20T06:09:57+05:30" },
		"no details.date":       func(m map[string]any) { delete(m["details"].(map[string]any), "date") },
		"null details.date":     func(m map[string]any) { m["details"].(map[string]any)["date"] = nil },
		"null hidden_details":   func(m map[string]any) { m["hidden_details"] = nil },
		"no hidden_details":     func(m map[string]any) { delete(m, "hidden_details") },
		"no fields":             func(m map[string]any) { delete(m["details"].(map[string]any), "fields") },
		"null fields":           func(m map[string]any) { m["details"].(map[string]any)["fields"] = nil },
		"numeric hidden values": func(m map[string]any) { m["hidden_details"] = map[string]any{"n": 5} },
	} {
		if _, err := parseChallenge(edit(t, pendingChallenge, change)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	c, _ := parseChallenge(edit(t, pendingChallenge, func(m map[string]any) { m["date_created"] = "2020-02-20T00:39:57Z" }))
	if !c.CreatedAt.Equal(time.Date(2020, 2, 20, 0, 39, 57, 0, time.UTC)) {
		t.Errorf("Z date = %v", c.CreatedAt)
	}
	c, _ = parseChallenge(edit(t, pendingChallenge, func(m map[string]any) { m["status"] = "mystery" }))
	if c.Status != ChallengeExpired {
		t.Errorf("unknown status read as %q, want expired (Android)", c.Status)
	}
}

func TestParseChallengeRequiredKeys(t *testing.T) {
	for _, key := range []string{"sid", "factor_sid", "status", "date_created", "date_updated", "expiration_date", "details"} {
		body := edit(t, pendingChallenge, func(m map[string]any) { delete(m, key) })
		_, err := parseChallenge(body)
		if !errors.Is(err, ErrMapper) || !strings.Contains(err.Error(), `"`+key+`"`) {
			t.Errorf("without %s: err = %v", key, err)
		}
	}
	for name, change := range map[string]func(map[string]any){
		"no message":     func(m map[string]any) { delete(m["details"].(map[string]any), "message") },
		"bad date":       func(m map[string]any) { m["expiration_date"] = "2020-02-27 08:50" },
		"bad field":      func(m map[string]any) { m["details"].(map[string]any)["fields"] = []any{map[string]any{"label": "x"}} },
		"details string": func(m map[string]any) { m["details"] = "hello" },
	} {
		if _, err := parseChallenge(edit(t, pendingChallenge, change)); !errors.Is(err, ErrMapper) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	for _, body := range []string{`{"response":"response"}`, `[]`, `null`, ``, `{"sid":"a"} {}`} {
		if _, err := parseChallenge([]byte(body)); !errors.Is(err, ErrMapper) {
			t.Errorf("%q: err = %v", body, err)
		}
	}
}

const createdFactor = `{
  "account_sid": "AC01", "sid": "YF01", "friendly_name": "Ann's factor", "factor_type": "push",
  "date_created": "2020-02-19T16:39:57Z", "date_updated": "976351423", "url": "https://verify.example/",
  "config": {"credential_sid": "CR01"}, "status": "unverified"
}`

func TestParseFactor(t *testing.T) {
	f, err := parseFactor([]byte(createdFactor))
	if err != nil {
		t.Fatal(err)
	}
	if f.Sid != "YF01" || f.AccountSid != "AC01" || f.CredentialSid != "CR01" || f.Status != FactorUnverified ||
		f.NotificationPlatform != "" || !f.CreatedAt.Equal(time.Date(2020, 2, 19, 16, 39, 57, 0, time.UTC)) {
		t.Errorf("factor = %+v", f)
	}
	offset := strings.Replace(createdFactor, "2020-02-19T16:39:57Z", "2020-02-19T16:39:57-08:00", 1)
	if f, err := parseFactor([]byte(offset)); err != nil || !f.CreatedAt.Equal(time.Date(2020, 2, 20, 0, 39, 57, 0, time.UTC)) {
		t.Errorf("offset date: %v %v", f, err)
	}
	if f, _ := parseFactor([]byte(strings.Replace(createdFactor, `"unverified"`, `"weird"`, 1))); f.Status != FactorUnverified {
		t.Errorf("unknown status read as %q", f.Status)
	}
	for _, key := range []string{"sid", "friendly_name", "account_sid", "status", "date_created", "config"} {
		body := edit(t, createdFactor, func(m map[string]any) { delete(m, key) })
		if _, err := parseFactor(body); !errors.Is(err, ErrMapper) {
			t.Errorf("without %s: %v", key, err)
		}
	}
	noCred := edit(t, createdFactor, func(m map[string]any) { m["config"] = map[string]any{} })
	if _, err := parseFactor(noCred); !errors.Is(err, ErrMapper) || !strings.Contains(err.Error(), "credential_sid") {
		t.Errorf("without credential_sid: %v", err)
	}
}

const challengePage = `{
  "challenges": [` + pendingChallenge + `],
  "meta": {
    "page": 0, "page_size": 1,
    "first_page_url": "https://verify.example/v2/Services/VA1/Entities/YE1/Factors/YF1/Challenges?Status=pending&PageSize=1&Page=0",
    "previous_page_url": null,
    "url": "https://verify.example/v2/Services/VA1/Entities/YE1/Factors/YF1/Challenges?Status=pending&PageSize=1&Page=0",
    "next_page_url": "https://verify.example/v2/Services/VA1/Entities/YE1/Factors/YF1/Challenges?Status=pending&PageSize=1&Page=1&PageToken=DNYC0bb",
    "key": "challenges"
  }
}`

func TestParseChallengeList(t *testing.T) {
	l, err := parseChallengeList([]byte(challengePage))
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Challenges) != 1 || l.Meta != (ListMeta{Page: 0, PageSize: 1, NextPageToken: "DNYC0bb"}) {
		t.Errorf("list = %+v", l)
	}
	for name, tc := range map[string]struct {
		change func(map[string]any)
		token  string
	}{
		"non-string next":  {func(m map[string]any) { m["meta"].(map[string]any)["next_page_url"] = 7 }, ""},
		"lower-case token": {func(m map[string]any) { m["meta"].(map[string]any)["next_page_url"] = "https://x/?pageToken=abc" }, ""},
		"no next key":      {func(m map[string]any) { delete(m["meta"].(map[string]any), "next_page_url") }, ""},
	} {
		l, err := parseChallengeList(edit(t, challengePage, tc.change))
		if err != nil || l.Meta.NextPageToken != tc.token {
			t.Errorf("%s: %+v %v", name, l, err)
		}
	}
	for name, change := range map[string]func(map[string]any){
		"null meta":       func(m map[string]any) { m["meta"] = nil },
		"no page_size":    func(m map[string]any) { delete(m["meta"].(map[string]any), "page_size") },
		"no challenges":   func(m map[string]any) { delete(m, "challenges") },
		"bad item":        func(m map[string]any) { m["challenges"] = []any{map[string]any{"sid": "x"}} },
		"string page":     func(m map[string]any) { m["meta"].(map[string]any)["page"] = "0" },
		"challenges null": func(m map[string]any) { m["challenges"] = nil },
	} {
		if _, err := parseChallengeList(edit(t, challengePage, change)); !errors.Is(err, ErrMapper) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestParseSignatureFields(t *testing.T) {
	if got := parseSignatureFields("sid,factor_sid, details"); len(got) != 3 || got[2] != " details" {
		t.Errorf("got %q; names must not be trimmed, as in the SDK", got)
	}
	if parseSignatureFields("") != nil {
		t.Error("empty header must mean no fields")
	}
}

func TestNewHTTPError(t *testing.T) {
	e := newHTTPError(404, http.Header{}, []byte(`{"code":20404,"message":"Not found","more_info":"https://www.twilio.com/docs/errors/20404"}`))
	if e.API == nil || e.API.Code != 20404 || e.API.Status != 404 {
		t.Errorf("missing status falls back to HTTP status: %+v", e.API)
	}
	if e := newHTTPError(400, nil, []byte(`{"code":"60306","message":"x"}`)); e.API != nil {
		t.Error("a string code is not a Twilio error body")
	}
}

// FuzzParseResponses feeds arbitrary bodies to every response parser: none
// may panic, and whatever parses must satisfy the invariants the rest of the
// phone relies on.
func FuzzParseResponses(f *testing.F) {
	for _, seed := range []string{
		pendingChallenge, createdFactor, challengePage, `{"status":"verified"}`, `{"response":"response"}`,
		`{"code":60323,"message":"Challenge expired","more_info":"https://www.twilio.com/docs/errors/60323","status":403}`,
		`{"challenges":[],"meta":{"page":0,"page_size":20,"next_page_url":"%zz"}}`,
		`{"details":{"fields":[null]}}`, `null`, `[`, `{"sid":1e999}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if c, err := parseChallenge(body); err == nil {
			if c.Sid == "" && !strings.Contains(string(body), `"sid"`) {
				t.Fatalf("challenge without a sid key parsed: %s", body)
			}
			switch c.Status {
			case ChallengePending, ChallengeApproved, ChallengeDenied, ChallengeExpired:
			default:
				t.Fatalf("status %q escaped normalisation", c.Status)
			}
		} else if !errors.Is(err, ErrMapper) {
			t.Fatalf("challenge parse error is not a mapper error: %v", err)
		}
		if f, err := parseFactor(body); err == nil {
			if f.Status != FactorVerified && f.Status != FactorUnverified {
				t.Fatalf("factor status %q", f.Status)
			}
		} else if !errors.Is(err, ErrMapper) {
			t.Fatalf("factor parse error is not a mapper error: %v", err)
		}
		if _, err := parseFactorStatus(body); err != nil && !errors.Is(err, ErrMapper) {
			t.Fatalf("status parse error is not a mapper error: %v", err)
		}
		if l, err := parseChallengeList(body); err == nil {
			if l.Challenges == nil {
				t.Fatal("parsed list has nil challenges")
			}
		} else if !errors.Is(err, ErrMapper) {
			t.Fatalf("list parse error is not a mapper error: %v", err)
		}
		e := newHTTPError(500, nil, body)
		_ = e.Error()
		parseSignatureFields(string(body))
	})
}
