package device

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pushsim/pushsim/device/internal/fakeverify"
	"github.com/pushsim/pushsim/device/verifyclient"
)

func TestExchangeLogKeepsTheLatest(t *testing.T) {
	now := time.Date(2026, 3, 4, 9, 41, 0, 0, time.UTC)
	log := NewExchangeLog(2, func() time.Time { return now })
	for _, m := range []string{"GET", "POST", "DELETE"} {
		log.Record(verifyclient.Exchange{Method: m, Duration: time.Second})
	}
	got := log.Entries()
	if len(got) != 2 || got[0].Method != "POST" || got[1].Method != "DELETE" || got[1].Seq != 3 {
		t.Fatalf("kept %+v", got)
	}
	if log.Total() != 3 {
		t.Fatalf("total %d", log.Total())
	}
	if !got[1].At.Equal(now) || !got[1].Started().Equal(now.Add(-time.Second)) {
		t.Fatalf("stamped %s, started %s", got[1].At, got[1].Started())
	}
	earlier := now.Add(-time.Hour)
	log.RecordAt(earlier, verifyclient.Exchange{Method: "PUT"})
	if e := log.Entries()[1]; e.Method != "PUT" || !e.At.Equal(earlier) || e.Seq != 4 {
		t.Fatalf("RecordAt kept %+v", e)
	}
}

// The device keeps its own exchanges: the access-token call and the wire
// client's calls alike, and still hands them to an Observer.
func TestDeviceLogsItsExchanges(t *testing.T) {
	srv := newServer(t)
	var observed int
	d, err := New(Config{
		Home: t.TempDir() + "/phone", BaseURL: srv.BaseURL(), AccessTokenURL: srv.AccessTokenURL(), App: testApp,
		Clock: srv.Now, Observer: func(verifyclient.Exchange) { observed++ },
	})
	if err != nil {
		t.Fatal(err)
	}
	p := &phone{Device: d}
	p.enroll(t, "alice")
	entries := d.Exchanges().Entries()
	if len(entries) < 3 || entries[0].URL != srv.AccessTokenURL() || observed != len(entries) {
		t.Fatalf("%d exchanges logged, %d observed; first %+v", len(entries), observed, entries[0])
	}
}

func TestServerURLNamesTheServersAddresses(t *testing.T) {
	d, err := New(Config{ServerURL: "http://127.0.0.1:4010/", Home: t.TempDir() + "/phone"})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.AccessTokenURL(); got != "http://127.0.0.1:4010/backend/access-token" {
		t.Errorf("access-token URL %s", got)
	}
	if got := d.PushURL(); got != "ws://127.0.0.1:4010/push/connect" {
		t.Errorf("push URL %s", got)
	}
	d, err = New(Config{ServerURL: "https://verify.example", AccessTokenURL: "https://backend.example/token", Home: t.TempDir() + "/phone"})
	if err != nil {
		t.Fatal(err)
	}
	if d.AccessTokenURL() != "https://backend.example/token" || d.PushURL() != "wss://verify.example/push/connect" {
		t.Errorf("an explicit access-token URL was not kept: %s, %s", d.AccessTokenURL(), d.PushURL())
	}
	if _, err := New(Config{ServerURL: "127.0.0.1:4010", Home: t.TempDir() + "/phone"}); err == nil {
		t.Error("a server URL without a scheme was accepted")
	}
}

func TestMaskNumberMatch(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"hidden details", `{"sid":"YC1","hidden_details":{"ip":"203.0.113.7","number_match":"85"},"status":"pending"}`,
			`{"sid":"YC1","hidden_details":{"ip":"203.0.113.7","number_match":"••"},"status":"pending"}`},
		{"every challenge of a list", `{"challenges":[{"hidden_details":{"number_match":"12"}},{"hidden_details":null},{"hidden_details":{"number_match":"34"}}],"meta":{}}`,
			`{"challenges":[{"hidden_details":{"number_match":"••"}},{"hidden_details":null},{"hidden_details":{"number_match":"••"}}],"meta":{}}`},
		{"spaced and indented", "{\n  \"number_match\" :\t\"85\" ,\n  \"a\": 1\n}", "{\n  \"number_match\" :\t\"••\" ,\n  \"a\": 1\n}"},
		{"escaped name", `{"number\u005fmatch":"85"}`, `{"number\u005fmatch":"••"}`},
		{"not a string", `{"number_match":85,"x":[true]}`, `{"number_match":"••","x":[true]}`},
		{"an object", `{"number_match":{"code":"85"},"x":1}`, `{"number_match":"••","x":1}`},
		{"after nested values", `{"a":{"b":[1,{"c":"d"}]},"number_match":"85"}`, `{"a":{"b":[1,{"c":"d"}]},"number_match":"••"}`},
		{"the name as a value", `{"label":"number_match","value":"85"}`, `{"label":"number_match","value":"85"}`},
		{"inside a string", `{"message":"say \"number_match\":\"85\""}`, `{"message":"say \"number_match\":\"85\""}`},
		{"cut short", `{"challenges":[{"hidden_details":{"number_match":"8`, `{"challenges":[{"hidden_details":{"number_match":"••"`},
		{"not JSON", `<p>"number_match": "85", ok</p>`, `<p>"number_match": "••", ok</p>`},
		{"a form", `FriendlyName=number+one&Config.AppId=x`, `FriendlyName=number+one&Config.AppId=x`},
		{"empty", ``, ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(tc.body)
			got := maskNumberMatch(body)
			if string(got) != tc.want {
				t.Errorf("masked\n got %s\nwant %s", got, tc.want)
			}
			if string(body) != tc.body {
				t.Errorf("the body itself changed to %s", body)
			}
		})
	}
}

// TestPhoneLogMasksTheNumber: what the phone shows of its exchanges (its
// log and its Observer) never holds a number-matching code, while the
// challenge it hands to the app does, for the keypad to compare.
func TestPhoneLogMasksTheNumber(t *testing.T) {
	srv := newServer(t)
	var observed []verifyclient.Exchange
	var mu sync.Mutex
	d, err := New(Config{
		Home: t.TempDir() + "/phone", BaseURL: srv.BaseURL(), AccessTokenURL: srv.AccessTokenURL(), App: testApp, Clock: srv.Now,
		Observer: func(e verifyclient.Exchange) { mu.Lock(); observed = append(observed, e); mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := &phone{Device: d, events: d.Subscribe(ctx)}
	f := p.enroll(t, "mia-0001")
	sid := srv.CreateChallenge(f.Sid, "Type the number", fakeverify.ChallengeOptions{Hidden: map[string]string{NumberMatchKey: "85"}})
	if err := p.PollNow(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := p.GetChallenge(ctx, f.Sid, sid); err != nil {
		t.Fatal(err)
	}
	events := p.drain(t)
	if e := events[len(events)-1]; e.Kind != EventChallenge || e.Challenge.HiddenDetails[NumberMatchKey] != "85" {
		t.Fatalf("last event %+v, want the challenge with its number", e)
	}

	mu.Lock()
	defer mu.Unlock()
	shown := map[string][]verifyclient.Exchange{"log": nil, "observer": observed}
	for _, e := range d.Exchanges().Entries() {
		shown["log"] = append(shown["log"], e.Exchange)
	}
	for where, exchanges := range shown {
		masked := 0
		for _, e := range exchanges {
			if bytes.Contains(e.ResponseBody, []byte(`"85"`)) {
				t.Errorf("%s: %s %s answered the number: %s", where, e.Method, e.URL, e.ResponseBody)
			}
			if bytes.Contains(e.ResponseBody, []byte(`"number_match":"••"`)) {
				masked++
			}
		}
		if masked != 2 {
			t.Errorf("%s: %d bodies with the number masked, want the list and the challenge", where, masked)
		}
	}
}
