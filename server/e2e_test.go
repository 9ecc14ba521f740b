package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/verifyclient"
	"github.com/pushsim/pushsim/server/backend"
)

// newDevice makes a phone for this server with its own home directory.
func (h *harness) newDevice(t *testing.T, poll time.Duration) *device.Device {
	t.Helper()
	d, err := device.New(device.Config{
		Home: filepath.Join(t.TempDir(), "phone"), BaseURL: h.srv.URL + "/v2/", AccessTokenURL: h.srv.URL + "/backend/access-token",
		App: verifyclient.DefaultApp("test"), Clock: h.clock.Now, PollInterval: poll,
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// launch runs the phone's app until the test ends and returns its events.
func launch(t *testing.T, d *device.Device, opts device.LaunchOptions) <-chan device.Event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	events := d.Subscribe(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Launch(ctx, opts) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("launch: %v", err)
		}
	})
	return events
}

func nextEvent(t *testing.T, events <-chan device.Event, kind device.EventKind) device.Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-events:
			if e.Kind == kind {
				return e
			}
			if e.Kind == device.EventError {
				t.Logf("phone error: %s %s", e.Op, e.Error)
			}
		case <-timeout:
			t.Fatalf("no %s event within 10s", kind)
		}
	}
}

// TestTwoPhonesOneIdentity: the server, its sample backend and two phones
// for one user, one without push. Both enroll, each gets a challenge (by
// push and by polling), one approves, one denies, and the backend reads
// both outcomes through the API.
func TestTwoPhonesOneIdentity(t *testing.T) {
	h := newHarness(t, "", newClock())
	h.run()
	pushURL := "ws" + strings.TrimPrefix(h.srv.URL, "http") + "/push/connect"

	pushPhone := h.newDevice(t, time.Hour) // pushes only: its poller never ticks
	pollPhone := h.newDevice(t, 50*time.Millisecond)
	pushEvents := launch(t, pushPhone, device.LaunchOptions{Identity: "alice", FriendlyName: "Pixel", PushURL: pushURL})
	pollEvents := launch(t, pollPhone, device.LaunchOptions{Identity: "alice", FriendlyName: "Galaxy"})
	pushFactor := nextEvent(t, pushEvents, device.EventEnrolled).FactorSid
	pollFactor := nextEvent(t, pollEvents, device.EventEnrolled).FactorSid

	create := func(factor, message string) string {
		status, _, body := h.call(http.MethodPost, "/backend/create-challenge",
			url.Values{"identity": {"alice"}, "factor": {factor}, "message": {message}, "details": {`[{"label":"IP","value":"198.51.100.4"}]`}}, "", "")
		if status != http.StatusOK {
			t.Fatalf("create-challenge: %d %s", status, body)
		}
		var c struct{ Sid string }
		json.Unmarshal(body, &c)
		return c.Sid
	}
	toPush := create(pushFactor, "Sign in on the web?")
	toPoll := create(pollFactor, "Pay 20 EUR?")

	// The push phone may list the challenge in the poll it makes when its
	// socket connects before the push lands; either way the push is
	// delivered and acked over its socket.
	got := nextEvent(t, pushEvents, device.EventChallenge)
	if got.ChallengeSid != toPush || got.Message != "Sign in on the web?" {
		t.Fatalf("push phone got %+v", got)
	}
	waitFor(t, func() bool { return countOutboxState(t, h, "push", "done") == 1 })
	got = nextEvent(t, pollEvents, device.EventChallenge)
	if got.ChallengeSid != toPoll || got.Via != device.ViaPoll {
		t.Fatalf("poll phone got %+v", got)
	}
	ctx := context.Background()
	if _, err := pushPhone.UpdateChallenge(ctx, pushFactor, toPush, verifyclient.ChallengeApproved); err != nil {
		t.Fatal(err)
	}
	if _, err := pollPhone.UpdateChallenge(ctx, pollFactor, toPoll, verifyclient.ChallengeDenied); err != nil {
		t.Fatal(err)
	}
	for sid, want := range map[string]string{toPush: "approved", toPoll: "denied"} {
		status, _, body := h.call(http.MethodGet, "/backend/challenge-status?identity="+backend.HashIdentity("alice")+"&sid="+sid, nil, "", "")
		if status != http.StatusOK || !strings.Contains(string(body), `"status":"`+want+`"`) {
			t.Fatalf("backend reads %s: %d %s", sid, status, body)
		}
	}
	// The phone without push registered as platform none, so only one push
	// was ever queued.
	if n := countOutbox(t, h, "push"); n != 1 {
		t.Fatalf("%d pushes queued, want 1", n)
	}
	status, _, body := h.call(http.MethodGet, "/backend/list-factors?identity=alice", nil, "", "")
	if status != http.StatusOK || strings.Count(string(body), `"notification_platform":"none"`) != 1 || strings.Count(string(body), `"notification_platform":"fcm"`) != 1 {
		t.Fatalf("factors: %s", body)
	}
	// And the backend heard both answers through signed webhooks.
	waitFor(t, func() bool {
		var n int
		for _, e := range h.srv.Backend().Events() {
			if e.Valid && (e.Type == "challenge.approved" || e.Type == "challenge.denied") {
				n++
			}
		}
		return n == 2
	})
}

// TestChaosEveryChallengeArrives: while 200 challenges are created for 50
// phones, their push sockets are cut at random. Every challenge still
// reaches its phone, by push or by the poll after reconnecting, and the
// goroutines come back to where they started.
func TestChaosEveryChallengeArrives(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos test")
	}
	baseline := goroutines()
	h := newHarnessWith(t, serverConfigForChaos(), newClock())
	h.run()
	pushURL := "ws" + strings.TrimPrefix(h.srv.URL, "http") + "/push/connect"
	const phones, challenges = 50, 200

	cutter := newConnCutter()
	type phoneState struct {
		dev    *device.Device
		factor string
		events <-chan device.Event
	}
	ps := make([]phoneState, phones)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range ps {
		d := h.newDevice(t, time.Hour) // only push and the poll after a reconnect
		events := d.Subscribe(ctx)
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.Launch(ctx, device.LaunchOptions{Identity: identityFor(i), PushURL: pushURL, Dialer: cutter.dialer()})
		}()
		ps[i] = phoneState{dev: d, events: events}
	}
	for i := range ps {
		ps[i].factor = nextEvent(t, ps[i].events, device.EventEnrolled).FactorSid
	}

	received := make([]map[string]string, phones) // challenge sid -> via
	var mu sync.Mutex
	var collectors sync.WaitGroup
	for i := range ps {
		received[i] = map[string]string{}
		collectors.Add(1)
		go func() {
			defer collectors.Done()
			for e := range ps[i].events {
				if e.Kind == device.EventChallenge {
					mu.Lock()
					if _, dup := received[i][e.ChallengeSid]; dup {
						t.Errorf("phone %d saw %s twice", i, e.ChallengeSid)
					}
					received[i][e.ChallengeSid] = e.Via
					mu.Unlock()
				}
			}
		}()
	}

	want := make([]map[string]bool, phones)
	for i := range want {
		want[i] = map[string]bool{}
	}
	for n := 0; n < challenges; n++ {
		i := n % phones
		status, _, body := h.call(http.MethodPost, "/backend/create-challenge",
			url.Values{"identity": {identityFor(i)}, "factor": {ps[i].factor}, "message": {"chaos"}}, "", "")
		if status != http.StatusOK {
			t.Fatalf("create-challenge: %d %s", status, body)
		}
		var c struct{ Sid string }
		json.Unmarshal(body, &c)
		want[i][c.Sid] = true
		if n%3 == 0 {
			cutter.cutRandom()
		}
	}
	waitFor(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for i := range want {
			for sid := range want[i] {
				if _, ok := received[i][sid]; !ok {
					return false
				}
			}
		}
		return true
	})
	mu.Lock()
	var byPush, byPoll int
	for i := range received {
		for _, via := range received[i] {
			if via == device.ViaPush {
				byPush++
			} else {
				byPoll++
			}
		}
	}
	mu.Unlock()
	t.Logf("%d challenges: %d by push, %d by poll; %d sockets cut", challenges, byPush, byPoll, cutter.cuts())
	if cutter.cuts() == 0 {
		t.Fatal("no socket was cut")
	}

	cancel()
	wg.Wait()
	collectors.Wait()
	h.close()
	waitFor(t, func() bool { return goroutines() <= baseline+2 })
}

func identityFor(i int) string {
	return "chaos-user-" + string(rune('a'+i/26)) + string(rune('a'+i%26))
}
