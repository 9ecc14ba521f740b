package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pushsim/pushsim/server"
	"github.com/pushsim/pushsim/server/backend"
	"github.com/pushsim/pushsim/server/webhook"
)

// send makes a request with a raw body (or query, for GET) and content
// type; account signs it with the account's credentials.
func (h *harness) send(method, path, payload, contentType string, account bool) (int, []byte) {
	h.t.Helper()
	target, body := h.srv.URL+path, io.Reader(nil)
	if method == http.MethodGet {
		if payload != "" {
			target += "?" + payload
		}
	} else {
		body = strings.NewReader(payload)
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		h.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if account {
		req.SetBasicAuth(h.sid, h.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.StatusCode, out
}

const formType = "application/x-www-form-urlencoded"

// topKeys is a JSON object's keys in the order they were written.
func topKeys(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %s", raw)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func readFixture(t *testing.T, name string, out any) {
	t.Helper()
	raw, err := os.ReadFile("testdata/template/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// pageRequest is one request of the template's page or the Android
// sample app, from testdata/template/page-requests.txt.
type pageRequest struct{ method, path, payload string }

func pageRequests(t *testing.T) []pageRequest {
	t.Helper()
	f, err := os.Open("testdata/template/page-requests.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []pageRequest
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.SplitN(line, " ", 3)
		out = append(out, pageRequest{parts[0], parts[1], parts[2]})
	}
	return out
}

// replay sends a page request with its placeholders filled in.
func (h *harness) replay(r pageRequest, vars map[string]string) (int, []byte) {
	h.t.Helper()
	payload := r.payload
	for k, v := range vars {
		payload = strings.ReplaceAll(payload, "{"+k+"}", url.QueryEscape(v))
	}
	ctype := formType
	if r.method == http.MethodGet {
		ctype = ""
	}
	return h.send(r.method, r.path, payload, ctype, false)
}

const jsDate = "2026-03-04T05:06:07.000Z" // newClock's time, as a JavaScript Date

// TestTemplateRequests replays what the template's web page and the
// Android sample app send, and checks every status and every field they
// read against fixtures of the template's behaviour.
func TestTemplateRequests(t *testing.T) {
	h := newHarness(t, "", newClock())
	var shapes map[string][]string
	var missing map[string]string
	readFixture(t, "shapes.json", &shapes)
	readFixture(t, "missing.json", &missing)
	reqs := pageRequests(t)
	hashed := backend.HashIdentity("alice")
	vars := map[string]string{"identity": "alice", "hashed": hashed}

	// The Android sample app asks for an enrollment token.
	status, body := h.replay(reqs[0], vars)
	var tok struct{ Token, ServiceSid, Identity, FactorType string }
	if json.Unmarshal(body, &tok); status != http.StatusOK || !slices.Equal(topKeys(t, body), shapes["accessToken"]) ||
		tok.Token == "" || tok.Identity != hashed || tok.FactorType != "push" || !strings.HasPrefix(tok.ServiceSid, "VA") {
		t.Fatalf("access-token: %d %s", status, body)
	}
	p := newPhone(h, tok.ServiceSid, hashed)
	if status, body := p.enroll(tok.Token); status != http.StatusCreated {
		t.Fatalf("enroll with the template's token: %d %s", status, body)
	}
	p.verifyFactor()
	vars["factor"] = p.factorSid

	// "List factors" reads friendlyName, identity, sid and dateCreated.
	status, body = h.replay(reqs[1], vars)
	var factors []json.RawMessage
	if json.Unmarshal(body, &factors); status != http.StatusOK || len(factors) != 1 || !slices.Equal(topKeys(t, factors[0]), shapes["factor"]) {
		t.Fatalf("list-factors: %d %s", status, body)
	}
	var f struct{ FriendlyName, Identity, Sid, DateCreated string }
	if json.Unmarshal(factors[0], &f); f.FriendlyName != "Pixel 7" || f.Identity != hashed || f.Sid != p.factorSid || f.DateCreated != jsDate {
		t.Fatalf("factor as the page reads it: %+v", f)
	}

	// "Create challenge" reads status, sid and identity; details become
	// fields and hidden details stay hidden.
	status, body = h.replay(reqs[2], vars)
	var c struct {
		Sid, Status, Identity, DateCreated, ExpirationDate string
		Details                                            struct {
			Message string
			Fields  []struct{ Label, Value string }
		}
		HiddenDetails map[string]string
	}
	if json.Unmarshal(body, &c); status != http.StatusOK || !slices.Equal(topKeys(t, body), shapes["challenge"]) {
		t.Fatalf("create-challenge: %d %s", status, body)
	}
	if c.Status != "pending" || c.Identity != hashed || c.DateCreated != jsDate || c.ExpirationDate != "2026-03-04T05:11:07.000Z" ||
		c.Details.Message != "Please verify login attempt" || len(c.Details.Fields) != 2 ||
		c.Details.Fields[0] != (struct{ Label, Value string }{"Location", "Lisbon"}) || c.Details.Fields[1].Label != "IP Address" ||
		len(c.HiddenDetails) != 1 || c.HiddenDetails["transactionId"] != "TX123456" {
		t.Fatalf("challenge as the page reads it: %s", body)
	}

	// checkStatus polls with the identity create-challenge answered with.
	readStatus := func(sid string) string {
		t.Helper()
		vars["sid"] = sid
		status, body := h.replay(reqs[3], vars)
		var out struct{ Status string }
		if json.Unmarshal(body, &out); status != http.StatusOK || !slices.Equal(topKeys(t, body), shapes["challenge"]) {
			t.Fatalf("challenge-status: %d %s", status, body)
		}
		return out.Status
	}
	if got := readStatus(c.Sid); got != "pending" {
		t.Fatalf("status before answering: %s", got)
	}
	p.answer(c.Sid, "approved", nil)
	if got := readStatus(c.Sid); got != "approved" {
		t.Fatalf("status after approving: %s", got)
	}
	vars["sid"] = ""
	if status, body = h.replay(reqs[2], vars); status != http.StatusOK || json.Unmarshal(body, &c) != nil {
		t.Fatalf("second create-challenge: %d %s", status, body)
	}
	p.answer(c.Sid, "denied", nil)
	if got := readStatus(c.Sid); got != "denied" {
		t.Fatalf("status after denying: %s", got)
	}

	// A function called without its parameters answers the template's
	// own 400, byte for byte.
	for fn, want := range missing {
		status, body := h.send(http.MethodPost, "/backend/"+fn, "", formType, false)
		if status != http.StatusBadRequest || string(bytes.TrimSpace(body)) != want {
			t.Errorf("%s without parameters: %d %s\nwant %s", fn, status, body, want)
		}
	}
	// Only absent parameters are missing: an empty one goes on to Verify.
	if status, body := h.send(http.MethodPost, "/backend/create-challenge", "identity=alice&message=&factor="+p.factorSid, formType, false); status != http.StatusBadRequest || !strings.Contains(string(body), "Details.Message") {
		t.Errorf("empty message: %d %s", status, body)
	}

	// Verify's errors come back with Verify's status and message.
	verifyErr := func(method, path string, form url.Values) (int, string) {
		t.Helper()
		status, _, body := h.call(method, path, form, h.sid, h.token)
		var e struct{ Message string }
		json.Unmarshal(body, &e)
		return status, e.Message
	}
	placeholder := "YFXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX" // the page's placeholder
	wantStatus, wantMessage := verifyErr(http.MethodPost, p.entityPath()+"/Challenges", url.Values{"FactorSid": {placeholder}, "Details.Message": {"m"}})
	status, body = h.send(http.MethodPost, "/backend/create-challenge", "identity=alice&message=m&factor="+placeholder, formType, false)
	var e struct {
		Error struct{ Message, MoreInfo string }
	}
	if json.Unmarshal(body, &e); status != wantStatus || e.Error.Message != wantMessage || !strings.HasPrefix(e.Error.MoreInfo, "https://www.twilio.com/docs/errors/") ||
		!slices.Equal(topKeys(t, body), shapes["error"]) {
		t.Errorf("create-challenge on a bad factor: %d %s, want %d %q", status, body, wantStatus, wantMessage)
	}
	unknown := "YC" + strings.Repeat("0", 32)
	wantStatus, wantMessage = verifyErr(http.MethodGet, p.entityPath()+"/Challenges/"+unknown, nil)
	status, body = h.send(http.MethodGet, "/backend/challenge-status", "identity="+hashed+"&sid="+unknown, "", false)
	var se struct {
		Success *bool
		Error   struct{ Message string }
	}
	if json.Unmarshal(body, &se); status != http.StatusNotFound || status != wantStatus || se.Success == nil || *se.Success || se.Error.Message != wantMessage ||
		!slices.Equal(topKeys(t, body), shapes["challengeStatusError"]) {
		t.Errorf("challenge-status of an unknown challenge: %d %s", status, body)
	}
	// The template fetches with the identity it is given: a user name is
	// not an identity Verify knows.
	if status, body := h.send(http.MethodGet, "/backend/challenge-status", "identity=alice&sid="+c.Sid, "", false); status != http.StatusNotFound {
		t.Errorf("challenge-status with the raw name: %d %s", status, body)
	}
	if status, body := h.send(http.MethodPost, "/backend/list-factors", "identity=nobody", formType, false); status != http.StatusNotFound || !slices.Equal(topKeys(t, body), shapes["error"]) {
		t.Errorf("list-factors for a stranger: %d %s", status, body)
	}

	// The iOS sample and other clients send JSON; details and hidden
	// details may then be JSON themselves.
	status, body = h.send(http.MethodPost, "/backend/access-token", `{"identity":"alice"}`, "Application/JSON", false)
	var tok2 struct{ Token, ServiceSid string }
	if json.Unmarshal(body, &tok2); status != http.StatusOK || tok2.ServiceSid != tok.ServiceSid || tok2.Token == "" || tok2.Token == tok.Token {
		t.Errorf("JSON access-token: %d %s", status, body)
	}
	status, body = h.send(http.MethodPost, "/backend/create-challenge",
		`{"identity":"alice","message":"JSON","factor":"`+p.factorSid+`","details":[{"label":"Browser","value":"Firefox"}],"hiddenDetails":{"k":"v"}}`, "application/json", false)
	if json.Unmarshal(body, &c); status != http.StatusOK || len(c.Details.Fields) != 1 || c.Details.Fields[0].Value != "Firefox" || c.HiddenDetails["k"] != "v" {
		t.Errorf("JSON create-challenge: %d %s", status, body)
	}
	// The template's own test case: hidden details, no details.
	status, body = h.send(http.MethodPost, "/backend/create-challenge", url.Values{
		"identity": {"alice"}, "message": {"login request"}, "factor": {p.factorSid},
		"hiddenDetails": {`{"ip":"172.168.1.234","transactionId":"TX123456"}`}, "details": {"[]"},
	}.Encode(), formType, false)
	if json.Unmarshal(body, &c); status != http.StatusOK || len(c.Details.Fields) != 0 || c.HiddenDetails["ip"] != "172.168.1.234" {
		t.Errorf("hidden details only: %d %s", status, body)
	}
	// Malformed details are a clear 400, not a crash.
	if status, body := h.send(http.MethodPost, "/backend/create-challenge", "identity=alice&message=m&factor="+p.factorSid+"&details=Location%3DLisbon", formType, false); status != http.StatusBadRequest || !strings.Contains(string(body), "details must be a JSON array") {
		t.Errorf("malformed details: %d %s", status, body)
	}
}

// TestIdentityProcessingRaw: with IDENTITY_PROCESSING=raw the name goes to
// Verify as it is, and Verify's refusals reach access-token's caller in
// the shape of the helper library's exception.
func TestIdentityProcessingRaw(t *testing.T) {
	h := newHarnessWith(t, server.Config{IdentityProcessing: "raw"}, newClock())
	var shapes map[string][]string
	readFixture(t, "shapes.json", &shapes)
	status, body := h.send(http.MethodPost, "/backend/access-token", "identity=alice-0001", formType, false)
	if status != http.StatusOK || !strings.Contains(string(body), `"identity":"alice-0001"`) {
		t.Fatalf("raw access-token: %d %s", status, body)
	}
	status, body = h.send(http.MethodPost, "/backend/access-token", "identity=bob", formType, false)
	var e struct {
		Status, Code int
		Message      string
		MoreInfo     string
	}
	if json.Unmarshal(body, &e); status != http.StatusBadRequest || e.Status != 400 || e.Code != 60306 || e.Message == "" ||
		e.MoreInfo != "https://www.twilio.com/docs/errors/60306" || !slices.Equal(topKeys(t, body), shapes["accessTokenError"]) {
		t.Fatalf("raw access-token Verify refuses: %d %s", status, body)
	}
	if _, err := server.New(t.Context(), server.Config{IdentityProcessing: "md5"}); err == nil || !strings.Contains(err.Error(), "use hash or raw") {
		t.Fatalf("unknown identity processing: %v", err)
	}
}

// enrolledVia enrolls and verifies a protocol phone for user through the
// sample backend's access-token.
func enrolledVia(h *harness, user string) *phone {
	h.t.Helper()
	status, body := h.send(http.MethodPost, "/backend/access-token", "identity="+user, formType, false)
	var tok struct{ Token, ServiceSid, Identity string }
	if json.Unmarshal(body, &tok); status != http.StatusOK {
		h.t.Fatalf("access-token: %d %s", status, body)
	}
	p := newPhone(h, tok.ServiceSid, tok.Identity)
	if status, body := p.enroll(tok.Token); status != http.StatusCreated {
		h.t.Fatalf("enroll: %d %s", status, body)
	}
	p.verifyFactor()
	return p
}

func TestSampleBackendAdditions(t *testing.T) {
	h := newHarness(t, "", newClock())
	p := enrolledVia(h, "bob")
	hashed := backend.HashIdentity("bob")
	post := func(path string, form url.Values) (int, map[string]any) {
		t.Helper()
		status, body := h.send(http.MethodPost, path, form.Encode(), formType, false)
		var m map[string]any
		json.Unmarshal(body, &m)
		return status, m
	}

	// Number matching: a two-digit code in hidden details, beside the
	// caller's own.
	status, c := post("/backend/create-challenge", url.Values{"identity": {"bob"}, "message": {"Sign in?"}, "factor": {p.factorSid}, "numberMatch": {"true"}, "hiddenDetails": {`{"ip":"192.0.2.1"}`}})
	hidden, _ := c["hiddenDetails"].(map[string]any)
	code, _ := hidden[backend.NumberMatchKey].(string)
	if status != http.StatusOK || len(code) != 2 || code < "10" || hidden["ip"] != "192.0.2.1" {
		t.Fatalf("number match challenge: %d %v", status, c)
	}
	sid := c["sid"].(string)

	// Resend: three notifications, then Verify's limit comes back.
	for i := 0; i < 3; i++ {
		if status, n := post("/backend/resend", url.Values{"identity": {hashed}, "sid": {sid}}); status != http.StatusOK || n["challengeSid"] != sid || n["dateCreated"] != jsDate {
			t.Fatalf("resend %d: %d %v", i, status, n)
		}
	}
	if status, m := post("/backend/resend", url.Values{"identity": {hashed}, "sid": {sid}}); status != http.StatusTooManyRequests || !strings.HasSuffix(jsonText(m), `/60309"}}`) {
		t.Fatalf("4th resend: %d %v", status, m)
	}

	// Expire now.
	if status, m := post("/backend/expire", url.Values{"identity": {hashed}, "sid": {sid}, "reason": {"not_needed"}}); status != http.StatusOK || m["status"] != "expired" || m["respondedReason"] != "not_needed" {
		t.Fatalf("expire: %d %v", status, m)
	}
	if status, m := post("/backend/expire", url.Values{"identity": {hashed}, "sid": {sid}}); status != http.StatusForbidden {
		t.Fatalf("expire twice: %d %v", status, m)
	}

	// Push bombing: the sixth unanswered prompt is refused.
	var refused int
	for i := 0; i < 8; i++ {
		status, _ := post("/backend/create-challenge", url.Values{"identity": {"bob"}, "message": {"Sign in?"}, "factor": {p.factorSid}})
		if status == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused != 3 {
		t.Fatalf("%d of 8 rapid challenges refused, want 3 (5 pending allowed)", refused)
	}
	status, body := h.send(http.MethodGet, "/backend/challenges", "identity=bob", "", false)
	var list []struct{ Status string }
	if json.Unmarshal(body, &list); status != http.StatusOK || len(list) != 6 || list[5].Status != "expired" || list[0].Status != "pending" {
		t.Fatalf("challenge list: %d %s", status, body)
	}
	status, body = h.send(http.MethodGet, "/backend/hash-identity", "identity=bob", "", false)
	if status != http.StatusOK || !strings.Contains(string(body), hashed) {
		t.Fatalf("hash-identity: %d %s", status, body)
	}

	// The webhook sink keeps deliveries and checks their signature.
	hook := h.srv.Backend().WebhookURL()
	params := url.Values{"uuid": {"u-1"}, "type": {"challenge.approved"}, "factor_sid": {p.factorSid}}
	for signer, want := range map[string]int{h.token: http.StatusNoContent, "not-the-token": http.StatusForbidden} {
		req, _ := http.NewRequest(http.MethodPost, hook, strings.NewReader(params.Encode()))
		req.Header.Set("Content-Type", formType)
		req.Header.Set("X-Twilio-Signature", webhook.Sign(signer, hook, params))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("sink answered %d, want %d", resp.StatusCode, want)
		}
	}
	status, body = h.send(http.MethodGet, "/backend/webhook/events", "", "", false)
	var events struct {
		Events []struct {
			SignatureValid bool
			Type, UUID     string
		}
	}
	valid := 0
	json.Unmarshal(body, &events)
	for _, e := range events.Events {
		if e.SignatureValid && e.UUID == "u-1" && e.Type == "challenge.approved" {
			valid++
		}
	}
	if status != http.StatusOK || len(events.Events) != 2 || valid != 1 {
		t.Fatalf("sink events: %d %s", status, body)
	}

	// A forged delivery is kept cut to a delivery's size: the list keeps
	// the last hundred of any kind, and a forger's are not 700 KB each.
	huge := url.Values{}
	for i := range 500 {
		huge.Set(fmt.Sprintf("k%04d", i), strings.Repeat("v", 100))
	}
	req, _ := http.NewRequest(http.MethodPost, hook, strings.NewReader(huge.Encode()))
	req.Header.Set("Content-Type", formType)
	req.Header.Set("X-Twilio-Signature", strings.Repeat("s", 60_000))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("forged delivery: %v %v", resp, err)
	}
	var kept struct {
		Events []struct {
			Params        map[string]string
			ParamsLeftOut int
			Signature     string
		}
	}
	_, body = h.send(http.MethodGet, "/backend/webhook/events", "", "", false)
	json.Unmarshal(body, &kept)
	last := kept.Events[len(kept.Events)-1]
	if len(last.Params) > 32 || last.ParamsLeftOut != 500-len(last.Params) || len(last.Signature) > 128+len("…") || last.Params["k0000"] != strings.Repeat("v", 100) {
		t.Fatalf("forged delivery kept with %d params (%d left out), a %d-byte signature", len(last.Params), last.ParamsLeftOut, len(last.Signature))
	}
}

// TestSignInReachesEveryPhone: a sign-in without factor challenges every
// verified phone of the user; the answer on one withdraws the others as
// not_needed, driven by the webhook the backend receives. A template
// request (with factor) is left alone.
func TestSignInReachesEveryPhone(t *testing.T) {
	h := newHarness(t, "", newClock())
	h.run()
	phones := []*phone{enrolledVia(h, "carol"), enrolledVia(h, "carol"), enrolledVia(h, "carol")}
	hashed := backend.HashIdentity("carol")
	signIn := func(extra url.Values) []string {
		t.Helper()
		form := url.Values{"identity": {"carol"}, "message": {"Sign in?"}}
		for k, v := range extra {
			form[k] = v
		}
		status, body := h.send(http.MethodPost, "/backend/create-challenge", form.Encode(), formType, false)
		var out struct {
			Sid        string
			Challenges []struct {
				Sid, FactorSid string
				HiddenDetails  map[string]string
			}
			Refused []any
		}
		if json.Unmarshal(body, &out); status != http.StatusOK || len(out.Challenges) != len(phones) || out.Sid != out.Challenges[0].Sid || len(out.Refused) != 0 {
			t.Fatalf("sign-in: %d %s", status, body)
		}
		var sids []string
		group := out.Challenges[0].HiddenDetails[backend.SignInKey]
		for i, c := range out.Challenges {
			if c.FactorSid != phones[i].factorSid || group == "" || c.HiddenDetails[backend.SignInKey] != group {
				t.Fatalf("challenge %d of the sign-in: %+v", i, c)
			}
			sids = append(sids, c.Sid)
		}
		return sids
	}
	read := func(sid string) (status, reason string) {
		t.Helper()
		code, body := h.send(http.MethodGet, "/backend/challenge-status", "identity="+hashed+"&sid="+sid, "", false)
		var c struct{ Status, RespondedReason string }
		if json.Unmarshal(body, &c); code != http.StatusOK {
			t.Fatalf("challenge-status: %d %s", code, body)
		}
		return c.Status, c.RespondedReason
	}
	for _, answer := range []string{"approved", "denied"} {
		sids := signIn(nil)
		if status, body := phones[1].answer(sids[1], answer, nil); status != http.StatusOK {
			t.Fatalf("%s: %d %s", answer, status, body)
		}
		for _, i := range []int{0, 2} {
			waitFor(t, func() bool { s, r := read(sids[i]); return s == "expired" && r == backend.ReasonNotNeeded })
		}
		if s, _ := read(sids[1]); s != answer {
			t.Fatalf("the answered challenge reads %s", s)
		}
	}
	// Number matching: every phone of the sign-in shows the same code.
	sids := signIn(url.Values{"numberMatch": {"true"}})
	codes := map[string]bool{}
	for _, sid := range sids {
		_, body := h.send(http.MethodGet, "/backend/challenge-status", "identity="+hashed+"&sid="+sid, "", false)
		var c struct{ HiddenDetails map[string]string }
		json.Unmarshal(body, &c)
		codes[c.HiddenDetails[backend.NumberMatchKey]] = true
	}
	if len(codes) != 1 || codes[""] {
		t.Fatalf("number-matching codes across phones: %v", codes)
	}
	// A challenge created the template's way carries no sign-in, and its
	// answer withdraws nothing.
	status, body := h.send(http.MethodPost, "/backend/create-challenge", url.Values{"identity": {"carol"}, "message": {"One phone"}, "factor": {phones[2].factorSid}}.Encode(), formType, false)
	var one struct {
		Sid           string
		HiddenDetails map[string]string
	}
	if json.Unmarshal(body, &one); status != http.StatusOK || one.HiddenDetails != nil {
		t.Fatalf("template create-challenge: %d %s", status, body)
	}
	phones[2].answer(one.Sid, "approved", nil)
	waitFor(t, func() bool {
		for _, e := range h.srv.Backend().Events() {
			if e.Params["challenge_sid"] == one.Sid {
				return true
			}
		}
		return false
	})
	for _, sid := range sids {
		if s, _ := read(sid); s != "pending" {
			t.Fatalf("a template challenge's answer withdrew %s (%s)", sid, s)
		}
	}
	// A user with no verified phone gets a clear 404.
	if status, body := h.send(http.MethodPost, "/backend/create-challenge", "identity=nobody&message=m", formType, false); status != http.StatusNotFound || !strings.Contains(string(body), "enroll a phone first") {
		t.Fatalf("sign-in without a phone: %d %s", status, body)
	}
}

// TestGuardedBackend plays an attacker on the same network as a server
// bound beyond loopback: every account-side call and the emulator's
// controls refuse without the account's credentials and leak nothing,
// and knowing a user's name is not enough to enroll a second phone.
func TestGuardedBackend(t *testing.T) {
	clock := newClock()
	h := newHarnessWith(t, server.Config{Exposed: true}, clock)
	h.run()
	victim := enrolledVia(h, "victim") // the first phone of a new name needs nothing
	hashed := backend.HashIdentity("victim")
	sid := ""
	{
		status, body := h.send(http.MethodPost, "/backend/create-challenge", url.Values{"identity": {"victim"}, "message": {"Sign in?"}, "factor": {victim.factorSid}, "hiddenDetails": {`{"secret":"s3cr3t"}`}}.Encode(), formType, true)
		var c struct{ Sid string }
		if json.Unmarshal(body, &c); status != http.StatusOK {
			t.Fatalf("the account's create-challenge: %d %s", status, body)
		}
		sid = c.Sid
		victim.answer(sid, "approved", nil)
		waitFor(t, func() bool { return len(h.srv.Backend().Events()) > 0 })
	}
	for _, attack := range []struct{ method, path, payload string }{
		{http.MethodPost, "/backend/create-challenge", "identity=victim&message=m&factor=" + victim.factorSid},
		{http.MethodPost, "/backend/create-challenge", "identity=victim&message=m"},
		{http.MethodGet, "/backend/challenge-status", "identity=" + hashed + "&sid=" + sid},
		{http.MethodPost, "/backend/list-factors", "identity=victim"},
		{http.MethodGet, "/backend/list-factors", "identity=victim"},
		{http.MethodGet, "/backend/challenges", "identity=victim"},
		{http.MethodPost, "/backend/resend", "identity=" + hashed + "&sid=" + sid},
		{http.MethodPost, "/backend/expire", "identity=" + hashed + "&sid=" + sid},
		{http.MethodPost, "/backend/enrollment-code", "identity=victim"},
		{http.MethodGet, "/backend/webhook/events", ""},
		{http.MethodGet, "/backend/hash-identity", "identity=victim"},
		{http.MethodGet, "/_pushsim/webhooks", ""},
		{http.MethodPost, "/_pushsim/Services/" + victim.serviceSid + "/Entities/" + hashed + "/Challenges/" + sid + "/Expire", ""},
	} {
		status, body := h.send(attack.method, attack.path, attack.payload, formType, false)
		if status != http.StatusUnauthorized {
			t.Errorf("%s %s without credentials: %d %s", attack.method, attack.path, status, body)
		}
		for _, leak := range []string{victim.factorSid, hashed, sid, "notification_token", "notificationToken", "s3cr3t"} {
			if strings.Contains(string(body), leak) {
				t.Errorf("%s %s leaks %q: %s", attack.method, attack.path, leak, body)
			}
		}
	}
	// The account's own calls work, and the delivery log is the account's.
	if status, body := h.send(http.MethodGet, "/_pushsim/webhooks", "", "", true); status != http.StatusOK || !strings.Contains(string(body), "challenge.approved") {
		t.Fatalf("delivery log as the account: %d %s", status, body)
	}
	if status, _ := h.send(http.MethodGet, "/_pushsim/health", "", "", false); status != http.StatusOK {
		t.Fatalf("health is open: %d", status)
	}

	// Enrolling a second phone for a user with a verified one: the name
	// alone gets no token, nor does a made-up code.
	for _, payload := range []string{"identity=victim", "identity=victim&enrollmentCode=ABCDEFGH"} {
		status, body := h.send(http.MethodPost, "/backend/access-token", payload, formType, false)
		if status != http.StatusForbidden || strings.Contains(string(body), "token\"") || !strings.Contains(string(body), "enrollment code") {
			t.Fatalf("access-token %s: %d %s", payload, status, body)
		}
	}
	mint := func() string {
		t.Helper()
		status, body := h.send(http.MethodPost, "/backend/enrollment-code", "identity=victim", formType, true)
		var c struct{ Identity, EnrollmentCode, ExpiresAt string }
		if json.Unmarshal(body, &c); status != http.StatusOK || c.Identity != hashed || len(c.EnrollmentCode) != 8 || c.ExpiresAt != clock.Now().Add(10*time.Minute).Format(time.RFC3339) {
			t.Fatalf("enrollment-code: %d %s", status, body)
		}
		return c.EnrollmentCode
	}
	code := mint()
	if status, body := h.send(http.MethodPost, "/backend/access-token", "identity=victim&enrollmentCode="+code, formType, false); status != http.StatusOK || !strings.Contains(string(body), `"token":"`) {
		t.Fatalf("access-token with the host's code: %d %s", status, body)
	}
	if status, _ := h.send(http.MethodPost, "/backend/access-token", "identity=victim&enrollmentCode="+code, formType, false); status != http.StatusForbidden {
		t.Fatalf("a used code worked again: %d", status)
	}
	code = mint()
	clock.Advance(11 * time.Minute)
	if status, _ := h.send(http.MethodPost, "/backend/access-token", "identity=victim&enrollmentCode="+code, formType, false); status != http.StatusForbidden {
		t.Fatalf("an expired code worked: %d", status)
	}
	// The account itself may always hand out tokens.
	if status, _ := h.send(http.MethodPost, "/backend/access-token", "identity=victim", formType, true); status != http.StatusOK {
		t.Fatalf("access-token as the account: %d", status)
	}
}

// TestLoopbackBackendIsOpen: on loopback nothing needs credentials, so the
// README's calls work as written; the delivery log still does.
func TestLoopbackBackendIsOpen(t *testing.T) {
	h := newHarness(t, "", newClock())
	enrolledVia(h, "dave")
	enrolledVia(h, "dave") // a second phone needs no code on loopback
	if status, body := h.send(http.MethodGet, "/backend/list-factors", "identity=dave", "", false); status != http.StatusOK || strings.Count(string(body), `"sid":"YF`) != 2 {
		t.Fatalf("list-factors on loopback: %d %s", status, body)
	}
	if status, _ := h.send(http.MethodGet, "/_pushsim/webhooks", "", "", false); status != http.StatusUnauthorized {
		t.Fatalf("delivery log without credentials on loopback: %d", status)
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
