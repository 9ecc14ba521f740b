package server_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pushsim/pushsim/device/pushclient"
	"github.com/pushsim/pushsim/server"
)

type faultsView struct {
	Push []struct {
		FactorSid string `json:"factor_sid"`
		Mode      string `json:"mode"`
		Delay     string `json:"delay"`
	} `json:"push"`
	Webhook *struct {
		Mode   string `json:"mode"`
		Status int    `json:"status"`
	} `json:"webhook"`
}

type clockView struct {
	Now           string `json:"now"`
	Offset        string `json:"offset"`
	OffsetSeconds int64  `json:"offset_seconds"`
}

// Every new control is the account's, and refuses nonsense with Verify's
// error shape, changing nothing.
func TestFaultControlsRefuse(t *testing.T) {
	h := newHarness(t, "", newClock())
	defer h.close()
	_, p := setup(h, "alice-0001")
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/_pushsim/faults"}, {http.MethodDelete, "/_pushsim/faults"},
		{http.MethodPost, "/_pushsim/faults/push"}, {http.MethodPost, "/_pushsim/faults/webhook"},
		{http.MethodGet, "/_pushsim/clock"}, {http.MethodPost, "/_pushsim/clock"},
		{http.MethodPost, "/_pushsim/restart"}, {http.MethodPost, "/_pushsim/reset"},
		{http.MethodGet, "/_pushsim/pushes"},
	} {
		if status, _, body := h.call(c.method, c.path, url.Values{"Mode": {"drop"}, "Advance": {"1m"}}, "", ""); status != http.StatusUnauthorized {
			t.Errorf("%s %s without credentials: %d %s", c.method, c.path, status, body)
		}
		if status, _, body := h.call(c.method, c.path, url.Values{"Mode": {"drop"}, "Advance": {"1m"}}, "token", p.jwt()); status != http.StatusUnauthorized {
			t.Errorf("%s %s as a phone: %d %s", c.method, c.path, status, body)
		}
	}
	for _, c := range []struct {
		path string
		form url.Values
	}{
		{"/_pushsim/faults/push", url.Values{"Mode": {"lose"}}},
		{"/_pushsim/faults/push", url.Values{}},
		{"/_pushsim/faults/push", url.Values{"Mode": {"delay"}}},
		{"/_pushsim/faults/push", url.Values{"Mode": {"delay"}, "Delay": {"-5s"}}},
		{"/_pushsim/faults/push", url.Values{"Mode": {"delay"}, "Delay": {"48h"}}},
		{"/_pushsim/faults/push", url.Values{"Mode": {"drop"}, "FactorSid": {"alice"}}},
		{"/_pushsim/faults/webhook", url.Values{"Mode": {"status"}, "Status": {"700"}}},
		{"/_pushsim/faults/webhook", url.Values{"Mode": {"status"}, "Status": {"five hundred"}}},
		{"/_pushsim/faults/webhook", url.Values{"Mode": {"slow"}}},
		{"/_pushsim/clock", url.Values{"Advance": {"-1m"}}},
		{"/_pushsim/clock", url.Values{"Advance": {"0s"}}},
		{"/_pushsim/clock", url.Values{"Advance": {"soon"}}},
		{"/_pushsim/clock", url.Values{"Advance": {"10000h"}}},
		{"/_pushsim/faults/push", url.Values{"Mode": {strings.Repeat("x", 5000)}}},
	} {
		status, _, body := h.call(http.MethodPost, c.path, c.form, h.sid, h.token)
		expectError(t, status, body, http.StatusBadRequest, 60306)
	}
	var f faultsView
	h.account(http.MethodGet, "/_pushsim/faults", nil, http.StatusOK, &f)
	if len(f.Push) != 0 || f.Webhook != nil {
		t.Errorf("refused requests changed the faults: %+v", f)
	}
	var c clockView
	h.account(http.MethodGet, "/_pushsim/clock", nil, http.StatusOK, &c)
	if c.OffsetSeconds != 0 || c.Now != "2026-03-04T05:06:07Z" {
		t.Errorf("refused requests moved the clock: %+v", c)
	}
}

// pushSocket connects a phone's push socket that reports duplicates too.
func pushSocket(t *testing.T, h *harness, p *phone) (messages, duplicates chan pushclient.Message) {
	t.Helper()
	messages, duplicates = make(chan pushclient.Message, 10), make(chan pushclient.Message, 10)
	startPushClient(t, pushclient.Config{
		URL: "ws" + strings.TrimPrefix(h.srv.URL, "http") + "/push/connect", Secret: p.pushSecret(), Now: h.clock.Now,
		OnMessage:   func(m pushclient.Message) { messages <- m },
		OnDuplicate: func(m pushclient.Message) { duplicates <- m },
	})
	return messages, duplicates
}

func nextPush(t *testing.T, ch chan pushclient.Message) pushclient.Message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no push within 10s")
		return pushclient.Message{}
	}
}

// A dropped push never arrives and is recorded as dropped; a delayed one
// arrives once the server's clock reaches its time; a duplicated one
// arrives twice with the same id. Order on one socket proves what did not
// arrive: the push created after the faulty one, without a fault, comes
// first.
func TestPushFaults(t *testing.T) {
	h := newHarness(t, "", newClock())
	defer h.close()
	h.run()
	_, p := setup(h, "alice-0001")
	messages, duplicates := pushSocket(t, h, p)
	setFault := func(form url.Values) {
		t.Helper()
		h.account(http.MethodPost, "/_pushsim/faults/push", form, http.StatusOK, nil)
	}

	// Spelled with upper-case hex, which a SID's pattern allows: the rule
	// still names this factor.
	upper := p.factorSid[:2] + strings.ToUpper(p.factorSid[2:])
	setFault(url.Values{"Mode": {"drop"}, "FactorSid": {upper}})
	lost := h.challenge(p, nil)
	setFault(url.Values{"Mode": {"off"}, "FactorSid": {upper}})
	after := h.challenge(p, nil)
	if m := nextPush(t, messages); m.Data["challenge_sid"] != after {
		t.Fatalf("first push is for %s, want %s (the dropped %s must not arrive)", m.Data["challenge_sid"], after, lost)
	}
	var log struct {
		Pushes []struct{ ChallengeSid, State string } `json:"pushes"`
	}
	h.account(http.MethodGet, "/_pushsim/pushes", nil, http.StatusOK, &log)
	waitFor(t, func() bool {
		h.account(http.MethodGet, "/_pushsim/pushes", nil, http.StatusOK, &log)
		return len(log.Pushes) == 2 && log.Pushes[1].State == "dropped" && log.Pushes[0].State == "done"
	})

	// A fault for every factor: delayed 30 s on the server's clock.
	setFault(url.Values{"Mode": {"delay"}, "Delay": {"30s"}})
	late := h.challenge(p, nil)
	setFault(url.Values{"Mode": {"off"}})
	onTime := h.challenge(p, nil)
	if m := nextPush(t, messages); m.Data["challenge_sid"] != onTime {
		t.Fatalf("push for %s arrived first, want %s (the delayed %s must wait)", m.Data["challenge_sid"], onTime, late)
	}
	var c clockView
	h.account(http.MethodPost, "/_pushsim/clock", url.Values{"Advance": {"30s"}}, http.StatusOK, &c)
	if c.Offset != "30s" || c.OffsetSeconds != 30 || c.Now != "2026-03-04T05:06:37Z" {
		t.Fatalf("clock after advancing 30s: %+v", c)
	}
	if m := nextPush(t, messages); m.Data["challenge_sid"] != late {
		t.Fatalf("after the delay got %s, want %s", m.Data["challenge_sid"], late)
	}

	setFault(url.Values{"Mode": {"duplicate"}, "FactorSid": {p.factorSid}})
	twice := h.challenge(p, nil)
	first := nextPush(t, messages)
	dup := nextPush(t, duplicates)
	if first.Data["challenge_sid"] != twice || dup.ID != first.ID {
		t.Fatalf("duplicate: first %s %s, again %s", first.ID, first.Data["challenge_sid"], dup.ID)
	}

	var f faultsView
	h.account(http.MethodDelete, "/_pushsim/faults", nil, http.StatusOK, &f)
	if len(f.Push) != 0 || f.Webhook != nil {
		t.Fatalf("faults after DELETE: %+v", f)
	}
}

// The webhook sink answers the chosen status, never answers, or closes the
// connection; its event log is not touched.
func TestWebhookSinkFaults(t *testing.T) {
	h := newHarnessWith(t, server.Config{}, newClock())
	defer h.close()
	post := func(client *http.Client) (*http.Response, error) {
		return client.Post(h.srv.URL+"/backend/webhook", "application/x-www-form-urlencoded", strings.NewReader("type=challenge.approved"))
	}
	h.account(http.MethodPost, "/_pushsim/faults/webhook", url.Values{"Mode": {"status"}, "Status": {"503"}}, http.StatusOK, nil)
	resp, err := post(http.DefaultClient)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status fault: %d, want 503", resp.StatusCode)
	}
	h.account(http.MethodGet, "/backend/webhook/events", nil, http.StatusOK, nil)

	h.account(http.MethodPost, "/_pushsim/faults/webhook", url.Values{"Mode": {"close"}}, http.StatusOK, nil)
	if resp, err := post(http.DefaultClient); err == nil || !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "EOF") {
		if err == nil {
			resp.Body.Close()
		}
		t.Errorf("close fault: %v, want the connection closed without an answer", err)
	}

	h.account(http.MethodPost, "/_pushsim/faults/webhook", url.Values{"Mode": {"timeout"}}, http.StatusOK, nil)
	impatient := &http.Client{Timeout: 200 * time.Millisecond}
	if resp, err := post(impatient); err == nil || !strings.Contains(err.Error(), "Timeout") {
		if err == nil {
			resp.Body.Close()
		}
		t.Errorf("timeout fault: %v, want the caller to give up", err)
	}

	var f faultsView
	h.account(http.MethodPost, "/_pushsim/faults/webhook", url.Values{"Mode": {"off"}}, http.StatusOK, &f)
	if f.Webhook != nil {
		t.Fatalf("webhook fault still on: %+v", f.Webhook)
	}
}

// Moving the server's clock expires challenges and sweeps unverified
// factors at once, as the time passing would.
func TestClockAdvanceExpiresAndSweeps(t *testing.T) {
	h := newHarness(t, "", newClock())
	defer h.close()
	h.run()
	serviceSid, p := setup(h, "alice-0001")
	sid := h.challenge(p, nil)
	unverified := newPhone(h, serviceSid, "bob-0001")
	if status, body := unverified.enroll(h.accessToken(serviceSid, "bob-0001")); status != http.StatusCreated {
		t.Fatalf("enroll: %d %s", status, body)
	}
	h.account(http.MethodPost, "/_pushsim/clock", url.Values{"Advance": {"6m"}}, http.StatusOK, nil)
	waitFor(t, func() bool {
		var c struct{ Status string }
		h.account(http.MethodGet, p.entityPath()+"/Challenges/"+sid, nil, http.StatusOK, &c)
		return c.Status == "expired"
	})
	// The factor is swept an hour after its creation, not before.
	factorPath := unverified.entityPath() + "/Factors/" + unverified.factorSid
	h.account(http.MethodGet, factorPath, nil, http.StatusOK, nil)
	h.account(http.MethodPost, "/_pushsim/clock", url.Values{"Advance": {"55m"}}, http.StatusOK, nil)
	waitFor(t, func() bool {
		status, _, _ := h.call(http.MethodGet, factorPath, nil, h.sid, h.token)
		return status == http.StatusNotFound
	})
}

type health struct {
	Status     string `json:"status"`
	Generation int64  `json:"generation"`
}

func waitForGeneration(t *testing.T, h *harness, n int64) {
	t.Helper()
	waitFor(t, func() bool {
		resp, err := http.Get(h.srv.URL + "/_pushsim/health")
		if err != nil {
			return false // between generations the port holds connections until the next one serves
		}
		defer resp.Body.Close()
		var got health
		b, _ := io.ReadAll(resp.Body)
		return jsonDecode(b, &got) == nil && got.Generation == n
	})
}

// A restart through the control API keeps the data and the faults, closes
// the phones' sockets (they come back by themselves) and offers again
// every push not yet acked.
func TestRestartKeepsDataAndFaults(t *testing.T) {
	h := newHarness(t, t.TempDir(), newClock())
	defer h.close()
	h.run()
	_, p := setup(h, "alice-0001")
	var got health
	h.account(http.MethodGet, "/_pushsim/health", nil, http.StatusOK, &got)
	if got.Generation != 1 {
		t.Fatalf("health before any restart: %+v", got)
	}
	waiting := h.challenge(p, nil) // the phone is not connected yet
	h.account(http.MethodPost, "/_pushsim/faults/webhook", url.Values{"Mode": {"close"}}, http.StatusOK, nil)
	h.account(http.MethodPost, "/_pushsim/clock", url.Values{"Advance": {"10s"}}, http.StatusOK, nil)

	h.account(http.MethodPost, "/_pushsim/restart", nil, http.StatusAccepted, &got)
	if got.Status != "restarting" || got.Generation != 2 {
		t.Fatalf("restart answered %+v", got)
	}
	waitForGeneration(t, h, 2)

	var c struct{ Status string }
	h.account(http.MethodGet, p.entityPath()+"/Challenges/"+waiting, nil, http.StatusOK, &c)
	if c.Status != "pending" {
		t.Fatalf("challenge after restart: %+v", c)
	}
	var f faultsView
	h.account(http.MethodGet, "/_pushsim/faults", nil, http.StatusOK, &f)
	if f.Webhook == nil || f.Webhook.Mode != "close" {
		t.Fatalf("faults after restart: %+v", f)
	}
	var clk clockView
	h.account(http.MethodGet, "/_pushsim/clock", nil, http.StatusOK, &clk)
	if clk.OffsetSeconds != 10 {
		t.Fatalf("clock after restart: %+v", clk)
	}
	messages, _ := pushSocket(t, h, p)
	if m := nextPush(t, messages); m.Data["challenge_sid"] != waiting {
		t.Fatalf("after restart got a push for %s, want %s", m.Data["challenge_sid"], waiting)
	}

	// A connected phone's socket is closed by the restart and comes back.
	h.account(http.MethodPost, "/_pushsim/restart", nil, http.StatusAccepted, nil)
	waitForGeneration(t, h, 3)
	next := h.challenge(p, nil)
	if m := nextPush(t, messages); m.Data["challenge_sid"] != next {
		t.Fatalf("after the second restart got %s, want %s", m.Data["challenge_sid"], next)
	}
}

// A reset deletes the data, the faults and the clock's offset; the
// account's credentials still work.
func TestResetWipes(t *testing.T) {
	h := newHarness(t, t.TempDir(), newClock())
	defer h.close()
	h.run()
	serviceSid, p := setup(h, "alice-0001")
	h.challenge(p, nil)
	h.account(http.MethodPost, "/_pushsim/faults/push", url.Values{"Mode": {"drop"}}, http.StatusOK, nil)
	h.account(http.MethodPost, "/_pushsim/clock", url.Values{"Advance": {"1h"}}, http.StatusOK, nil)

	var got health
	h.account(http.MethodPost, "/_pushsim/reset", nil, http.StatusAccepted, &got)
	if got.Generation != 2 {
		t.Fatalf("reset answered %+v", got)
	}
	waitForGeneration(t, h, 2)
	status, _, body := h.call(http.MethodGet, "/v2/Services/"+serviceSid, nil, h.sid, h.token)
	expectError(t, status, body, http.StatusNotFound, 20404)
	var f faultsView
	h.account(http.MethodGet, "/_pushsim/faults", nil, http.StatusOK, &f)
	var clk clockView
	h.account(http.MethodGet, "/_pushsim/clock", nil, http.StatusOK, &clk)
	if len(f.Push) != 0 || clk.OffsetSeconds != 0 {
		t.Fatalf("after reset: faults %+v, clock %+v", f, clk)
	}
	// The phone's credential is gone with its factor.
	if status, _, _ := p.device(http.MethodGet, p.entityPath()+"/Factors/"+p.factorSid, nil); status != http.StatusUnauthorized {
		t.Fatalf("a wiped factor's device token: %d", status)
	}
}

func jsonDecode(b []byte, v any) error { return json.Unmarshal(b, v) }
