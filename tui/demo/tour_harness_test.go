package demo

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/verifyclient"
	"github.com/pushsim/pushsim/internal/testclock"
	"github.com/pushsim/pushsim/internal/tourstage"
	"github.com/pushsim/pushsim/server"
	"github.com/pushsim/pushsim/server/servertest"
	"github.com/pushsim/pushsim/server/webhook"
	"github.com/pushsim/pushsim/tui/internal/tuitest"
	"github.com/pushsim/pushsim/tui/tour"
)

// startTourDemo runs the tour on a width × height terminal against a
// server that, like the panes and the phone, reads the time from clock,
// so that a test can move time for all of them at once.
func startTourDemo(t *testing.T, clock *testclock.Clock, width, height int) *demoRun {
	t.Helper()
	srv := &testServer{t: t, srv: servertest.Start(t, servertest.Options{Clock: clock})}
	return runDemo(t, srv, Options{Clock: clock.Now, Tour: startStage(t)}, width, height)
}

// tourSettled reports that step is on screen and neither running nor
// waiting for the phone: done, failed, or offering its choice.
func tourSettled(s demoSnapshot, step int) bool {
	if s.tour.At != step || len(s.tour.Steps) < step {
		return false
	}
	st := s.tour.Steps[step-1]
	return st != tour.StepRunning && st != tour.StepWaiting
}

// tourEnter presses Enter and waits for step to settle.
func (r *demoRun) tourEnter(step int) demoSnapshot {
	r.t.Helper()
	r.keys("enter")
	return r.until("step "+strconv.Itoa(step)+" to settle", func(s demoSnapshot) bool { return tourSettled(s, step) })
}

// tourThrough runs the steps from first to last with Enter, each of them
// done.
func (r *demoRun) tourThrough(first, last int) demoSnapshot {
	r.t.Helper()
	var s demoSnapshot
	for step := first; step <= last; step++ {
		if s = r.tourEnter(step); s.tour.Steps[step-1] != tour.StepDone {
			r.t.Fatalf("step %d did not succeed:\n%s", step, s.left)
		}
	}
	return s
}

// tourWhole is the whole text of the tour's screen, scrolled or not: the
// terminal made tall enough for all of it.
func (r *demoRun) tourWhole() string {
	r.t.Helper()
	r.tm.Send(tea.WindowSizeMsg{Width: 140, Height: 400})
	return r.until("the tall terminal", func(s demoSnapshot) bool { return strings.Count(s.left, "\n") >= 399 }).left
}

// paneText is the left pane's text from a whole frame: its columns of
// each line, borders and margins stripped.
func paneText(frame string, pane box) string {
	var lines []string
	for _, l := range strings.Split(tuitest.Plain(frame), "\n")[pane.y : pane.y+pane.h] {
		l = ansi.Cut(l, pane.x, pane.x+pane.w)
		lines = append(lines, strings.Trim(l, "│┃║ "))
	}
	return strings.Join(lines, "\n")
}

// squeezed is s without white space: what a line break may take away.
func squeezed(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// requireWhole fails unless every character of want is in text (a pane,
// its borders left out), in order, where line breaks and indentation may
// fall between any two of them.
func requireWhole(t *testing.T, text, want string) {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		lines = append(lines, strings.Trim(l, "│┃║ "))
	}
	if !strings.Contains(squeezed(strings.Join(lines, "\n")), squeezed(want)) {
		t.Fatalf("%q is not whole on screen:\n%s", want, text)
	}
}

// Fixed data for the tour's goldens: a challenge created at tuitest.Start.
const (
	sampleChallenge = "YCb363169fdc405cda40b37eb7f0a1b2c3"
	sampleWebhook   = "http://127.0.0.1:4010/backend/webhook"
)

// tourSample is a run of the tour that ended as answer, with what steps 7
// and 8 put on the wire as the tour would show it.
func tourSample(t *testing.T, answer string) tour.Sample {
	t.Helper()
	created := tuitest.Start.Add(-40 * time.Second)
	s := tour.Sample{ChallengeSid: sampleChallenge, Expires: created.Add(5 * time.Minute), Answer: answer, Status: answer,
		Exchanges: map[int][]device.LoggedExchange{}}
	body := fmt.Sprintf(`{"sid":%q,"account_sid":%q,"service_sid":%q,"entity_sid":"YE0123456789abcdef0123456789abcdef","identity":%q,`+
		`"factor_sid":%q,"status":%q,"responded_reason":"none","details":{"message":"Sign in to Acme?","fields":[{"label":"Location","value":"Lisbon, Portugal"}]},`+
		`"date_created":"2026-03-04T09:40:20Z","expiration_date":"2026-03-04T09:45:20Z"}`,
		sampleChallenge, server.TestAccountSid, tuitest.ServiceSid, tuitest.Identity, tuitest.FactorSid, answer)
	read := device.LoggedExchange{Seq: 9, At: tuitest.Start, Exchange: verifyclient.Exchange{
		Method: "GET", URL: "http://127.0.0.1:4010/v2/Services/" + tuitest.ServiceSid + "/Entities/" + tuitest.Identity + "/Challenges/" + sampleChallenge,
		RequestHeader: http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(server.TestAccountSid+":"+server.TestAuthToken))}},
		StatusCode:    200, ResponseHeader: http.Header{"Content-Type": {"application/json"}}, ResponseBody: []byte(body), Duration: 3 * time.Millisecond,
	}}
	s.Exchanges[8] = []device.LoggedExchange{read}
	if answer == "expired" {
		return s
	}
	params := url.Values{
		"uuid": {"1b4e28ba-2fa1-11d2-883f-0016d3cca427"}, "type": {"challenge." + answer},
		"account_sid": {server.TestAccountSid}, "service_sid": {tuitest.ServiceSid}, "entity_identity": {tuitest.Identity},
		"factor_sid": {tuitest.FactorSid}, "factor_type": {"push"}, "factor_friendly_name": {"alice's phone"},
		"challenge_sid":            {sampleChallenge},
		"challenge_details":        {`{"message":"Sign in to Acme?","fields":[{"label":"Location","value":"Lisbon, Portugal"}]}`},
		"challenge_hidden_details": {`{"ip":"203.0.113.7"}`},
	}
	flat := map[string]string{}
	for k := range params {
		flat[k] = params.Get(k)
	}
	s.Webhook = &tour.Webhook{URL: sampleWebhook, Type: "challenge." + answer, Valid: true, Params: flat, Received: tuitest.Start,
		Signature: webhook.Sign(server.TestAuthToken, sampleWebhook, params)}
	return s
}

// challengeStatus is the status of the tour's challenge sid as the
// account reads it from Verify: the tour made it on its own service.
func (r *demoRun) challengeStatus(sid string) string {
	r.t.Helper()
	for _, e := range r.probe.now().tour.Exchanges {
		if !strings.HasSuffix(e.URL, "/Challenges/"+sid) {
			continue
		}
		req, err := http.NewRequest(http.MethodGet, e.URL, nil)
		if err != nil {
			r.t.Fatal(err)
		}
		req.SetBasicAuth(server.TestAccountSid, server.TestAuthToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			r.t.Fatal(err)
		}
		defer resp.Body.Close()
		var ch struct {
			Status string `json:"status"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&ch); err != nil || resp.StatusCode != http.StatusOK {
			r.t.Fatalf("GET %s: %d %v", e.URL, resp.StatusCode, err)
		}
		return ch.Status
	}
	r.t.Fatalf("the tour showed no call about %s", sid)
	return ""
}

// samplePhone shows the tour's phone holding the sample's challenge, as
// it would after the path the sample took.
func samplePhone(d *Model, s tour.Sample) {
	status := s.Answer
	if status == "" {
		status = verifyclient.ChallengePending
	}
	ch := device.Challenge{
		Sid: s.ChallengeSid, FactorSid: tuitest.FactorSid, Status: status,
		Details:   verifyclient.Details{Message: "Sign in to Acme?", Fields: []verifyclient.Field{{Label: "Location", Value: "Lisbon, Portugal"}}},
		CreatedAt: s.Expires.Add(-5 * time.Minute), UpdatedAt: tuitest.Start, ExpirationDate: s.Expires,
	}
	d.phones[0].Preload([]device.Factor{tuitest.Factor()}, ch)
}

// heldSample is step 4 as a run shows it when the presenter waited 8.1 s
// on step 3: the verification the stage held, then the server's 6 ms.
func heldSample(t *testing.T) tour.Sample {
	t.Helper()
	url := "http://127.0.0.1:4010/v2/Services/" + tuitest.ServiceSid + "/Entities/" + tuitest.Identity + "/Factors/" + tuitest.FactorSid
	verify := device.LoggedExchange{Seq: 3, At: tuitest.Start, Exchange: verifyclient.Exchange{
		Method: "POST", URL: url, RequestBody: []byte("AuthPayload=MEUCIQ"),
		StatusCode: 200, ResponseHeader: http.Header{"Content-Type": {"application/json"}},
		ResponseBody: []byte(`{"sid":"` + tuitest.FactorSid + `","status":"verified"}`), Duration: 8106 * time.Millisecond,
	}}
	return tour.Sample{
		Exchanges: map[int][]device.LoggedExchange{4: {verify}},
		Holds:     map[int][]tourstage.Hold{4: {{Method: "POST", URL: url, Held: 8100 * time.Millisecond}}},
	}
}
