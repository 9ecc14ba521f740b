package demo

import (
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/pushsim/pushsim/internal/tourstage"
	"github.com/pushsim/pushsim/server"
	"github.com/pushsim/pushsim/server/servertest"
	"github.com/pushsim/pushsim/tui/console"
	"github.com/pushsim/pushsim/tui/internal/tuitest"
	"github.com/pushsim/pushsim/tui/phone"
	"github.com/pushsim/pushsim/tui/tour"
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
// waits on: each pane's text and what the panes report of themselves.
// Copies are taken on the program's goroutine, so the test never touches
// the live model.
type demoProbe struct {
	*Model
	mu   sync.Mutex
	snap demoSnapshot
}

type demoSnapshot struct {
	focus   int
	frame   string // the whole screen, as the terminal shows it
	leftBox box    // where the left pane is on it
	left    string
	phones  []phoneSnapshot
	console console.State
	tour    tour.Progress
}

// phoneSnapshot is one phone's frame and state.
type phoneSnapshot struct {
	frame string
	phone.State
}

func (m *demoProbe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := m.Model.Update(msg)
	s := demoSnapshot{focus: m.focus, frame: tuitest.Plain(m.render()), leftBox: m.left}
	if m.console != nil {
		s.left = tuitest.Plain(m.console.View())
		s.console = m.console.State()
	}
	if m.tour != nil {
		s.left = tuitest.Plain(m.tour.View())
		s.tour = m.tour.Progress()
	}
	for _, p := range m.phones {
		s.phones = append(s.phones, phoneSnapshot{frame: tuitest.Plain(p.View()), State: p.State()})
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

// testServer is a pushsim server in the test process.
type testServer struct {
	t   *testing.T
	srv *servertest.Server
}

func newTestServer(t *testing.T) *testServer {
	return &testServer{t: t, srv: servertest.Start(t, servertest.Options{})}
}

// challengeStatus is what the backend reads for a user's challenge.
func (s *testServer) challengeStatus(user, sid string) string {
	s.t.Helper()
	return s.srv.ChallengeStatus(s.t, user, sid)
}

// startStage starts the tour's stage for one test.
func startStage(t *testing.T) *tourstage.Stage {
	t.Helper()
	stage, err := tourstage.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stage.Close() })
	return stage
}

// startDemo runs the demo with o (server, home and colour filled in) on a
// size terminal.
func startDemo(t *testing.T, o Options, width, height int) *demoRun {
	t.Helper()
	return runDemo(t, newTestServer(t), o, width, height)
}

// runDemo runs the demo against srv with o (server, home, colour and the
// account filled in) on a width × height terminal.
func runDemo(t *testing.T, srv *testServer, o Options, width, height int) *demoRun {
	t.Helper()
	o.ServerURL, o.Home, o.NoColor = srv.srv.URL, t.TempDir(), true
	o.AccountSid, o.AuthToken = server.TestAccountSid, server.TestAuthToken
	d, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	probe := &demoProbe{Model: d}
	tm := teatest.NewTestModel(t, probe,
		teatest.WithInitialTermSize(width, height),
		teatest.WithProgramOptions(append(d.programOptions(), tea.WithColorProfile(colorprofile.ASCII))...))
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
		var frames []string
		for _, p := range last.phones {
			frames = append(frames, p.frame)
		}
		r.t.Fatalf("timed out waiting for %s; screen:\n%s\n%s", what, last.left, strings.Join(frames, "\n"))
	}
	return last
}

func (r *demoRun) keys(keys ...string) {
	for _, k := range keys {
		r.tm.Send(tuitest.Press(k))
	}
}

// enrolled waits until every phone is enrolled and the console knows the
// identity it sends Verify.
func (r *demoRun) enrolled() {
	r.t.Helper()
	r.until("the phones to enroll", func(s demoSnapshot) bool {
		for _, p := range s.phones {
			if !strings.Contains(p.frame, "verified") {
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
	target := r.until("a pending challenge on the phone", func(s demoSnapshot) bool { return s.phones[i].NewestPending != "" }).phones[i].NewestPending
	for {
		s := r.probe.now()
		if s.phones[i].Screen == phone.ScreenFactors && !s.phones[i].Banner {
			break
		}
		// esc closes, in turn, an error bar, the banner and each screen.
		r.keys("esc")
		r.until("the phone to take esc", func(n demoSnapshot) bool { return n.phones[i].frame != s.phones[i].frame })
	}
	r.keys("enter")
	s := r.until("the factor's inbox", func(s demoSnapshot) bool {
		return s.phones[i].Screen == phone.ScreenFactor && s.phones[i].Selected != ""
	})
	r.keys("g")
	for n := 0; s.phones[i].Selected != target; n++ {
		if n > 10 {
			r.t.Fatalf("challenge %s is not in the inbox", target)
		}
		r.keys("down")
		prev := s.phones[i].Selected
		s = r.until("the cursor to move", func(s demoSnapshot) bool { return s.phones[i].Selected != prev })
	}
	r.keys("enter")
	r.until("the challenge", func(s demoSnapshot) bool {
		return s.phones[i].Screen == phone.ScreenChallenge && strings.Contains(s.phones[i].frame, "Approve")
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
	before := r.probe.now().console.Newest
	r.action(key, want)
	return r.until("the new challenge in the list", func(s demoSnapshot) bool { return s.console.Newest != "" && s.console.Newest != before })
}

// action presses a console key and waits for the console to show want.
func (r *demoRun) action(key, want string) demoSnapshot {
	r.t.Helper()
	r.focus(0)
	r.keys(key)
	return r.until(want, func(s demoSnapshot) bool { return strings.Contains(s.left, want) })
}
