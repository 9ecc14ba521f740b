package demo

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/verifyclient"
	"github.com/pushsim/pushsim/internal/backendclient"
	"github.com/pushsim/pushsim/server"
	"github.com/pushsim/pushsim/server/servertest"
	"github.com/pushsim/pushsim/tui/console"
	"github.com/pushsim/pushsim/tui/internal/tuitest"
	"github.com/pushsim/pushsim/tui/tour"
)

// offlineDemo is a demo that has not started: Init never runs, so nothing
// goes to the server, and the test feeds it what the server would say.
func offlineDemo(t *testing.T, o Options) (*Model, *servertest.Clock) {
	t.Helper()
	clock := servertest.NewClock(tuitest.Start)
	o.ServerURL, o.Home, o.Clock, o.NoColor = "http://127.0.0.1:4010", t.TempDir(), clock.Now, true
	o.AccountSid, o.AuthToken = server.TestAccountSid, server.TestAuthToken
	d, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d, clock
}

// fixtureConsole is what the console knows after a sign-in was approved
// and a number-matching one is waiting, with its webhooks.
func fixtureConsole(now time.Time) console.RefreshedMsg {
	mk := func(n int, status string, created time.Time, code string) backendclient.Challenge {
		ch := backendclient.Challenge{Sid: fmt.Sprintf("YC%032x", n), FactorSid: tuitest.FactorSid, Status: status, RespondedReason: "none",
			DateCreated: created, ExpirationDate: created.Add(5 * time.Minute)}
		ch.Details.Message = "Sign in to Acme?"
		ch.Details.Fields = append(ch.Details.Fields, struct {
			Label string `json:"label"`
			Value string `json:"value"`
		}{"Location", "Lisbon, Portugal"})
		if code != "" {
			ch.HiddenDetails = map[string]string{device.NumberMatchKey: code}
		}
		return ch
	}
	event := func(kind, subject string, at time.Time) backendclient.WebhookEvent {
		key := "factor_sid"
		if strings.HasPrefix(kind, "challenge") {
			key = "challenge_sid"
		}
		return backendclient.WebhookEvent{Received: at, Valid: true, Type: kind, Params: map[string]string{"entity_identity": tuitest.Identity, key: subject}}
	}
	return console.RefreshedMsg{
		Factors: []backendclient.Factor{{Sid: tuitest.FactorSid, FriendlyName: "alice's phone", Status: verifyclient.FactorVerified}},
		Challenges: []backendclient.Challenge{
			mk(2, verifyclient.ChallengePending, now.Add(-12*time.Second), "42"),
			mk(1, verifyclient.ChallengeApproved, now.Add(-2*time.Minute), ""),
		},
		Events: []backendclient.WebhookEvent{
			event("factor.created", tuitest.FactorSid, now.Add(-5*time.Minute)),
			event("factor.verified", tuitest.FactorSid, now.Add(-5*time.Minute)),
			event("challenge.approved", fmt.Sprintf("YC%032x", 1), now.Add(-110*time.Second)),
		},
	}
}

// TestDemoGolden is the split screen at the two sizes the phone's goldens
// use: the console after a number-matching sign-in, the phone asking for
// the number, one digit typed. Refresh with go test ./tui/demo -run
// TestDemoGolden -update.
func TestDemoGolden(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		t.Run(fmt.Sprintf("number_match_%dx%d", size[0], size[1]), func(t *testing.T) {
			d, clock := offlineDemo(t, Options{})
			d.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			state := fixtureConsole(clock.Now())
			d.Update(console.HashedMsg{Hashed: tuitest.Identity})
			d.Update(console.SignedInMsg{Kind: console.SignInNumberMatch, Attempts: [][]backendclient.Challenge{{state.Challenges[0]}}})
			d.Update(state)

			p := d.phones[0]
			newest := state.Challenges[0]
			pending := device.Challenge{
				Sid: newest.Sid, FactorSid: tuitest.FactorSid, Status: verifyclient.ChallengePending,
				Details:       verifyclient.Details{Message: "Sign in to Acme?", Fields: []verifyclient.Field{{Label: "Location", Value: "Lisbon, Portugal"}}},
				HiddenDetails: map[string]string{device.NumberMatchKey: "42"},
				CreatedAt:     newest.DateCreated, UpdatedAt: newest.DateCreated, ExpirationDate: newest.ExpirationDate,
			}
			p.Preload([]device.Factor{tuitest.Factor()}, pending)
			p.OpenChallenge(tuitest.FactorSid, pending.Sid)
			p.Approve(tuitest.FactorSid, pending.Sid)
			d.Update(tea.KeyPressMsg{Code: tea.KeyTab})
			d.Update(tuitest.Press("4"))
			golden.RequireEqual(t, tuitest.ASCII(d.render()))
		})
	}
}

// TestDemoTwoPhonesGolden is `demo --phones 2` at the two sizes the help
// names: one sign-in pushed to both phones, the keyboard on the second.
// At 80×24 the phones take turns under tabs beside the console; at 120×40
// they are stacked. Refresh with go test ./tui/demo -run
// TestDemoTwoPhonesGolden -update.
func TestDemoTwoPhonesGolden(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			d, clock := offlineDemo(t, Options{Phones: 2})
			d.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			now := clock.Now()
			factorSids := []string{tuitest.FactorSid, "YF00000000000000000000000000000002"}
			var challenges []backendclient.Challenge
			var factors []backendclient.Factor
			for i, p := range d.phones {
				f := tuitest.Factor()
				f.Sid, f.FriendlyName = factorSids[i], fmt.Sprintf("alice's phone %d", i+1)
				ch := backendclient.Challenge{Sid: fmt.Sprintf("YC%032x", i+1), FactorSid: f.Sid, Status: verifyclient.ChallengePending,
					RespondedReason: "none", DateCreated: now.Add(-5 * time.Second), ExpirationDate: now.Add(295 * time.Second)}
				ch.Details.Message = "Sign in to Acme?"
				challenges = append(challenges, ch)
				factors = append(factors, backendclient.Factor{Sid: f.Sid, FriendlyName: f.FriendlyName, Status: verifyclient.FactorVerified})
				p.Preload([]device.Factor{f}, device.Challenge{
					Sid: ch.Sid, FactorSid: f.Sid, Status: verifyclient.ChallengePending,
					Details:   verifyclient.Details{Message: "Sign in to Acme?"},
					CreatedAt: ch.DateCreated, UpdatedAt: ch.DateCreated, ExpirationDate: ch.ExpirationDate,
				})
			}
			d.Update(console.HashedMsg{Hashed: tuitest.Identity})
			d.Update(console.SignedInMsg{Kind: console.SignInPlain, Tries: 1, Attempts: [][]backendclient.Challenge{challenges}})
			d.Update(console.RefreshedMsg{Factors: factors, Challenges: challenges})
			d.Update(tea.KeyPressMsg{Code: tea.KeyTab})
			d.Update(tea.KeyPressMsg{Code: tea.KeyTab})
			golden.RequireEqual(t, tuitest.ASCII(d.render()))
		})
	}
}

// TestTourGolden is a tour step after it ran: its explanation, notes and
// the exchanges it made.
func TestTourGolden(t *testing.T) {
	d, clock := offlineDemo(t, Options{Tour: startStage(t)})
	d.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	const approveStep = 7 // "The user approves"
	d.tour.ShowSample(approveStep, tour.Sample{
		ChallengeSid: "YC00000000000000000000000000000003", Expires: clock.Now().Add(5 * time.Minute), Answer: "approved",
		Exchanges: map[int][]device.LoggedExchange{approveStep: tuitest.Exchanges(t, clock.Now())[1:3]},
	})
	golden.RequireEqual(t, tuitest.ASCII(d.render()))
}

// TestDemoFaultsGolden is the console with faults on, at the two sizes:
// its sections headed by the faults in force, and the faults panel with
// the cursor on a choice not yet applied. Refresh with go test ./tui/demo
// -run TestDemoFaultsGolden -update.
func TestDemoFaultsGolden(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		for _, view := range []string{"line", "panel"} {
			t.Run(fmt.Sprintf("%s_%dx%d", view, size[0], size[1]), func(t *testing.T) {
				d, clock := offlineDemo(t, Options{})
				d.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
				state := fixtureConsole(clock.Now())
				state.Faults = &backendclient.Faults{
					Push:    []backendclient.PushFault{{Mode: backendclient.PushDelay, Delay: 30 * time.Second}},
					Webhook: &backendclient.WebhookFault{Mode: backendclient.WebhookStatus, Status: 500},
				}
				state.Clock = &backendclient.ServerClock{Now: clock.Now().Add(time.Minute), Offset: time.Minute}
				d.Update(console.HashedMsg{Hashed: tuitest.Identity})
				d.Update(state)
				d.phones[0].Preload([]device.Factor{tuitest.Factor()})
				if view == "panel" {
					d.Update(tuitest.Press("f"))
					d.Update(tuitest.Press("down"))
					d.Update(tuitest.Press("right"))
				}
				golden.RequireEqual(t, tuitest.ASCII(d.render()))
			})
		}
	}
}
