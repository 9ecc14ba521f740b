package phone

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/verifyclient"
	"github.com/pushsim/pushsim/tui/internal/tuitest"
)

// firstFrame is a terminal that reports when the phone's outline has been
// drawn completely for the first time.
type firstFrame struct {
	mu   sync.Mutex
	seen strings.Builder
	done chan struct{}
	once sync.Once
}

func (f *firstFrame) Write(b []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen.Write(b)
	if strings.Contains(f.seen.String(), "╯") {
		f.once.Do(func() { close(f.done) })
	}
	return len(b), nil
}

// BenchmarkStartToFirstFrame is the time from building the phone to the
// terminal holding its first complete frame, through a real program.
func BenchmarkStartToFirstFrame(b *testing.B) {
	clock := newTestClock()
	d := newTestDevice(b, nil, clock.Now, nil)
	for b.Loop() {
		p, err := New(d, Options{NoLaunch: true})
		if err != nil {
			b.Fatal(err)
		}
		out := &firstFrame{done: make(chan struct{})}
		prog := tea.NewProgram(NewModel(p),
			tea.WithInput(nil), tea.WithOutput(out), tea.WithWindowSize(80, 24),
			tea.WithColorProfile(colorprofile.ASCII), tea.WithoutSignals())
		finished := make(chan struct{})
		go func() { prog.Run(); close(finished) }()
		select {
		case <-out.done:
		case <-time.After(5 * time.Second):
			b.Fatal("no frame after 5s")
		}
		prog.Quit()
		<-finished
		p.Close()
	}
}

// BenchmarkInboxView1000 draws a factor's inbox holding 1,000 challenges.
func BenchmarkInboxView1000(b *testing.B) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		b.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(b *testing.B) {
			clock := newTestClock()
			d := newTestDevice(b, nil, clock.Now, nil)
			p := newTestPhone(b, d, Options{})
			p.SetSize(size[0], size[1])
			loadFixtureFactor(p)
			p.Update(openFactorMsg{tagged: p.c.tag(), factorSid: tuitest.FactorSid})
			p.Update(challengesLoadedMsg{tagged: p.c.tag(), factorSid: tuitest.FactorSid, challenges: manyChallenges(clock.Now(), 1000)})
			if n := len(p.c.inbox.byFactor[tuitest.FactorSid]); n != 1000 {
				b.Fatalf("inbox holds %d", n)
			}
			for b.Loop() {
				_ = p.View()
			}
		})
	}
}

// manyChallenges is n challenges a minute apart, every tenth pending.
func manyChallenges(now time.Time, n int) []device.Challenge {
	out := make([]device.Challenge, n)
	for i := range out {
		created := now.Add(-time.Duration(i) * time.Minute)
		status := verifyclient.ChallengeApproved
		if i%10 == 0 {
			status, created = verifyclient.ChallengePending, now.Add(-time.Duration(i)*time.Second)
		}
		out[i] = device.Challenge{
			Sid: fmt.Sprintf("YC%032x", i), FactorSid: tuitest.FactorSid, Status: status,
			Details:   verifyclient.Details{Message: fmt.Sprintf("Log in to Acme? #%d", i)},
			CreatedAt: created, UpdatedAt: created, ExpirationDate: created.Add(5 * time.Minute),
		}
	}
	return out
}
