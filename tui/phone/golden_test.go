package phone

import (
	"fmt"
	"testing"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/tui/internal/tuitest"
)

// Goldens are the phone's screens at the two sizes the issue names, drawn
// from fixed data with a fixed clock and no colour. Refresh them with
// go test ./tui/phone -run TestGolden -update.
func TestGolden(t *testing.T) {
	screens := []struct {
		name  string
		setup func(t *testing.T, p *Phone, clock *testClock)
	}{
		{"empty_factor_list", func(t *testing.T, p *Phone, clock *testClock) {
			p.Update(factorsLoadedMsg{tagged: p.c.tag()})
		}},
		{"inbox", func(t *testing.T, p *Phone, clock *testClock) {
			openInbox(p, clock)
		}},
		{"challenge_detail", func(t *testing.T, p *Phone, clock *testClock) {
			openInbox(p, clock)
			p.Update(tuitest.Press("enter"))
			p.Update(openChallengeMsg{tagged: p.c.tag(), factorSid: tuitest.FactorSid, challengeSid: tuitest.Challenges(clock.Now())[0].Sid})
			p.Update(tuitest.Press("h"))
		}},
		{"settings", func(t *testing.T, p *Phone, clock *testClock) {
			loadFixtureFactor(p)
			p.Update(openSettingsMsg{tagged: p.c.tag()})
			p.Update(tuitest.Press("down"))
		}},
		{"http_log", func(t *testing.T, p *Phone, clock *testClock) {
			fillLog(t, p, clock)
			p.Update(openLogMsg{tagged: p.c.tag()})
		}},
		{"http_log_exchange", func(t *testing.T, p *Phone, clock *testClock) {
			fillLog(t, p, clock)
			p.Update(openLogMsg{tagged: p.c.tag()})
			p.Update(tuitest.Press("down"))
			p.Update(tuitest.Press("enter"))
		}},
	}
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		for _, sc := range screens {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, size[0], size[1]), func(t *testing.T) {
				clock := newTestClock()
				d := newTestDevice(t, nil, clock.Now, nil)
				d.SetForeground(true)
				p := newTestPhone(t, d, Options{})
				p.SetSize(size[0], size[1])
				sc.setup(t, p, clock)
				golden.RequireEqual(t, tuitest.ASCII(p.View()))
			})
		}
	}
}

func loadFixtureFactor(p *Phone) {
	p.Update(factorsLoadedMsg{tagged: p.c.tag(), factors: []device.Factor{tuitest.Factor()}, silent: map[string]bool{}})
}

// openInbox shows alice's factor with its three challenges.
func openInbox(p *Phone, clock *testClock) {
	loadFixtureFactor(p)
	p.Update(openFactorMsg{tagged: p.c.tag(), factorSid: tuitest.FactorSid})
	p.Update(challengesLoadedMsg{tagged: p.c.tag(), factorSid: tuitest.FactorSid, challenges: tuitest.Challenges(clock.Now())})
}

func fillLog(t *testing.T, p *Phone, clock *testClock) {
	for _, e := range tuitest.Exchanges(t, clock.Now()) {
		p.Device().Exchanges().RecordAt(e.At, e.Exchange)
	}
}
