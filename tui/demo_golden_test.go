package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/verifyclient"
	"github.com/pushsim/pushsim/server"
)

// offlineDemo is a demo that has not started: Init never runs, so nothing
// goes to the server, and the test feeds it what the server would say.
func offlineDemo(t *testing.T, o DemoOptions) (*Demo, *testClock) {
	t.Helper()
	clock := newTestClock()
	o.ServerURL, o.Home, o.Clock, o.NoColor = "http://127.0.0.1:4010", t.TempDir(), clock.Now, true
	o.AccountSid, o.AuthToken = server.TestAccountSid, server.TestAuthToken
	d, err := NewDemo(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d, clock
}

// renderDemo is a frame as a terminal pinned to the ASCII profile shows it.
func renderDemo(d *Demo) string {
	var sb strings.Builder
	w := &colorprofile.Writer{Forward: &sb, Profile: colorprofile.ASCII}
	w.WriteString(d.render())
	return sb.String()
}

// fixtureConsole is what the console knows after a sign-in was approved
// and a number-matching one is waiting, with its webhooks.
func fixtureConsole(now time.Time) consoleRefreshedMsg {
	mk := func(n int, status string, created time.Time, code string) backendChallenge {
		ch := backendChallenge{Sid: fmt.Sprintf("YC%032x", n), FactorSid: fixtureFactorSid, Status: status, RespondedReason: "none",
			DateCreated: created, ExpirationDate: created.Add(5 * time.Minute)}
		ch.Details.Message = "Sign in to Acme?"
		ch.Details.Fields = append(ch.Details.Fields, struct {
			Label string `json:"label"`
			Value string `json:"value"`
		}{"Location", userSignIn.location})
		if code != "" {
			ch.HiddenDetails = map[string]string{device.NumberMatchKey: code}
		}
		return ch
	}
	event := func(kind, subject string, at time.Time) webhookEvent {
		key := "factor_sid"
		if strings.HasPrefix(kind, "challenge") {
			key = "challenge_sid"
		}
		return webhookEvent{Received: at, Valid: true, Type: kind, Params: map[string]string{"entity_identity": fixtureIdentity, key: subject}}
	}
	return consoleRefreshedMsg{
		factors: []backendFactor{{Sid: fixtureFactorSid, FriendlyName: "alice's phone", Status: verifyclient.FactorVerified}},
		challenges: []backendChallenge{
			mk(2, verifyclient.ChallengePending, now.Add(-12*time.Second), "42"),
			mk(1, verifyclient.ChallengeApproved, now.Add(-2*time.Minute), ""),
		},
		events: []webhookEvent{
			event("factor.created", fixtureFactorSid, now.Add(-5*time.Minute)),
			event("factor.verified", fixtureFactorSid, now.Add(-5*time.Minute)),
			event("challenge.approved", fmt.Sprintf("YC%032x", 1), now.Add(-110*time.Second)),
		},
	}
}

// TestDemoGolden is the split screen at the two sizes the phone's goldens
// use: the console after a number-matching sign-in, the phone asking for
// the number, one digit typed. Refresh with go test ./tui -run
// TestDemoGolden -update.
func TestDemoGolden(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		t.Run(fmt.Sprintf("number_match_%dx%d", size[0], size[1]), func(t *testing.T) {
			d, clock := offlineDemo(t, DemoOptions{})
			d.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			state := fixtureConsole(clock.Now())
			d.Update(consoleHashedMsg{hashed: fixtureIdentity})
			d.Update(signedInMsg{kind: signInNumberMatch, attempts: [][]backendChallenge{{state.challenges[0]}}})
			d.Update(state)

			p := d.phones[0]
			pending := device.Challenge{
				Sid: state.challenges[0].Sid, FactorSid: fixtureFactorSid, Status: verifyclient.ChallengePending,
				Details:       verifyclient.Details{Message: "Sign in to Acme?", Fields: []verifyclient.Field{{Label: "Location", Value: userSignIn.location}}},
				HiddenDetails: map[string]string{device.NumberMatchKey: "42"},
				CreatedAt:     state.challenges[0].DateCreated, UpdatedAt: state.challenges[0].DateCreated, ExpirationDate: state.challenges[0].ExpirationDate,
			}
			d.Update(factorsLoadedMsg{tagged: p.c.tag(), factors: []device.Factor{fixtureFactor()}, silent: map[string]bool{}})
			d.Update(challengeLoadedMsg{tagged: p.c.tag(), factorSid: fixtureFactorSid, challengeSid: pending.Sid, challenge: &pending})
			d.Update(openChallengeMsg{tagged: p.c.tag(), factorSid: fixtureFactorSid, challengeSid: pending.Sid})
			d.Update(answerMsg{tagged: p.c.tag(), factorSid: fixtureFactorSid, challengeSid: pending.Sid, status: verifyclient.ChallengeApproved})
			d.Update(tea.KeyPressMsg{Code: tea.KeyTab})
			d.Update(press("4"))
			golden.RequireEqual(t, renderDemo(d))
		})
	}
}

// TestTourGolden is a tour step after it ran: its explanation, notes and
// the exchanges it made.
func TestTourGolden(t *testing.T) {
	d, clock := offlineDemo(t, DemoOptions{Tour: true})
	d.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	tr := d.tour
	tr.at = tourStepApprove
	for i := range tourStepApprove {
		tr.results[i].state = stepDone
	}
	tr.results[tourStepApprove-1] = tourResult{
		state:     stepDone,
		notes:     []string{"The phone approved the challenge."},
		exchanges: fixtureExchanges(t, clock.Now())[1:3],
	}
	golden.RequireEqual(t, renderDemo(d))
}
