package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The read-only controls are the account's: no credentials, or a phone's,
// get a 401.
func TestControlNeedsAccount(t *testing.T) {
	h := newHarness(t, "", newClock())
	defer h.close()
	serviceSid, p := setup(h, "alice-0001")
	for _, path := range []string{
		"/_pushsim/Services/" + serviceSid + "/Entities/alice-0001/Challenges/Latest",
		"/_pushsim/requests",
	} {
		if status, _, body := h.call(http.MethodGet, path, nil, "", ""); status != http.StatusUnauthorized {
			t.Errorf("GET %s without credentials: %d %s", path, status, body)
		}
		if status, _, body := h.call(http.MethodGet, path, nil, h.sid, "wrong"); status != http.StatusUnauthorized {
			t.Errorf("GET %s with a wrong token: %d %s", path, status, body)
		}
		if status, _, body := h.call(http.MethodGet, path, nil, "token", p.jwt()); status != http.StatusUnauthorized {
			t.Errorf("GET %s as a phone: %d %s", path, status, body)
		}
	}
}

// Latest answers the newest challenge as the API's fetch does, hidden
// details included.
func TestControlLatestChallenge(t *testing.T) {
	h := newHarness(t, "", newClock())
	defer h.close()
	serviceSid, p := setup(h, "alice-0001")
	latest := "/_pushsim/Services/" + serviceSid + "/Entities/alice-0001/Challenges/Latest"

	status, _, body := h.call(http.MethodGet, latest, nil, h.sid, h.token)
	expectError(t, status, body, http.StatusNotFound, 20404)
	status, _, body = h.call(http.MethodGet, "/_pushsim/Services/"+serviceSid+"/Entities/nobody-0001/Challenges/Latest", nil, h.sid, h.token)
	expectError(t, status, body, http.StatusNotFound, 20404)

	h.challenge(p, url.Values{"HiddenDetails": {`{"number_match":"17"}`}})
	h.clock.Advance(time.Second)
	sid := h.challenge(p, url.Values{"HiddenDetails": {`{"number_match":"42"}`}})

	var got map[string]any
	raw := h.account(http.MethodGet, latest, nil, http.StatusOK, &got)
	if got["sid"] != sid || got["status"] != "pending" {
		t.Fatalf("latest is not the newest challenge %s: %s", sid, raw)
	}
	if hd, _ := got["hidden_details"].(map[string]any); hd["number_match"] != "42" {
		t.Fatalf("hidden details missing: %s", raw)
	}
	// Same shape and values as the API's own fetch, as the account sees it.
	var fetched map[string]any
	h.account(http.MethodGet, p.entityPath()+"/Challenges/"+sid, nil, http.StatusOK, &fetched)
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(fetched)
	if !bytes.Equal(a, b) {
		t.Fatalf("latest differs from the fetch:\n%s\n%s", a, b)
	}
}

type loggedRequest struct {
	Method     string   `json:"method"`
	Path       string   `json:"path"`
	QueryKeys  []string `json:"query_keys"`
	Status     int      `json:"status"`
	DurationMs *float64 `json:"duration_ms"`
	Time       string   `json:"time"`
}

// The request log shows what was just served, newest first, without
// credentials or query values, and its limit is honoured and bounded.
func TestControlRequestLog(t *testing.T) {
	h := newHarness(t, "", newClock())
	defer h.close()
	_, p := setup(h, "alice-0001")

	const secret = "s3cretPageToken"
	h.call(http.MethodGet, p.entityPath()+"/Challenges", url.Values{"PageSize": {"5"}, "PageToken": {secret}}, h.sid, h.token)
	h.call(http.MethodGet, "/v2/Services/VA00000000000000000000000000000000", nil, h.sid, h.token)

	var log struct{ Requests []loggedRequest }
	raw := h.account(http.MethodGet, "/_pushsim/requests", nil, http.StatusOK, &log)
	for _, leak := range []string{secret, h.token, "Basic ", "Authorization"} {
		if strings.Contains(string(raw), leak) {
			t.Fatalf("request log carries %q: %s", leak, raw)
		}
	}
	if len(log.Requests) < 2 {
		t.Fatalf("request log too short: %s", raw)
	}
	last, before := log.Requests[0], log.Requests[1]
	if last.Method != http.MethodGet || last.Path != "/v2/Services/VA00000000000000000000000000000000" ||
		last.Status != http.StatusNotFound || last.DurationMs == nil || last.Time == "" || len(last.QueryKeys) != 0 {
		t.Fatalf("newest entry: %+v", last)
	}
	if before.Path != p.entityPath()+"/Challenges" || before.Status != http.StatusBadRequest || // the made-up page token is refused
		strings.Join(before.QueryKeys, ",") != "PageSize,PageToken" {
		t.Fatalf("entry before: %+v", before)
	}

	// A path longer than any route is kept cut, and says so: a thousand
	// kept requests must not hold a thousand 30 KB paths.
	long := "/v2/" + strings.Repeat("a", 30_000)
	h.call(http.MethodGet, long, nil, h.sid, h.token)
	h.account(http.MethodGet, "/_pushsim/requests", url.Values{"limit": {"2"}}, http.StatusOK, &log)
	if cut := log.Requests[0].Path; len(cut) > 520 || !strings.HasSuffix(cut, "…") || !strings.HasPrefix(long, strings.TrimSuffix(cut, "…")) {
		t.Fatalf("a %d-byte path kept as %d bytes: %.60q…", len(long), len(cut), cut)
	}

	h.account(http.MethodGet, "/_pushsim/requests", url.Values{"limit": {"1"}}, http.StatusOK, &log)
	if len(log.Requests) != 1 || log.Requests[0].Path != "/_pushsim/requests" {
		t.Fatalf("limit=1: %+v", log.Requests)
	}

	// The ring keeps 1000 entries; a larger limit gets at most that many.
	for i := 0; i < 1005; i++ {
		h.call(http.MethodGet, "/_pushsim/health", url.Values{"n": {strconv.Itoa(i)}}, "", "")
	}
	h.account(http.MethodGet, "/_pushsim/requests", url.Values{"limit": {"5000"}}, http.StatusOK, &log)
	if len(log.Requests) != 1000 {
		t.Fatalf("limit=5000 gave %d entries, want the ring's 1000", len(log.Requests))
	}
	if e := log.Requests[0]; e.Path != "/_pushsim/health" || strings.Join(e.QueryKeys, ",") != "n" || e.Status != http.StatusOK {
		t.Fatalf("newest entry: %+v", e)
	}
	h.account(http.MethodGet, "/_pushsim/requests", nil, http.StatusOK, &log)
	if len(log.Requests) != 100 {
		t.Fatalf("default limit gave %d entries, want 100", len(log.Requests))
	}
}
