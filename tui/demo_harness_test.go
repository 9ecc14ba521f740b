package tui

import (
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/pushsim/pushsim/server"
)

// demoRun is the real demo program against an in-process server, driven
// through teatest like a terminal.
type demoRun struct {
	t     *testing.T
	srv   *testServer
	probe *demoProbe
	tm    *teatest.TestModel
}

// demoProbe wraps the demo and, after every message, copies what the test
// waits on: each pane's text and the state behind it. Copies are taken on
// the program's goroutine, so the test never touches the live model.
type demoProbe struct {
	*Demo
	mu    sync.Mutex
	snap  demoSnapshot
	dirty bool
}

type demoSnapshot struct {
	focus      int
	left       string
	phones     []string
	badges     []int
	tops       []screenKind
	banners    []bool
	prompts    []bool
	pending    []string // each phone's newest pending challenge
	selected   []string // the challenge under each phone's inbox cursor
	code       string
	newest     string            // console: the newest challenge's SID
	statuses   map[string]string // console: challenge SID → status word
	tourAt     int
	tourStates []tourState
	tourCalls  []LoggedExchange
}

func (m *demoProbe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := m.Demo.Update(msg)
	s := demoSnapshot{focus: m.focus, statuses: map[string]string{}}
	if m.console != nil {
		s.left = plain(m.console.View())
		s.code = m.console.code
		for _, ch := range m.console.challenges {
			s.statuses[ch.Sid] = m.console.statusWord(ch)
		}
		if len(m.console.challenges) > 0 {
			s.newest = m.console.challenges[0].Sid
		}
	}
	if m.tour != nil {
		s.left = plain(m.tour.View())
		s.tourAt = m.tour.at
		for _, r := range m.tour.results {
			s.tourStates = append(s.tourStates, r.state)
			s.tourCalls = append(s.tourCalls, r.exchanges...)
		}
	}
	for _, p := range m.phones {
		s.phones = append(s.phones, plain(p.View()))
		s.badges = append(s.badges, p.c.inbox.pendingCount(p.c.verifyNow()))
		s.tops = append(s.tops, p.top().kind())
		s.banners = append(s.banners, p.banner.visible)
		s.prompts = append(s.prompts, p.numbers != nil)
		pending, selected := "", ""
		for _, ch := range p.c.inbox.challenges {
			if isPending(ch, p.c.verifyNow()) && (pending == "" || ch.CreatedAt.After(p.c.inbox.challenges[pending].CreatedAt)) {
				pending = ch.Sid
			}
		}
		if f, ok := p.top().(*factorScreen); ok {
			selected = f.selectedSid
		}
		s.pending, s.selected = append(s.pending, pending), append(s.selected, selected)
	}
	m.mu.Lock()
	m.snap = s
	m.mu.Unlock()
	return m, cmd
}

func (m *demoProbe) now() demoSnapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.snap
}

// startDemo runs the demo with o (server, home and colour filled in) on a
// size terminal.
func startDemo(t *testing.T, o DemoOptions, width, height int) *demoRun {
	t.Helper()
	srv := newTestServer(t, nil)
	o.ServerURL, o.Home, o.NoColor = srv.srv.URL, t.TempDir(), true
	o.AccountSid, o.AuthToken = server.TestAccountSid, server.TestAuthToken
	d, err := NewDemo(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	probe := &demoProbe{Demo: d}
	tm := teatest.NewTestModel(t, probe,
		teatest.WithInitialTermSize(width, height),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.ASCII)))
	t.Cleanup(func() { tm.Quit() })
	return &demoRun{t: t, srv: srv, probe: probe, tm: tm}
}

// until waits for cond on the latest snapshot.
func (r *demoRun) until(what string, cond func(s demoSnapshot) bool) demoSnapshot {
	r.t.Helper()
	var last demoSnapshot
	ok := false
	deadline := time.Now().Add(10 * time.Second)
	teatest.WaitFor(r.t, r.tm.Output(), func([]byte) bool {
		last = r.probe.now()
		ok = cond(last)
		return ok || time.Now().After(deadline)
	}, teatest.WithDuration(11*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	if !ok {
		r.t.Fatalf("timed out waiting for %s; screen:\n%s\n%s", what, last.left, strings.Join(last.phones, "\n"))
	}
	return last
}

func (r *demoRun) keys(keys ...string) {
	for _, k := range keys {
		r.tm.Send(press(k))
	}
}

// enrolled waits until every phone is enrolled and the console knows the
// identity it sends Verify.
func (r *demoRun) enrolled() {
	r.t.Helper()
	r.until("the phones to enroll", func(s demoSnapshot) bool {
		for _, p := range s.phones {
			if !strings.Contains(p, "verified") {
				return false
			}
		}
		return r.probe.console == nil || strings.Contains(s.left, "2bd806")
	})
}

// openPendingChallenge opens the pending challenge on phone i with keys:
// back to the factor list, into the factor's inbox, down to its row.
func (r *demoRun) openPendingChallenge(i int) {
	r.t.Helper()
	r.focus(i + 1)
	target := r.until("a pending challenge on the phone", func(s demoSnapshot) bool { return s.pending[i] != "" }).pending[i]
	for {
		s := r.probe.now()
		if s.tops[i] == screenFactors && !s.banners[i] {
			break
		}
		// esc closes, in turn, an error bar, the banner and each screen.
		r.keys("esc")
		r.until("the phone to take esc", func(n demoSnapshot) bool { return n.phones[i] != s.phones[i] })
	}
	r.keys("enter")
	s := r.until("the factor's inbox", func(s demoSnapshot) bool { return s.tops[i] == screenFactor && s.selected[i] != "" })
	r.keys("g")
	for n := 0; s.selected[i] != target; n++ {
		if n > 10 {
			r.t.Fatalf("challenge %s is not in the inbox", target)
		}
		r.keys("down")
		prev := s.selected[i]
		s = r.until("the cursor to move", func(s demoSnapshot) bool { return s.selected[i] != prev })
	}
	r.keys("enter")
	r.until("the challenge", func(s demoSnapshot) bool {
		return s.tops[i] == screenChallenge && strings.Contains(s.phones[i], "Approve")
	})
}

// focus moves the keyboard to pane n (0 the left pane) with tab.
func (r *demoRun) focus(n int) {
	r.t.Helper()
	panes := len(r.probe.phones) + 1
	for f := r.probe.now().focus; f != n; f = (f + 1) % panes {
		r.tm.Send(tea.KeyPressMsg{Code: tea.KeyTab})
		want := (f + 1) % panes
		r.until("the focus to move", func(s demoSnapshot) bool { return s.focus == want })
	}
}

// signIn presses a console sign-in key, waits for want and returns the
// snapshot once the new challenge is listed (newest).
func (r *demoRun) signIn(key, want string) demoSnapshot {
	r.t.Helper()
	before := r.probe.now().newest
	r.action(key, want)
	return r.until("the new challenge in the list", func(s demoSnapshot) bool { return s.newest != "" && s.newest != before })
}

// action presses a console key and waits for the console to show want.
func (r *demoRun) action(key, want string) demoSnapshot {
	r.t.Helper()
	r.focus(0)
	r.keys(key)
	return r.until(want, func(s demoSnapshot) bool { return strings.Contains(s.left, want) })
}
