package device

import (
	"context"
	"testing"
	"time"

	"github.com/pushsim/pushsim/device/internal/fakeverify"
)

// count401s is how many times the server has refused a device JWT.
func count401s(srv *fakeverify.Server) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Status == 401 {
			n++
		}
	}
	return n
}

// TestClockOffsetIsSavedWithItsCorrection: the offset survives a restart
// together with the correction learned under it, and a new offset clears
// that correction at once, on disk too, so neither a restart nor a cleared
// offset leaves the phone applying a correction for a clock it no longer
// has.
func TestClockOffsetIsSavedWithItsCorrection(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t)
	home := t.TempDir() + "/phone"
	p := newPhone(t, srv, home, 0)
	f := p.enroll(t, "olga-0001")
	if err := p.SetClockOffset(-20 * time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := p.GetAllChallenges(ctx, f.Sid, ListParams{}); err != nil {
		t.Fatal(err)
	}
	if got := p.TimeCorrection(); got != 1200 {
		t.Fatalf("correction under a -20m offset = %d, want 1200", got)
	}
	refused := count401s(srv)

	restarted := newPhone(t, srv, home, 0)
	if got := restarted.ClockOffset(); got != -20*time.Minute {
		t.Fatalf("offset after restart = %s, want -20m0s", got)
	}
	if got := restarted.TimeCorrection(); got != 1200 {
		t.Fatalf("correction after restart = %d, want 1200", got)
	}
	if got, want := restarted.Now(), srv.Now().Add(-20*time.Minute); !got.Equal(want) {
		t.Fatalf("the restarted phone's clock reads %s, want %s", got, want)
	}
	if _, err := restarted.GetAllChallenges(ctx, f.Sid, ListParams{}); err != nil {
		t.Fatal(err)
	}
	if n := count401s(srv); n != refused {
		t.Fatalf("the restarted phone needed %d more corrections", n-refused)
	}

	// Clearing the offset clears the correction learned under it.
	if err := restarted.SetClockOffset(0); err != nil {
		t.Fatal(err)
	}
	if got := restarted.TimeCorrection(); got != 0 {
		t.Fatalf("correction after clearing the offset = %d, want 0", got)
	}
	again := newPhone(t, srv, home, 0)
	if got, corr := again.ClockOffset(), again.TimeCorrection(); got != 0 || corr != 0 {
		t.Fatalf("after clearing and a restart: offset %s, correction %d; want 0 and 0", got, corr)
	}
	if _, err := again.GetAllChallenges(ctx, f.Sid, ListParams{}); err != nil {
		t.Fatal(err)
	}
	if n := count401s(srv); n != refused {
		t.Fatalf("a phone with a right clock was refused %d times", n-refused)
	}

	// Setting the offset it already has keeps what it learned.
	if err := again.SetClockOffset(time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := again.GetAllChallenges(ctx, f.Sid, ListParams{}); err != nil {
		t.Fatal(err)
	}
	if err := again.SetClockOffset(time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := again.TimeCorrection(); got != -3600 {
		t.Fatalf("re-setting the same offset changed the correction to %d", got)
	}
}

// TestNewClockOffsetPollsAtOnce: after the clock changes, the phone polls
// without waiting for its interval, so the poll's 401 teaches it the new
// correction before it judges expiry with a clock it cannot trust.
func TestNewClockOffsetPollsAtOnce(t *testing.T) {
	srv := newServer(t)
	p := newPhone(t, srv, t.TempDir()+"/phone", 0)
	f := p.enroll(t, "pia-0001")
	p.drain(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx)
	if e := p.next(t); e.Kind != EventReady {
		t.Fatalf("got %+v", e)
	}
	sid := srv.CreateChallenge(f.Sid, "hello", fakeverify.ChallengeOptions{})
	if err := p.SetClockOffset(10 * time.Minute); err != nil {
		t.Fatal(err)
	}
	e := p.next(t)
	if e.Kind != EventChallenge || e.ChallengeSid != sid {
		t.Fatalf("got %+v, want the challenge from an immediate poll", e)
	}
	if got := p.TimeCorrection(); got != -600 {
		t.Fatalf("correction = %d, want -600", got)
	}
	if !e.Time.Equal(srv.Now().Truncate(time.Second)) {
		t.Fatalf("event stamped %s by the corrected clock, want the server's %s", e.Time, srv.Now())
	}
}
