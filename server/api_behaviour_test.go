package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestNotificationsAndLimits(t *testing.T) {
	h := newHarness(t, "", newClock())
	_, p := setup(h, aliceID)
	sid := h.challenge(p, nil)
	path := p.entityPath() + "/Challenges/" + sid + "/Notifications"
	for i := 0; i < 3; i++ {
		var n struct {
			Sid          string `json:"sid"`
			ChallengeSid string `json:"challenge_sid"`
			Priority     string `json:"priority"`
			TTL          int    `json:"ttl"`
		}
		h.account(http.MethodPost, path, url.Values{"Ttl": {"0"}}, http.StatusCreated, &n)
		if !strings.HasPrefix(n.Sid, "NT") || n.ChallengeSid != sid || n.Priority != "high" || n.TTL != 0 {
			t.Fatalf("notification: %+v", n)
		}
	}
	status, _, body := h.call(http.MethodPost, path, nil, h.sid, h.token)
	expectError(t, status, body, http.StatusTooManyRequests, 60309)
	status, _, body = h.call(http.MethodPost, p.entityPath()+"/Challenges/"+h.challenge(p, nil)+"/Notifications", url.Values{"Ttl": {"301"}}, h.sid, h.token)
	expectError(t, status, body, http.StatusBadRequest, 60306)
}

func TestChallengeValidation(t *testing.T) {
	h := newHarness(t, "", newClock())
	_, p := setup(h, aliceID)
	path := p.entityPath() + "/Challenges"
	base := func() url.Values { return url.Values{"FactorSid": {p.factorSid}, "Details.Message": {"ok"}} }
	with := func(k, v string) url.Values { f := base(); f.Set(k, v); return f }
	without := func(k string) url.Values { f := base(); f.Del(k); return f }
	tooMany := base()
	for i := 0; i < 21; i++ {
		tooMany.Add("Details.Fields", `{"label":"l","value":"v"}`)
	}
	now := h.clock.Now()
	for name, form := range map[string]url.Values{
		"no factor":              without("FactorSid"),
		"malformed factor sid":   with("FactorSid", "YF123"),
		"no message":             without("Details.Message"),
		"long message":           with("Details.Message", strings.Repeat("m", 257)),
		"field not json":         with("Details.Fields", "label=x"),
		"field extra key":        with("Details.Fields", `{"label":"a","value":"b","x":"y"}`),
		"field label twice":      with("Details.Fields", `{"label":"Amount","Label":"$1,000,000"}`),
		"field keys in capitals": with("Details.Fields", `{"LABEL":"a","VaLuE":"b"}`),
		"field label too long":   with("Details.Fields", `{"label":"`+strings.Repeat("l", 37)+`","value":"v"}`),
		"21 fields":              tooMany,
		"hidden not strings":     with("HiddenDetails", `{"n":1}`),
		"hidden too long":        with("HiddenDetails", `{"k":"`+strings.Repeat("v", 1100)+`"}`),
		"expiry in the past":     with("ExpirationDate", now.Add(-time.Minute).Format(time.RFC3339)),
		"expiry beyond an hour":  with("ExpirationDate", now.Add(61*time.Minute).Format(time.RFC3339)),
		"expiry not a date":      with("ExpirationDate", "tomorrow"),
	} {
		status, _, body := h.call(http.MethodPost, path, form, h.sid, h.token)
		if status != http.StatusBadRequest || !strings.Contains(string(body), `"code":60306`) {
			t.Errorf("%s: %d %s", name, status, body)
		}
	}
	// An offset ExpirationDate (as twilio-go sends) is normalised to UTC.
	var c struct {
		ExpirationDate string `json:"expiration_date"`
		Details        struct {
			Fields []any `json:"fields"`
		} `json:"details"`
		HiddenDetails any `json:"hidden_details"`
	}
	h.account(http.MethodPost, path, with("ExpirationDate", now.Add(30*time.Minute).In(time.FixedZone("", 2*3600)).Format(time.RFC3339)), http.StatusCreated, &c)
	if c.ExpirationDate != now.Add(30*time.Minute).Format("2006-01-02T15:04:05Z") || c.Details.Fields == nil || c.HiddenDetails != nil {
		t.Fatalf("created: %+v", c)
	}
	// A lone empty Details.Fields, as the helper libraries send for no
	// details, means no fields; an empty entry beside real ones does not.
	h.account(http.MethodPost, path, with("Details.Fields", ""), http.StatusCreated, &c)
	if c.Details.Fields == nil || len(c.Details.Fields) != 0 {
		t.Fatalf("empty Details.Fields: %+v", c)
	}
	mixed := with("Details.Fields", `{"label":"a","value":"b"}`)
	mixed.Add("Details.Fields", "")
	if status, _, body := h.call(http.MethodPost, path, mixed, h.sid, h.token); status != http.StatusBadRequest || !strings.Contains(string(body), `"code":60306`) {
		t.Errorf("empty entry beside a field: %d %s", status, body)
	}
	// The default expiry is exactly five minutes.
	h.account(http.MethodPost, path, base(), http.StatusCreated, &c)
	if c.ExpirationDate != now.Add(5*time.Minute).Format("2006-01-02T15:04:05Z") {
		t.Fatalf("default expiry %s", c.ExpirationDate)
	}
}

func TestExpiryAppliedOnList(t *testing.T) {
	h := newHarness(t, "", newClock())
	_, p := setup(h, aliceID)
	h.challenge(p, nil)
	h.challenge(p, url.Values{"ExpirationDate": {h.clock.Now().Add(20 * time.Minute).Format(time.RFC3339)}})
	h.clock.Advance(6 * time.Minute)
	var page struct {
		Challenges []struct{ Status string } `json:"challenges"`
	}
	status, _, body := p.device(http.MethodGet, p.entityPath()+"/Challenges", url.Values{"FactorSid": {p.factorSid}, "Status": {"pending"}, "PageSize": {"20"}, "Order": {"desc"}})
	if status != http.StatusOK || json.Unmarshal(body, &page) != nil || len(page.Challenges) != 1 {
		t.Fatalf("pending after 6 minutes: %d %s", status, body)
	}
	h.account(http.MethodGet, p.entityPath()+"/Challenges", url.Values{"Status": {"expired"}}, http.StatusOK, &page)
	if len(page.Challenges) != 1 || page.Challenges[0].Status != "expired" {
		t.Fatalf("expired list: %+v", page)
	}
}

func TestPagingBothWays(t *testing.T) {
	h := newHarness(t, "", newClock())
	for i := 0; i < 5; i++ {
		h.account(http.MethodPost, "/v2/Services", url.Values{"FriendlyName": {"svc " + string(rune('a'+i))}}, http.StatusCreated, nil)
	}
	type page struct {
		Services []struct {
			FriendlyName string `json:"friendly_name"`
		} `json:"services"`
		Meta struct {
			NextPageURL     *string `json:"next_page_url"`
			PreviousPageURL *string `json:"previous_page_url"`
			Page            int     `json:"page"`
		} `json:"meta"`
	}
	get := func(link string) page {
		u, _ := url.Parse(link)
		var p page
		h.account(http.MethodGet, u.Path, u.Query(), http.StatusOK, &p)
		return p
	}
	names := func(p page) (s string) {
		for _, x := range p.Services {
			s += x.FriendlyName[4:]
		}
		return s
	}
	p0 := get(h.srv.URL + "/v2/Services?PageSize=2")
	p1 := get(*p0.Meta.NextPageURL)
	p2 := get(*p1.Meta.NextPageURL)
	if names(p0)+names(p1)+names(p2) != "abcde" || p2.Meta.NextPageURL != nil || p0.Meta.PreviousPageURL != nil || p2.Meta.Page != 2 {
		t.Fatalf("forward: %q %q %q", names(p0), names(p1), names(p2))
	}
	back := get(*p2.Meta.PreviousPageURL)
	if names(back) != "cd" || back.Meta.Page != 1 {
		t.Fatalf("previous of last page = %q (page %d)", names(back), back.Meta.Page)
	}
	if first := get(*back.Meta.PreviousPageURL); names(first) != "ab" {
		t.Fatalf("previous of page 1 = %q", names(first))
	}
}

func TestHostileRequests(t *testing.T) {
	h := newHarness(t, "", newClock())
	status, _, body := h.call(http.MethodPost, "/v2/Services", url.Values{"FriendlyName": {strings.Repeat("x", 70<<10)}}, h.sid, h.token)
	expectError(t, status, body, http.StatusRequestEntityTooLarge, 60306)
	status, _, body = h.call(http.MethodGet, "/v2/Nope", nil, h.sid, h.token)
	expectError(t, status, body, http.StatusNotFound, 20404)
	status, _, body = h.call(http.MethodPost, "/v2/Services", url.Values{"FriendlyName": {"a", "b"}}, h.sid, h.token)
	expectError(t, status, body, http.StatusBadRequest, 60306)
	status, _, body = h.call(http.MethodGet, "/v2/Services", nil, h.sid, "wrong")
	expectError(t, status, body, http.StatusUnauthorized, 20003)

	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/v2/Services", strings.NewReader(`{"FriendlyName":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(h.sid, h.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("JSON body: %d", resp.StatusCode)
	}
	// Nothing above left a half-made service behind.
	var list struct{ Services []any }
	h.account(http.MethodGet, "/v2/Services", nil, http.StatusOK, &list)
	if len(list.Services) != 0 {
		t.Fatalf("rejected requests created %d services", len(list.Services))
	}
}

// A 20404 under an entity names what is missing: the service, or the
// entity in a service that exists.
func TestMissingServiceOrEntityIsNamed(t *testing.T) {
	h := newHarness(t, "", newClock())
	var svc struct{ Sid string }
	h.account(http.MethodPost, "/v2/Services", url.Values{"FriendlyName": {"named"}}, http.StatusCreated, &svc)
	missing := "VA" + strings.Repeat("0", 32)
	for _, c := range []struct{ path, names, notNames string }{
		{"/v2/Services/" + svc.Sid + "/Entities/nobody/Challenges", "/Services/" + svc.Sid + "/Entities/nobody", ""},
		{"/v2/Services/" + missing + "/Entities/nobody/Challenges", "/Services/" + missing, "/Entities/"},
		{"/v2/Services/" + missing + "/Entities/nobody", "/Services/" + missing, "/Entities/"},
	} {
		status, _, body := h.call(http.MethodGet, c.path, nil, h.sid, h.token)
		expectError(t, status, body, http.StatusNotFound, 20404)
		var e twilioError
		json.Unmarshal(body, &e)
		if !strings.Contains(e.Message, c.names) || c.notNames != "" && strings.Contains(e.Message, c.notNames) {
			t.Errorf("GET %s: %q, want it to name %s", c.path, e.Message, c.names)
		}
	}
}
