package phone

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/verifyclient"
	"github.com/pushsim/pushsim/server"
	"github.com/pushsim/pushsim/server/servertest"
	"github.com/pushsim/pushsim/tui/internal/tuitest"
)

// testClock is the clock the tests move by hand; goldens read 09:41.
type testClock = servertest.Clock

func newTestClock() *testClock {
	return servertest.NewClock(tuitest.Start)
}

// testServer is a pushsim server in the test process.
type testServer struct {
	t   *testing.T
	srv *servertest.Server
}

func newTestServer(t *testing.T, clock *testClock) *testServer {
	return newWrappedTestServer(t, clock, nil)
}

// newWrappedTestServer serves through wrap, when it is not nil, so a test
// can watch the wire.
func newWrappedTestServer(t *testing.T, clock *testClock, wrap func(http.Handler) http.Handler) *testServer {
	t.Helper()
	var cfg server.Config
	if clock != nil {
		cfg.Now = clock.Now
	}
	return &testServer{t: t, srv: servertest.Start(t, servertest.Options{Config: cfg, Wrap: wrap})}
}

// createChallenge asks the sample backend for a challenge, as a login
// page would, and returns its SID.
func (s *testServer) createChallenge(identity, message string, extra url.Values) string {
	s.t.Helper()
	form := url.Values{"identity": {identity}, "message": {message}}
	for k, v := range extra {
		form[k] = v
	}
	var out struct {
		Sid string `json:"sid"`
	}
	s.post("/backend/create-challenge", form, http.StatusOK, &out)
	return out.Sid
}

// challengeStatus is what the backend reads for a user's challenge.
func (s *testServer) challengeStatus(user, sid string) string {
	s.t.Helper()
	return s.srv.ChallengeStatus(s.t, user, sid)
}

func (s *testServer) post(path string, form url.Values, want int, out any) {
	s.t.Helper()
	resp, err := http.Post(s.srv.URL+path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		s.t.Fatalf("POST %s: %d %s", path, resp.StatusCode, body)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			s.t.Fatalf("POST %s: %v: %s", path, err, body)
		}
	}
}

// newTestDevice is a phone pointed at the test server (or at nothing when
// srv is nil: it then works offline, which is all goldens need). It knows
// no push service, so it polls. Its poller ticks only when the test sends
// on ticks (never, if nil).
func newTestDevice(t testing.TB, srv *testServer, clock func() time.Time, ticks <-chan time.Time) *device.Device {
	t.Helper()
	return newTestDeviceWith(t, testDeviceConfig(t, srv, clock, ticks))
}

func testDeviceConfig(t testing.TB, srv *testServer, clock func() time.Time, ticks <-chan time.Time) device.Config {
	base := "http://127.0.0.1:9"
	if srv != nil {
		base = srv.srv.URL
	}
	return device.Config{
		// A subdirectory: the keystore creates it private, as it insists.
		Home:           filepath.Join(t.TempDir(), "phone"),
		BaseURL:        base + "/v2/",
		AccessTokenURL: base + "/backend/access-token",
		App:            verifyclient.DefaultApp("test"),
		Clock:          clock,
		Ticker:         func(time.Duration) (<-chan time.Time, func()) { return ticks, func() {} },
	}
}

func newTestDeviceWith(t testing.TB, cfg device.Config) *device.Device {
	t.Helper()
	d, err := device.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// newTestPhone is a phone on an 80×24 terminal with colour off, as goldens
// and model tests see it. The device is not launched.
func newTestPhone(t testing.TB, d *device.Device, o Options) *Phone {
	t.Helper()
	o.NoLaunch, o.NoColor = true, true
	p, err := New(d, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	p.SetSize(80, 24)
	return p
}

// pump plays Bubble Tea's part for model tests: it runs the phone's
// commands in goroutines and feeds their messages back into Update on the
// test's goroutine, so the phone is never touched concurrently.
type pump struct {
	t    *testing.T
	p    *Phone
	msgs chan tea.Msg
	done chan struct{}
}

func newPump(t *testing.T, p *Phone) *pump {
	pu := &pump{t: t, p: p, msgs: make(chan tea.Msg, 64), done: make(chan struct{})}
	t.Cleanup(func() { close(pu.done) })
	return pu
}

// send delivers msg to the phone and runs what it returns.
func (pu *pump) send(msg tea.Msg) {
	_, cmd := pu.p.Update(msg)
	pu.run(cmd)
}

func (pu *pump) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		msg := cmd()
		if batch, ok := msg.(tea.BatchMsg); ok {
			for _, c := range batch {
				pu.run(c)
			}
			return
		}
		if msg == nil {
			return
		}
		select {
		case pu.msgs <- msg:
		case <-pu.done:
		}
	}()
}

// until delivers messages until cond holds; it fails the test after a
// generous timeout.
func (pu *pump) until(what string, cond func() bool) {
	pu.t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case msg := <-pu.msgs:
			pu.send(msg)
		case <-deadline:
			pu.t.Fatalf("timed out waiting for %s; screen:\n%s", what, tuitest.Plain(pu.p.View()))
		}
	}
}
