package device

import (
	"testing"
	"time"

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
