package scenario

import (
	"bytes"
	"context"
	"encoding/xml"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/internal/testclock"
)

func parseFiles(t *testing.T, names ...string) []*Scenario {
	t.Helper()
	var out []*Scenario
	for _, n := range names {
		sc, err := ParseFile(filepath.Join("testdata", n))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sc)
	}
	return out
}

// TestBrokenScenarioSaysWhatFailed: a wrong expectation fails the scenario
// with the step's number, file and line, the step as written, and what was
// seen when the wait ran out; the steps after it do not run.
func TestBrokenScenarioSaysWhatFailed(t *testing.T) {
	rn := &Runner{Version: "test", TempDir: t.TempDir()}
	res := rn.Run(context.Background(), parseFiles(t, "broken.scenario"), nil)[0]
	if res.Passed() {
		t.Fatalf("the broken scenario passed:\n%s", res.Log)
	}
	want := "step 5 (" + filepath.Join("testdata", "broken.scenario") + ":11) expect login status approved within=1s: saw pending (responded_reason none) after 1s"
	if res.Failure != want {
		t.Errorf("failure\n got %q\nwant %q\nlog:\n%s", res.Failure, want, res.Log)
	}
	if strings.Contains(res.Log, "step 6 ") {
		t.Errorf("a step after the failure ran:\n%s", res.Log)
	}
	if !strings.Contains(res.Log, "FAILED: saw pending") {
		t.Errorf("the log does not record the failure:\n%s", res.Log)
	}
}

// TestJUnitReport: the report is JUnit XML that encoding/xml reads back,
// with one test case per scenario and the failures counted and explained.
func TestJUnitReport(t *testing.T) {
	rn := &Runner{Version: "test", TempDir: t.TempDir(), Parallel: 2}
	var heard []int
	results := rn.Run(context.Background(), parseFiles(t, "passing.scenario", "broken.scenario"), func(i int, r Result) {
		heard = append(heard, i)
	})
	if len(heard) != 2 {
		t.Fatalf("done heard %v, want both scenarios", heard)
	}
	if !results[0].Passed() || results[1].Passed() {
		t.Fatalf("want the first to pass and the second to fail: %q, %q\n%s", results[0].Failure, results[1].Failure, results[0].Log)
	}
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, results, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Suites   []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Cases    []struct {
				Name      string  `xml:"name,attr"`
				Classname string  `xml:"classname,attr"`
				File      string  `xml:"file,attr"`
				Time      float64 `xml:"time,attr"`
				Failure   *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				SystemOut string `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("the report is not XML: %v\n%s", err, buf.String())
	}
	if doc.Tests != 2 || doc.Failures != 1 || len(doc.Suites) != 1 || doc.Suites[0].Tests != 2 || doc.Suites[0].Failures != 1 {
		t.Fatalf("counts: %+v", doc)
	}
	cases := doc.Suites[0].Cases
	if len(cases) != 2 {
		t.Fatalf("%d test cases, want 2", len(cases))
	}
	pass, fail := cases[0], cases[1]
	if pass.Name != "Passes" || pass.Classname != "passing" || pass.File != "testdata/passing.scenario" || pass.Failure != nil {
		t.Errorf("passing case: %+v", pass)
	}
	if pass.Time <= 0 || !strings.Contains(pass.SystemOut, "step 1 (") {
		t.Errorf("passing case has no time or no step log: %+v", pass)
	}
	if fail.Name != "Broken on purpose" || fail.Failure == nil {
		t.Fatalf("failing case: %+v", fail)
	}
	if !strings.Contains(fail.Failure.Message, "expect login status approved within=1s: saw pending") || fail.Failure.Text != fail.Failure.Message {
		t.Errorf("failure: %+v", fail.Failure)
	}
}

// TestReportLines: a passing scenario is one line; a failing one adds why,
// indented.
func TestReportLines(t *testing.T) {
	sc := &Scenario{Name: "Deny", File: "deny.scenario"}
	if got, want := ResultLine(Result{Scenario: sc, Duration: 1234567 * time.Microsecond}, 8), "PASS  Deny      deny.scenario  1.23s"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	failed := Result{Scenario: sc, Duration: 250 * time.Millisecond, Failure: "step 2 (deny.scenario:5) deny alice: boom"}
	if got, want := ResultLine(failed, 4), "FAIL  Deny  deny.scenario  250ms\n      step 2 (deny.scenario:5) deny alice: boom"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := Summary([]Result{failed, {Scenario: sc}}, 2*time.Second), "2 scenarios: 1 passed, 1 failed (2s)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestStepLogNamesChallenges: a challenge a phone reports before its step
// has named it is still called by its name in the log.
func TestStepLogNamesChallenges(t *testing.T) {
	l := newStepLog(time.Now())
	l.names = func(sid string) string {
		if sid == "YC1" {
			return "login"
		}
		return sid
	}
	l.note("alice: challenge %s via push", sidRef("YC1"))
	l.note("bob: challenge %s via poll", sidRef("YC2"))
	got := regexp.MustCompile(`(?m)^ *[0-9.]+s `).ReplaceAllString(l.String(), "")
	if want := "    alice: challenge login via push\n    bob: challenge YC2 via poll\n"; got != want {
		t.Errorf("log\n%q\nwant\n%q", got, want)
	}
}

// TestExpectErrorJudgesTheStepBefore: an action followed by expect error
// may fail, and must fail as stated; a wrong status or a success fails the
// expectation instead.
func TestExpectErrorJudgesTheStepBefore(t *testing.T) {
	const head = "scenario \"S\"\nphone alice user=alice push=off\nrepeat 5 sign-in alice\n"
	for _, tc := range []struct {
		name, steps, failure string
	}{
		{"right", "sign-in alice\nexpect error 429 code=20429\n", ""},
		{"wrong code", "sign-in alice\nexpect error 429 code=60309\n", "step 4 (x:5) expect error 429 code=60309: saw 429 code 20429: 429 · 20429 "},
		{"wrong status", "sign-in alice\nexpect error 400\n", "step 4 (x:5) expect error 400: saw 429 code 20429"},
		{"no failure", "open alice\nexpect error 404\n", "step 4 (x:5) expect error 404: the step before succeeded"},
		{"unexpected failure", "sign-in alice\n", "step 3 (x:4) sign-in alice: 429 · 20429 "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sc, err := Parse("x", []byte(head+tc.steps))
			if err != nil {
				t.Fatal(err)
			}
			res := (&Runner{TempDir: t.TempDir()}).Run(context.Background(), []*Scenario{sc}, nil)[0]
			switch {
			case tc.failure == "" && !res.Passed():
				t.Errorf("failed: %s\n%s", res.Failure, res.Log)
			case tc.failure != "" && !strings.HasPrefix(res.Failure, tc.failure):
				t.Errorf("failure %q, want it to start %q\n%s", res.Failure, tc.failure, res.Log)
			}
		})
	}
}

// TestBadgeAndInbox: the phone's badge and inbox follow its events as its
// screen does: a challenge counts until it is answered or expires, and a
// pending one past its expiration shows as expired before anyone says so,
// judged by the phone's own clock.
func TestBadgeAndInbox(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	clock := testclock.New(now)
	dev, err := device.New(device.Config{
		Home: filepath.Join(t.TempDir(), "phone"), BaseURL: "http://127.0.0.1:1/v2/", AccessTokenURL: "http://127.0.0.1:1/backend/access-token",
		Clock: clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	r := &run{log: newStepLog(now), named: map[string][]*challenge{}, bySid: map[string]*challenge{}}
	p := &phone{r: r, decl: &phoneStep{name: "alice"}, dev: dev, install: 1, inbox: map[string]*inboxEntry{}}
	arrive := func(sid string, ttl time.Duration) {
		p.record(1, device.Event{Kind: device.EventChallenge, ChallengeSid: sid, FactorSid: "YF1",
			Challenge: &device.Challenge{Sid: sid, FactorSid: "YF1", Status: "pending", ExpirationDate: now.Add(ttl)}})
	}
	arrive("YC1", 5*time.Minute)
	arrive("YC2", 10*time.Minute)
	arrive("YC3", 10*time.Minute)
	if n := p.badge(); n != 3 {
		t.Fatalf("badge %d, want 3", n)
	}
	p.record(1, device.Event{Kind: device.EventApproved, ChallengeSid: "YC2", FactorSid: "YF1"})
	if status, _, _ := p.inboxStatus("YC2"); status != "approved" || p.badge() != 2 {
		t.Errorf("after an approval: YC2 %s, badge %d", status, p.badge())
	}
	// A push of an answered challenge arriving late does not make it
	// pending again.
	arrive("YC2", 10*time.Minute)
	if status, _, _ := p.inboxStatus("YC2"); status != "approved" {
		t.Errorf("a late push made YC2 %s", status)
	}
	clock.Advance(6 * time.Minute)
	if status, _, _ := p.inboxStatus("YC1"); status != "expired" || p.badge() != 1 {
		t.Errorf("past its expiration: YC1 %s, badge %d", status, p.badge())
	}
	if got, ok := p.newestPending(); !ok || got.sid != "YC3" {
		t.Errorf("newest pending %+v", got)
	}
	p.record(1, device.Event{Kind: device.EventExpired, ChallengeSid: "YC3", FactorSid: "YF1",
		Challenge: &device.Challenge{Sid: "YC3", Status: "expired", RespondedReason: "not_needed"}})
	if status, reason, _ := p.inboxStatus("YC3"); status != "expired" || reason != "not_needed" || p.badge() != 0 {
		t.Errorf("withdrawn: YC3 %s (%s), badge %d", status, reason, p.badge())
	}
	// Events of an install that was replaced change nothing.
	p.record(0, device.Event{Kind: device.EventChallenge, ChallengeSid: "YC9", FactorSid: "YF0"})
	if _, _, ok := p.inboxStatus("YC9"); ok {
		t.Error("an old install's event reached the inbox")
	}
	if len(p.eventsCopy()) != 7 {
		t.Errorf("%d events kept, want 7", len(p.eventsCopy()))
	}
}
