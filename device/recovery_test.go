package device

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pushsim/pushsim/device/internal/fakeverify"
	"github.com/pushsim/pushsim/device/verifyclient"
	"github.com/pushsim/pushsim/server/servertest"
)

// killedAtVerify plays the app dying as it verifies its new factor: the
// verify call never reaches the server.
type killedAtVerify struct{}

func (killedAtVerify) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/Factors/") {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, errors.New("the app was killed")
	}
	return http.DefaultTransport.RoundTrip(r)
}

// enrollUntilKilled creates a factor with cfg's phone and dies before
// verifying it, leaving it unverified on the phone and on the server.
func enrollUntilKilled(t *testing.T, cfg Config, identity string) Factor {
	t.Helper()
	cfg.HTTPClient = &http.Client{Transport: killedAtVerify{}}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f, err := d.CreateFactor(context.Background(), EnrollParams{Identity: identity})
	if err == nil || f.Sid == "" || f.Status != verifyclient.FactorUnverified {
		t.Fatalf("enrolment cut short: factor %+v, err %v; want an unverified factor and an error", f, err)
	}
	return f
}

// launched is a phone running Launch, and the events it emitted up to and
// including ready.
type launched struct {
	*Device
	events  []Event
	stop    context.CancelFunc
	stopped chan error
}

// launch opens the app in home with o and waits for it to be ready.
func launch(t *testing.T, cfg Config, o LaunchOptions) *launched {
	t.Helper()
	cfg.Ticker = func(time.Duration) (<-chan time.Time, func()) { return nil, func() {} }
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &launched{Device: d, stop: cancel, stopped: make(chan error, 1)}
	events := d.Subscribe(ctx)
	go func() { l.stopped <- d.Launch(ctx, o) }()
	t.Cleanup(func() {
		cancel()
		<-l.stopped
	})
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-events:
			l.events = append(l.events, e)
			if e.Kind == EventReady {
				return l
			}
		case err := <-l.stopped:
			l.stopped <- err // for the cleanup
			t.Fatalf("Launch returned %v before the phone was ready; events %+v", err, briefs(l.events))
		case <-timeout:
			t.Fatalf("the phone was not ready within 10 s; events %+v", briefs(l.events))
		}
	}
}

// serverFactors is the factors Verify lists for an identity, as the app's
// backend reads them: SID → status.
func serverFactors(t *testing.T, srv *servertest.Server, f Factor) map[string]string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/v2/Services/"+f.ServiceSid+"/Entities/"+f.Identity+"/Factors", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(srv.AccountSid, srv.Auth)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Factors []struct{ Sid, Status string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("list factors: HTTP %d, %v", resp.StatusCode, err)
	}
	out := map[string]string{}
	for _, f := range list.Factors {
		out[f.Sid] = f.Status
	}
	return out
}

func localFactors(t *testing.T, d *Device) map[string]string {
	t.Helper()
	factors, err := d.GetAllFactors()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range factors {
		out[f.Sid] = f.Status
	}
	return out
}

func realServerPhone(t *testing.T) (*servertest.Server, *servertest.Clock, Config) {
	clock := servertest.NewClock(time.Date(2026, 11, 29, 9, 41, 0, 0, time.UTC))
	srv := servertest.Start(t, servertest.Options{Clock: clock})
	return srv, clock, Config{ServerURL: srv.URL, Home: filepath.Join(t.TempDir(), "phone"), App: testApp, Clock: clock.Now}
}

// TestLaunchFinishesAnEnrollmentCutShort: a phone killed between creating
// its factor and verifying it verifies that factor when it is opened
// again, announcing it as any enrolment does, and enrolls nothing more.
func TestLaunchFinishesAnEnrollmentCutShort(t *testing.T) {
	srv, _, cfg := realServerPhone(t)
	f := enrollUntilKilled(t, cfg, "alice")
	if got := serverFactors(t, srv, f); !onlyFactor(got, f.Sid, "unverified") {
		t.Fatalf("server factors after the crash %v, want %s unverified", got, f.Sid)
	}

	p := launch(t, cfg, LaunchOptions{Identity: "alice"})
	assertEvents(t, p.events, brief{Kind: EventEnrolled, FactorSid: f.Sid}, brief{Kind: EventReady})
	if ready := p.events[len(p.events)-1]; !slices.Equal(ready.Factors, []string{f.Sid}) {
		t.Errorf("ready with factors %v, want [%s]", ready.Factors, f.Sid)
	}
	if got := serverFactors(t, srv, f); !onlyFactor(got, f.Sid, "verified") {
		t.Errorf("server factors %v, want only %s, verified", got, f.Sid)
	}
	if got := localFactors(t, p.Device); !onlyFactor(got, f.Sid, "verified") {
		t.Errorf("phone factors %v, want only %s, verified", got, f.Sid)
	}
}

// TestLaunchEnrollsAnewWhenTheServerForgotTheFactor: Verify deletes a
// factor left unverified for an hour, and then refuses its credential. The
// phone forgets it and its key, and enrolls again.
func TestLaunchEnrollsAnewWhenTheServerForgotTheFactor(t *testing.T) {
	srv, clock, cfg := realServerPhone(t)
	old := enrollUntilKilled(t, cfg, "alice")
	clock.Advance(61 * time.Minute)
	if n, err := srv.Engine().SweepUnverifiedFactors(context.Background(), 100); n != 1 || err != nil {
		t.Fatalf("sweep deleted %d factors, %v; want the one left unverified", n, err)
	}

	p := launch(t, cfg, LaunchOptions{Identity: "alice"})
	if len(p.events) != 3 {
		t.Fatalf("events %+v, want factor_deleted, enrolled, ready", briefs(p.events))
	}
	renewed := p.events[1].FactorSid
	assertEvents(t, p.events,
		brief{Kind: EventFactorDeleted, FactorSid: old.Sid},
		brief{Kind: EventEnrolled, FactorSid: renewed},
		brief{Kind: EventReady})
	if renewed == old.Sid {
		t.Fatalf("enrolled %s again, want a new factor", renewed)
	}
	if got := serverFactors(t, srv, old); !onlyFactor(got, renewed, "verified") {
		t.Errorf("server factors %v, want only %s, verified", got, renewed)
	}
	if got := localFactors(t, p.Device); !onlyFactor(got, renewed, "verified") {
		t.Errorf("phone factors %v, want only %s, verified", got, renewed)
	}
	if keys, _ := filepath.Glob(filepath.Join(cfg.Home, "keys", "*.pem")); len(keys) != 1 {
		t.Errorf("keys on the phone %v, want only the new factor's", keys)
	}
}

// TestLaunchAfterAnUnfinishedEnrollment: the other answers a launch can
// meet when it verifies a factor left unverified.
func TestLaunchAfterAnUnfinishedEnrollment(t *testing.T) {
	notFound := `{"code":20404,"message":"The requested resource was not found","status":404}`

	t.Run("not found, no identity to enroll", func(t *testing.T) {
		srv := newServer(t)
		cfg := Config{Home: filepath.Join(t.TempDir(), "phone"), BaseURL: srv.BaseURL(), AccessTokenURL: srv.AccessTokenURL(), App: testApp, Clock: srv.Now}
		f := enrollUntilKilled(t, cfg, "bea")
		srv.Inject(fakeverify.Fault{Method: http.MethodPost, Path: "/Factors/" + f.Sid, Times: 1, Status: http.StatusNotFound, Body: notFound})
		p := launch(t, cfg, LaunchOptions{})
		assertEvents(t, p.events, brief{Kind: EventFactorDeleted, FactorSid: f.Sid}, brief{Kind: EventReady})
		if got := localFactors(t, p.Device); len(got) != 0 {
			t.Errorf("phone factors %v, want none", got)
		}
	})

	// A server that cannot answer now may still have the factor: the
	// phone keeps it for the next launch, and does not start without a
	// verified factor when it was opened to enroll.
	t.Run("server error, identity to enroll", func(t *testing.T) {
		srv := newServer(t)
		cfg := Config{Home: filepath.Join(t.TempDir(), "phone"), BaseURL: srv.BaseURL(), AccessTokenURL: srv.AccessTokenURL(), App: testApp, Clock: srv.Now}
		f := enrollUntilKilled(t, cfg, "cleo")
		srv.Inject(fakeverify.Fault{Method: http.MethodPost, Path: "/Factors/" + f.Sid, Times: 1, Status: http.StatusServiceUnavailable, Body: `{"code":20503,"message":"Service unavailable","status":503}`})
		d, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		// Bounded, so that a launch that wrongly starts ends the test.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = d.Launch(ctx, LaunchOptions{Identity: "cleo"})
		var httpErr *verifyclient.HTTPError
		if !errors.As(err, &httpErr) || httpErr.StatusCode != http.StatusServiceUnavailable || !strings.HasPrefix(err.Error(), "enroll cleo: factor "+f.Sid+": ") {
			t.Fatalf("Launch returned %v, want enroll cleo: factor %s: the 503", err, f.Sid)
		}
		if got := localFactors(t, d); !onlyFactor(got, f.Sid, "unverified") {
			t.Errorf("phone factors %v, want %s kept unverified", got, f.Sid)
		}
		creates := 0
		for _, r := range srv.Requests() {
			if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/Factors") {
				creates++
			}
		}
		if creates != 1 {
			t.Errorf("%d factors created, want only the one cut short", creates)
		}
	})
}

// onlyFactor reports whether factors (SID → status) holds one factor, sid,
// with that status.
func onlyFactor(factors map[string]string, sid, status string) bool {
	return len(factors) == 1 && factors[sid] == status
}
