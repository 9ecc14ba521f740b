package tui

import (
	"fmt"
	"testing"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/pushsim/pushsim/device"
)

// Goldens are the phone's screens at the two sizes the issue names, drawn
// from fixed data with a fixed clock and no colour. Refresh them with
// go test ./tui -run TestGolden -update.
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
			p.Update(press("enter"))
			p.Update(openChallengeMsg{tagged: p.c.tag(), factorSid: fixtureFactorSid, challengeSid: fixtureChallenges(clock.Now())[0].Sid})
			p.Update(press("h"))
		}},
		{"settings", func(t *testing.T, p *Phone, clock *testClock) {
			loadFixtureFactor(p)
			p.Update(openSettingsMsg{tagged: p.c.tag()})
			p.Update(press("down"))
		}},
		{"http_log", func(t *testing.T, p *Phone, clock *testClock) {
			fillLog(t, p, clock)
			p.Update(openLogMsg{tagged: p.c.tag()})
		}},
		{"http_log_exchange", func(t *testing.T, p *Phone, clock *testClock) {
			fillLog(t, p, clock)
			p.Update(openLogMsg{tagged: p.c.tag()})
			p.Update(press("down"))
			p.Update(press("enter"))
		}},
	}
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		for _, sc := range screens {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, size[0], size[1]), func(t *testing.T) {
				clock := newTestClock()
				log := NewExchangeLog(0, clock.Now)
				d := newTestDevice(t, nil, clock.Now, nil, nil)
				d.SetForeground(true)
				p := newTestPhone(t, d, clock, PhoneOptions{Log: log, PollTicker: NewPollTicker(5e9)})
				p.SetSize(size[0], size[1])
				sc.setup(t, p, clock)
				golden.RequireEqual(t, render(p))
			})
		}
	}
}

func loadFixtureFactor(p *Phone) {
	p.Update(factorsLoadedMsg{tagged: p.c.tag(), factors: []device.Factor{fixtureFactor()}, silent: map[string]bool{}})
}

// openInbox shows alice's factor with its three challenges.
func openInbox(p *Phone, clock *testClock) {
	loadFixtureFactor(p)
	p.Update(openFactorMsg{tagged: p.c.tag(), factorSid: fixtureFactorSid})
	p.Update(challengesLoadedMsg{tagged: p.c.tag(), factorSid: fixtureFactorSid, challenges: fixtureChallenges(clock.Now())})
}

func fillLog(t *testing.T, p *Phone, clock *testClock) {
	for _, e := range fixtureExchanges(t, clock.Now()) {
		p.c.log.add(e)
	}
}
