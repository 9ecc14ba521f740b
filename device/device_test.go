package device

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pushsim/pushsim/device/internal/fakeverify"
	"github.com/pushsim/pushsim/device/keystore"
	"github.com/pushsim/pushsim/device/pushclient"
	"github.com/pushsim/pushsim/device/verifyclient"
)

var testApp = verifyclient.DefaultApp("0.0.0-test")

func newServer(t *testing.T) *fakeverify.Server {
	return fakeverify.New(t, fakeverify.Options{UserAgent: testApp.UserAgent(), AppID: testApp.PackageName})
}

type phone struct {
	*Device
	events <-chan Event
	ticks  chan time.Time
}

// newPhone starts a phone in home whose clock is the server's shifted by
// skew. Its poll ticker is a channel the test drives.
func newPhone(t *testing.T, srv *fakeverify.Server, home string, skew time.Duration) *phone {
	t.Helper()
	ticks := make(chan time.Time)
	d, err := New(Config{
		Home:           home,
		BaseURL:        srv.BaseURL(),
		AccessTokenURL: srv.AccessTokenURL(),
		App:            testApp,
		Clock:          func() time.Time { return srv.Now().Add(skew) },
		Ticker:         func(time.Duration) (<-chan time.Time, func()) { return ticks, func() {} },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return &phone{Device: d, events: d.Subscribe(ctx), ticks: ticks}
}

func (p *phone) enroll(t *testing.T, identity string) Factor {
	t.Helper()
	f, err := p.CreateFactor(context.Background(), EnrollParams{Identity: identity})
	if err != nil {
		t.Fatalf("enroll %s: %v", identity, err)
	}
	return f
}

// drain returns the events emitted so far. A marker event emitted now
// arrives after all of them, so no waiting on timing is involved.
func (p *phone) drain(t *testing.T) []Event {
	t.Helper()
	p.emit(Event{Kind: "test-marker"})
	var got []Event
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-p.events:
			if e.Kind == "test-marker" {
				return got
			}
			got = append(got, e)
		case <-timeout:
			t.Fatalf("marker event never arrived; got %+v", got)
		}
	}
}

// next waits for the next event, for events emitted by another goroutine.
func (p *phone) next(t *testing.T) Event {
	t.Helper()
	select {
	case e := <-p.events:
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event")
		return Event{}
	}
}

type brief struct {
	Kind                 EventKind
	ChallengeSid, Via    string
	Silent, Resent       bool
	FactorSid, Operation string
}

func briefs(events []Event) []brief {
	var out []brief
	for _, e := range events {
		out = append(out, brief{e.Kind, e.ChallengeSid, e.Via, e.Silent, e.Resent, e.FactorSid, e.Op})
	}
	return out
}

func assertEvents(t *testing.T, got []Event, want ...brief) {
	t.Helper()
	if !slices.Equal(briefs(got), want) {
		t.Errorf("events\n got %+v\nwant %+v", briefs(got), want)
	}
}

func TestEnrollSurvivesRestartButNotUninstall(t *testing.T) {
	srv := newServer(t)
	home := filepath.Join(t.TempDir(), "device-alice")
	p := newPhone(t, srv, home, 0)
	f := p.enroll(t, "alice-0001")

	if f.Status != "verified" || f.Identity != "alice-0001" || f.ServiceSid != srv.ServiceSid || f.FriendlyName != "alice-0001's factor" ||
		f.NotificationPlatform != "none" || !keystore.ValidAlias(f.KeyAlias) {
		t.Errorf("factor = %+v", f)
	}
	if server, ok := srv.Factor(f.Sid); !ok || server.Status != "verified" {
		t.Errorf("server factor = %+v", server)
	}
	assertEvents(t, p.drain(t), brief{Kind: EventEnrolled, FactorSid: f.Sid})
	if info, err := os.Stat(home); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("home %v %v", info, err)
	}

	restarted := newPhone(t, srv, home, 0)
	factors, err := restarted.GetAllFactors()
	if err != nil || len(factors) != 1 || factors[0].Sid != f.Sid || factors[0].Status != "verified" {
		t.Fatalf("after restart: %+v %v", factors, err)
	}
	// The key survived too: the server accepts the restarted phone's JWTs.
	if _, err := restarted.GetAllChallenges(context.Background(), f.Sid, ListParams{}); err != nil {
		t.Errorf("restarted phone cannot authenticate: %v", err)
	}

	if err := os.RemoveAll(home); err != nil {
		t.Fatal(err)
	}
	reinstalled := newPhone(t, srv, home, 0)
	if factors, err := reinstalled.GetAllFactors(); err != nil || len(factors) != 0 {
		t.Errorf("after uninstall: %+v %v", factors, err)
	}
	if _, ok := srv.Factor(f.Sid); !ok {
		t.Error("uninstalling the app deleted the factor on the server")
	}
}

func TestClockSkewCorrectionSurvivesRestart(t *testing.T) {
	srv := newServer(t)
	home := t.TempDir() + "/phone"
	p := newPhone(t, srv, home, 15*time.Minute)
	f := p.enroll(t, "bob-0001") // verify meets a 401, corrects, retries

	if got := p.TimeCorrection(); got != -900 {
		t.Fatalf("time correction = %d, want -900", got)
	}
	unauthorized := func() int {
		n := 0
		for _, r := range srv.Requests() {
			if r.Status == 401 {
				n++
			}
		}
		return n
	}
	if n := unauthorized(); n != 1 {
		t.Fatalf("%d 401s during enrolment, want exactly 1", n)
	}

	restarted := newPhone(t, srv, home, 15*time.Minute)
	if got := restarted.TimeCorrection(); got != -900 {
		t.Errorf("correction after restart = %d", got)
	}
	if _, err := restarted.GetAllChallenges(context.Background(), f.Sid, ListParams{}); err != nil {
		t.Fatal(err)
	}
	if n := unauthorized(); n != 1 {
		t.Errorf("the restarted phone needed another correction (%d 401s)", n)
	}
}

func TestClockOffsetSetting(t *testing.T) {
	srv := newServer(t)
	p := newPhone(t, srv, t.TempDir()+"/phone", 0)
	f := p.enroll(t, "carl-0001")
	p.SetClockOffset(-20 * time.Minute)
	if _, err := p.GetAllChallenges(context.Background(), f.Sid, ListParams{}); err != nil {
		t.Fatal(err)
	}
	if got := p.TimeCorrection(); got != 1200 {
		t.Errorf("correction = %d, want 1200", got)
	}
}

// A challenge is announced once however it arrives, and again for every
// resend: each push after its first.
func TestChallengeAnnouncedOnceAndAgainPerResend(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t)
	p := newPhone(t, srv, t.TempDir()+"/phone", 0)
	f := p.enroll(t, "dana-0001")
	p.drain(t)

	first := srv.CreateChallenge(f.Sid, "Log in from Paris?", fakeverify.ChallengeOptions{})
	if err := p.PollNow(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.PollNow(ctx); err != nil {
		t.Fatal(err)
	}
	// The original push arriving after a poll found the challenge is not
	// a new challenge.
	if err := p.HandlePush(ctx, PushNotification{ChallengeSid: first, FactorSid: f.Sid, Message: "Log in from Paris?"}); err != nil {
		t.Fatal(err)
	}
	second := srv.CreateChallenge(f.Sid, "Pay 20 EUR?", fakeverify.ChallengeOptions{})
	if err := p.HandlePush(ctx, PushNotification{ChallengeSid: second, FactorSid: f.Sid}); err != nil {
		t.Fatal(err)
	}
	if err := p.HandlePush(ctx, PushNotification{ChallengeSid: second, FactorSid: f.Sid}); err != nil {
		t.Fatal(err)
	}
	if err := p.PollNow(ctx); err != nil {
		t.Fatal(err)
	}
	events := p.drain(t)
	// A resend of the first is announced: it is its second push.
	if err := p.HandlePush(ctx, PushNotification{ChallengeSid: first, FactorSid: f.Sid, Message: "Log in from Paris?"}); err != nil {
		t.Fatal(err)
	}
	events = append(events, p.drain(t)...)
	assertEvents(t, events,
		brief{Kind: EventChallenge, ChallengeSid: first, Via: ViaPoll, FactorSid: f.Sid},
		brief{Kind: EventChallenge, ChallengeSid: second, Via: ViaPush, FactorSid: f.Sid},
		brief{Kind: EventChallenge, ChallengeSid: second, Via: ViaPush, Resent: true, FactorSid: f.Sid},
		brief{Kind: EventChallenge, ChallengeSid: first, Via: ViaPush, Resent: true, FactorSid: f.Sid},
	)
	if events[0].Message != "Log in from Paris?" || events[0].Challenge == nil || events[0].Challenge.Status != "pending" {
		t.Errorf("challenge event = %+v", events[0])
	}

	if _, err := p.UpdateChallenge(ctx, f.Sid, first, "approved"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpdateChallenge(ctx, f.Sid, second, "denied"); err != nil {
		t.Fatal(err)
	}
	if err := p.PollNow(ctx); err != nil {
		t.Fatal(err)
	}
	assertEvents(t, p.drain(t),
		brief{Kind: EventApproved, ChallengeSid: first, FactorSid: f.Sid},
		brief{Kind: EventDenied, ChallengeSid: second, FactorSid: f.Sid},
	)
	if c, _ := srv.Challenge(first); c.Status != "approved" {
		t.Errorf("server has %s as %s", first, c.Status)
	}
}

func TestPollFollowsPages(t *testing.T) {
	srv := newServer(t)
	p := newPhone(t, srv, t.TempDir()+"/phone", 0)
	f := p.enroll(t, "page-0001")
	p.drain(t)
	var want []brief
	for range 25 { // more than one page of 20
		sid := srv.CreateChallenge(f.Sid, "many", fakeverify.ChallengeOptions{})
		want = append(want, brief{Kind: EventChallenge, ChallengeSid: sid, Via: ViaPoll, FactorSid: f.Sid})
	}
	if err := p.PollNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	assertEvents(t, p.drain(t), want...)
	if n := srv.CountRequests("GET", "/Challenges"); n != 2 {
		t.Errorf("%d list requests, want 2 pages", n)
	}
}

func TestSilentApproval(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t)
	p := newPhone(t, srv, t.TempDir()+"/phone", 0)
	f := p.enroll(t, "eve-0001")
	p.drain(t)
	if err := p.SetSilentApproval(f.Sid, true); err != nil {
		t.Fatal(err)
	}

	// In the background a push is only shown.
	background := srv.CreateChallenge(f.Sid, "background", fakeverify.ChallengeOptions{})
	if err := p.HandlePush(ctx, PushNotification{ChallengeSid: background, FactorSid: f.Sid}); err != nil {
		t.Fatal(err)
	}
	if c, _ := srv.Challenge(background); c.Status != "pending" {
		t.Errorf("background push was answered: %s", c.Status)
	}

	p.SetForeground(true)
	sid := srv.CreateChallenge(f.Sid, "Log in on this phone?", fakeverify.ChallengeOptions{})
	push := PushNotification{ChallengeSid: sid, FactorSid: f.Sid}
	if err := p.HandlePush(ctx, push); err != nil {
		t.Fatal(err)
	}
	// The same push delivered again neither re-announces nor re-approves.
	if err := p.HandlePush(ctx, push); err != nil {
		t.Fatal(err)
	}
	if c, _ := srv.Challenge(sid); c.Status != "approved" {
		t.Errorf("server status %q, want approved with no user action", c.Status)
	}
	assertEvents(t, p.drain(t),
		brief{Kind: EventChallenge, ChallengeSid: background, Via: ViaPush, FactorSid: f.Sid},
		brief{Kind: EventChallenge, ChallengeSid: sid, Via: ViaPush, FactorSid: f.Sid},
		brief{Kind: EventApproved, ChallengeSid: sid, Silent: true, FactorSid: f.Sid},
	)
	if n := srv.CountRequests("POST", sid); n != 1 {
		t.Errorf("challenge POSTed %d times", n)
	}

	// A number-matching challenge needs the user's typed code: silent
	// approval shows it and leaves it pending.
	matched := srv.CreateChallenge(f.Sid, "Type the number", fakeverify.ChallengeOptions{Hidden: map[string]string{NumberMatchKey: "42"}})
	if err := p.HandlePush(ctx, PushNotification{ChallengeSid: matched, FactorSid: f.Sid}); err != nil {
		t.Fatal(err)
	}
	if c, _ := srv.Challenge(matched); c.Status != "pending" {
		t.Errorf("number-matching challenge answered silently: %s", c.Status)
	}

	// Remembered across restarts; can be turned off.
	if on, _ := p.SilentApproval(f.Sid); !on {
		t.Error("silent approval not on")
	}
	if err := p.SetSilentApproval(f.Sid, false); err != nil {
		t.Fatal(err)
	}
	if on, _ := p.SilentApproval(f.Sid); on {
		t.Error("silent approval still on")
	}
}

func TestAirplaneModeStopsPolling(t *testing.T) {
	srv := newServer(t)
	p := newPhone(t, srv, t.TempDir()+"/phone", 0)
	f := p.enroll(t, "finn-0001")
	p.drain(t)
	sid := srv.CreateChallenge(f.Sid, "while offline", fakeverify.ChallengeOptions{})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	p.SetAirplaneMode(true)
	go func() { done <- p.Run(ctx) }()
	if e := p.next(t); e.Kind != EventReady || !slices.Equal(e.Factors, []string{f.Sid}) {
		t.Fatalf("first event %+v, want ready with the factor", e)
	}

	before := len(srv.Requests())
	// Run handles one tick at a time, so once the third send is accepted the
	// first two have been fully handled.
	for range 3 {
		p.ticks <- time.Now()
	}
	if n := len(srv.Requests()) - before; n != 0 {
		t.Errorf("%d requests in airplane mode", n)
	}
	if _, err := p.GetChallenge(context.Background(), f.Sid, sid); !errors.Is(err, ErrAirplaneMode) || !errors.Is(err, verifyclient.ErrNetwork) {
		t.Errorf("call in airplane mode: %v", err)
	}
	if err := p.HandlePush(context.Background(), PushNotification{ChallengeSid: sid, FactorSid: f.Sid}); !errors.Is(err, ErrAirplaneMode) {
		t.Errorf("push in airplane mode: %v", err)
	}
	if n := len(srv.Requests()) - before; n != 0 {
		t.Errorf("%d requests in airplane mode", n)
	}

	p.SetAirplaneMode(false) // reconnecting polls at once
	if e := p.next(t); e.Kind != EventChallenge || e.ChallengeSid != sid || e.Via != ViaPoll {
		t.Errorf("after reconnecting: %+v", e)
	}
	p.ticks <- time.Now() // polls again: nothing new
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v", err)
	}
	assertEvents(t, p.drain(t))
}

func TestForegroundPollsAtOnce(t *testing.T) {
	srv := newServer(t)
	p := newPhone(t, srv, t.TempDir()+"/phone", 0)
	f := p.enroll(t, "gus-0001")
	p.drain(t)
	sid := srv.CreateChallenge(f.Sid, "hello", fakeverify.ChallengeOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx)
	if e := p.next(t); e.Kind != EventReady {
		t.Fatalf("got %+v", e)
	}
	p.SetForeground(true)
	if e := p.next(t); e.Kind != EventChallenge || e.ChallengeSid != sid {
		t.Errorf("got %+v", e)
	}
}

func TestExpiryIsReportedOnce(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t)
	p := newPhone(t, srv, t.TempDir()+"/phone", 0)
	f := p.enroll(t, "hana-0001")
	p.drain(t)
	polled := srv.CreateChallenge(f.Sid, "soon gone", fakeverify.ChallengeOptions{TTL: time.Minute})
	if err := p.PollNow(ctx); err != nil {
		t.Fatal(err)
	}
	srv.Advance(2 * time.Minute)
	if err := p.PollNow(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.PollNow(ctx); err != nil {
		t.Fatal(err)
	}
	// Answering an expired challenge is refused locally and reported as
	// expired, but only once.
	if _, err := p.UpdateChallenge(ctx, f.Sid, polled, "approved"); !errors.Is(err, verifyclient.ErrExpiredChallenge) {
		t.Errorf("approve expired: %v", err)
	}
	late := srv.CreateChallenge(f.Sid, "pushed late", fakeverify.ChallengeOptions{TTL: time.Second})
	srv.Advance(time.Minute)
	if err := p.HandlePush(ctx, PushNotification{ChallengeSid: late, FactorSid: f.Sid}); err != nil {
		t.Fatal(err)
	}
	assertEvents(t, p.drain(t),
		brief{Kind: EventChallenge, ChallengeSid: polled, Via: ViaPoll, FactorSid: f.Sid},
		brief{Kind: EventExpired, ChallengeSid: polled, FactorSid: f.Sid},
		brief{Kind: EventExpired, ChallengeSid: late, FactorSid: f.Sid},
	)
}

func TestDeleteFactor(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t)
	p := newPhone(t, srv, t.TempDir()+"/phone", 0)
	kept := p.enroll(t, "ida-0001")
	gone := p.enroll(t, "ida-0001")
	p.drain(t)
	if err := p.DeleteFactor(ctx, gone.Sid); err != nil {
		t.Fatal(err)
	}
	if _, ok := srv.Factor(gone.Sid); ok {
		t.Error("server still has the factor")
	}
	factors, _ := p.GetAllFactors()
	if len(factors) != 1 || factors[0].Sid != kept.Sid {
		t.Errorf("local factors %+v", factors)
	}
	assertEvents(t, p.drain(t), brief{Kind: EventFactorDeleted, FactorSid: gone.Sid})

	// A factor the server already forgot (404) is still removed locally.
	srv.Inject(fakeverify.Fault{Method: "DELETE", Path: kept.Sid, Times: 1, Status: 404, Body: `{"code":20404,"message":"Not found","status":404}`})
	if err := p.DeleteFactor(ctx, kept.Sid); err != nil {
		t.Fatal(err)
	}
	if factors, _ := p.GetAllFactors(); len(factors) != 0 {
		t.Errorf("local factors %+v", factors)
	}
	if err := p.DeleteFactor(ctx, kept.Sid); !errors.Is(err, verifyclient.ErrStorage) {
		t.Errorf("deleting an unknown factor: %v, want a storage error", err)
	}
}

func TestUpdatePushToken(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t)
	p := newPhone(t, srv, t.TempDir()+"/phone", 0)
	a := p.enroll(t, "jon-0001")
	b := p.enroll(t, "jon-0002")

	token, err := p.EnsurePushToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(token) < 32 || len(token) > 255 {
		t.Errorf("token %q outside Verify's 32-255 characters", token)
	}
	for _, sid := range []string{a.Sid, b.Sid} {
		if f, _ := srv.Factor(sid); f.Platform != "fcm" || f.Token != token {
			t.Errorf("server factor %s: %s %q", sid, f.Platform, f.Token)
		}
	}
	posts := srv.CountRequests("POST", "/Factors/")
	again, err := p.EnsurePushToken(ctx)
	if err != nil || again != token {
		t.Fatalf("second EnsurePushToken = %q %v", again, err)
	}
	if n := srv.CountRequests("POST", "/Factors/"); n != posts {
		t.Errorf("an unchanged token re-registered factors (%d updates)", n-posts)
	}
	// New factors are created with the token.
	c := p.enroll(t, "jon-0003")
	if f, _ := srv.Factor(c.Sid); f.Platform != "fcm" || f.Token != token {
		t.Errorf("new factor registered as %s %q", f.Platform, f.Token)
	}

	if err := p.UpdatePushToken(ctx, ""); err != nil {
		t.Fatal(err)
	}
	factors, _ := p.GetAllFactors()
	for _, f := range factors {
		if server, _ := srv.Factor(f.Sid); server.Platform != "none" || f.NotificationPlatform != "none" {
			t.Errorf("factor %s after clearing the token: server %s, local %s", f.Sid, server.Platform, f.NotificationPlatform)
		}
	}
}

// TestPushTokenWithoutSecretIsRotated: a phone that registered its token
// before tokens were derived from a secret cannot prove it holds that token,
// so the next EnsurePushToken makes a secret and moves every factor to the
// token derived from it, as after an FCM reinstall. The secret itself never
// goes to Verify.
func TestPushTokenWithoutSecretIsRotated(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t)
	var mu sync.Mutex
	var sent [][]byte
	d, err := New(Config{
		Home: t.TempDir() + "/phone", BaseURL: srv.BaseURL(), AccessTokenURL: srv.AccessTokenURL(), App: testApp,
		Clock: srv.Now,
		Observer: func(x verifyclient.Exchange) {
			mu.Lock()
			defer mu.Unlock()
			sent = append(sent, []byte(x.URL), x.RequestBody, []byte(fmt.Sprint(x.RequestHeader)))
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := &phone{Device: d}
	const legacy = "pushsim:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	if err := p.UpdatePushToken(ctx, legacy); err != nil {
		t.Fatal(err)
	}
	a := p.enroll(t, "lee-0001")
	if f, _ := srv.Factor(a.Sid); f.Token != legacy {
		t.Fatalf("factor enrolled with %q, want the legacy token", f.Token)
	}

	token, err := p.EnsurePushToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	settings, _ := p.store.Settings()
	if token == legacy || settings.PushSecret == "" || token != pushclient.RegistrationToken(settings.PushSecret) {
		t.Fatalf("token %q, secret %q: want a token derived from a new secret", token, settings.PushSecret)
	}
	if f, _ := srv.Factor(a.Sid); f.Platform != "fcm" || f.Token != token {
		t.Errorf("server factor: %s %q, want fcm %q", f.Platform, f.Token, token)
	}
	if shown, _ := p.PushToken(); shown != token {
		t.Errorf("PushToken() = %q, want the registered token %q", shown, token)
	}
	// Settled now: the next launch keeps the registration.
	posts := srv.CountRequests("POST", "/Factors/")
	if again, err := p.EnsurePushToken(ctx); err != nil || again != token {
		t.Fatalf("second EnsurePushToken = %q %v", again, err)
	}
	if n := srv.CountRequests("POST", "/Factors/"); n != posts {
		t.Errorf("a settled token re-registered factors (%d updates)", n-posts)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, b := range sent {
		if bytes.Contains(b, []byte(settings.PushSecret)) {
			t.Fatalf("the push secret was sent to Verify: %s", b)
		}
	}
}

// TestChangingThePushTokenDropsItsSecret: a secret is kept only with the
// token derived from it. Turning push off and on again makes a new
// registration, so the old secret does not open a queue nobody sends to.
func TestChangingThePushTokenDropsItsSecret(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t)
	p := newPhone(t, srv, t.TempDir()+"/phone", 0)
	first, err := p.EnsurePushToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := p.store.Settings()
	// Re-registering the same token keeps the secret.
	if err := p.UpdatePushToken(ctx, first); err != nil {
		t.Fatal(err)
	}
	if s, _ := p.store.Settings(); s.PushSecret != before.PushSecret {
		t.Fatalf("secret changed from %q to %q for the same token", before.PushSecret, s.PushSecret)
	}
	if err := p.UpdatePushToken(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if s, _ := p.store.Settings(); s.PushSecret != "" || s.PushToken != "" {
		t.Fatalf("push off keeps %+v", s)
	}
	second, err := p.EnsurePushToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := p.store.Settings()
	if second == first || after.PushSecret == before.PushSecret || second != pushclient.RegistrationToken(after.PushSecret) {
		t.Fatalf("push on again: token %q (was %q), secret changed: %v", second, first, after.PushSecret != before.PushSecret)
	}
}

func TestInjectedRandomness(t *testing.T) {
	srv := newServer(t)
	d, err := New(Config{
		Home: t.TempDir() + "/phone", BaseURL: srv.BaseURL(), AccessTokenURL: srv.AccessTokenURL(), App: testApp,
		Clock: srv.Now, Rand: bytes.NewReader(bytes.Repeat([]byte{7}, 1024)),
	})
	if err != nil {
		t.Fatal(err)
	}
	token, err := d.EnsurePushToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The secret comes from the injected reader; the token is derived from
	// it (the worked example in docs/push-protocol.md).
	if want := "pushsim:rJf3semXExZuORdMMVPb_xCR4tfOq1JgIcNOiVcy75g"; token != want {
		t.Errorf("push token %q, want %q", token, want)
	}
	if s, _ := d.store.Settings(); s.PushSecret != base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)) {
		t.Errorf("push secret %q, want the injected bytes in base64url", s.PushSecret)
	}
	f, err := d.CreateFactor(context.Background(), EnrollParams{Identity: "rand-0001"})
	if err != nil {
		t.Fatal(err)
	}
	if f.KeyAlias != "HHHHHHHHHHHHHHH" || f.NotificationPlatform != "fcm" || f.NotificationToken != token {
		t.Errorf("factor %+v", f)
	}
}

func TestClearLocalStorage(t *testing.T) {
	srv := newServer(t)
	p := newPhone(t, srv, t.TempDir()+"/phone", 0)
	f := p.enroll(t, "kai-0001")
	p.drain(t)
	if err := p.ClearLocalStorage(); err != nil {
		t.Fatal(err)
	}
	if factors, _ := p.GetAllFactors(); len(factors) != 0 {
		t.Errorf("factors after clear: %+v", factors)
	}
	if _, ok := srv.Factor(f.Sid); !ok {
		t.Error("clearing local storage deleted the factor on the server")
	}
	assertEvents(t, p.drain(t), brief{Kind: EventFactorDeleted, FactorSid: f.Sid})
}

func TestCorruptKeystoreIsAStorageError(t *testing.T) {
	srv := newServer(t)
	home := t.TempDir() + "/phone"
	p := newPhone(t, srv, home, 0)
	f := p.enroll(t, "lou-0001")
	matches, _ := filepath.Glob(filepath.Join(home, "factors", "*.json"))
	if len(matches) != 1 {
		t.Fatalf("factor files %v", matches)
	}
	if err := os.WriteFile(matches[0], []byte(`{"version":1,"sid":`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := p.GetAllFactors()
	var fileErr *keystore.FileError
	if !errors.Is(err, verifyclient.ErrStorage) || !errors.As(err, &fileErr) || fileErr.Path != matches[0] {
		t.Fatalf("err = %v", err)
	}
	want := "{60403} Exception while storing/loading an entity: keystore: " + matches[0] +
		": is not a valid factor record (truncated or overwritten?): unexpected EOF"
	if err.Error() != want {
		t.Errorf("message\n got %q\nwant %q", err, want)
	}
	if err := p.PollNow(context.Background()); err == nil {
		t.Error("poll over a corrupt keystore succeeded")
	}
	assertEvents(t, p.drain(t), brief{Kind: EventEnrolled, FactorSid: f.Sid}, brief{Kind: EventError, Operation: "poll"})
}

func TestPushForUnknownFactor(t *testing.T) {
	srv := newServer(t)
	p := newPhone(t, srv, t.TempDir()+"/phone", 0)
	err := p.HandlePush(context.Background(), PushNotification{ChallengeSid: "YC1", FactorSid: "YF404"})
	if !errors.Is(err, verifyclient.ErrStorage) || !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("err = %v", err)
	}
	events := p.drain(t)
	assertEvents(t, events, brief{Kind: EventError, ChallengeSid: "YC1", FactorSid: "YF404", Operation: "push"})
	if events[0].Error == "" {
		t.Error("error event without text")
	}
}

func TestAccessTokenFailures(t *testing.T) {
	srv := newServer(t)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("identity") == "broken-0001" {
			w.Write([]byte(`{"token":"t","serviceSid":"VA1"}`))
			return
		}
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"error":{"message":"identity not allowed","moreInfo":"https://example.test"}}`))
	}))
	defer backend.Close()
	d, err := New(Config{Home: t.TempDir() + "/phone", BaseURL: srv.BaseURL(), AccessTokenURL: backend.URL, App: testApp})
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.CreateFactor(context.Background(), EnrollParams{Identity: "max-0001"})
	var tokErr *AccessTokenError
	if !errors.As(err, &tokErr) || tokErr.StatusCode != 403 || err.Error() != "access token from "+backend.URL+": HTTP 403: identity not allowed" {
		t.Errorf("err = %v", err)
	}
	_, err = d.CreateFactor(context.Background(), EnrollParams{Identity: "broken-0001"})
	if !errors.As(err, &tokErr) || tokErr.Message != "response lacks token, serviceSid, identity or factorType" {
		t.Errorf("err = %v", err)
	}
	if matches, _ := filepath.Glob(filepath.Join(d.Home(), "keys", "*")); len(matches) != 0 {
		t.Errorf("a failed enrolment left keys behind: %v", matches)
	}
}

func TestEnrollFailureRemovesKey(t *testing.T) {
	srv := newServer(t)
	p := newPhone(t, srv, t.TempDir()+"/phone", 0)
	srv.Inject(fakeverify.Fault{Method: "POST", Path: "/Factors", Times: 1, Status: 403,
		Body: `{"code":60315,"message":"Max factors reached","more_info":"https://www.twilio.com/docs/errors/60315","status":400}`})
	_, err := p.CreateFactor(context.Background(), EnrollParams{Identity: "ned-0001"})
	var apiErr *verifyclient.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 60315 {
		t.Fatalf("err = %v", err)
	}
	if matches, _ := filepath.Glob(filepath.Join(p.Home(), "keys", "*.pem")); len(matches) != 0 {
		t.Errorf("key left behind: %v", matches)
	}
}

func TestEventJSON(t *testing.T) {
	e := Event{
		Kind: EventChallenge, Time: time.Date(2024, 3, 20, 15, 53, 25, 0, time.UTC), FactorSid: "YF1", ChallengeSid: "YC1",
		Via: ViaPush, Message: "Log in?", Challenge: &Challenge{Sid: "YC1"}, Err: errors.New("hidden"),
	}
	got, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"event":"challenge","time":"2024-03-20T15:53:25Z","factor_sid":"YF1","challenge_sid":"YC1","via":"push","message":"Log in?"}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestAutoAnswerOncePerChallenge: a resent push announces a challenge
// again, but a phone that answers by itself answers it only once.
func TestAutoAnswerOncePerChallenge(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t)
	p := newPhone(t, srv, t.TempDir()+"/phone", 0)
	f := p.enroll(t, "ivo-0001")
	p.drain(t)
	sid := srv.CreateChallenge(f.Sid, "Log in?", fakeverify.ChallengeOptions{})
	push := PushNotification{ChallengeSid: sid, FactorSid: f.Sid}
	for range 2 { // the push and its resend
		if err := p.HandlePush(ctx, push); err != nil {
			t.Fatal(err)
		}
	}
	announced := p.drain(t)
	events := make(chan Event, len(announced))
	for _, e := range announced {
		events <- e
	}
	close(events)
	p.autoAnswer(ctx, events, verifyclient.ChallengeApproved)
	assertEvents(t, p.drain(t), brief{Kind: EventApproved, ChallengeSid: sid, FactorSid: f.Sid})
	if n := srv.CountRequests("POST", sid); n != 1 {
		t.Fatalf("challenge POSTed %d times", n)
	}
}
