package phone

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/tui/internal/tuitest"
)

// probe wraps the program's model and keeps a copy of the last frame as
// plain text, so the test can wait on what the user would see without
// parsing the renderer's cursor movements.
type probe struct {
	*Model
	mu     sync.Mutex
	screen string
}

func (m *probe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := m.Model.Update(msg)
	frame := tuitest.Plain(m.Phone().View())
	m.mu.Lock()
	m.screen = frame
	m.mu.Unlock()
	return m, cmd
}

func (m *probe) shows(s string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return strings.Contains(m.screen, s)
}

// wireWatch sees the phone's traffic at the server: when the push socket
// connects and when its polls are done, so the challenge is created only
// once the phone can only learn of it by push.
type wireWatch struct {
	next http.Handler

	mu        sync.Mutex
	connected bool
	polls     int // polls that started after the socket connected
	inflight  int
	lastDone  time.Time
}

func (w *wireWatch) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	isPoll := r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/Challenges")
	w.mu.Lock()
	if r.URL.Path == "/push/connect" {
		w.connected = true
	}
	if isPoll {
		w.inflight++
		if w.connected {
			w.polls++
		}
	}
	w.mu.Unlock()
	w.next.ServeHTTP(rw, r)
	if isPoll {
		w.mu.Lock()
		w.inflight--
		w.lastDone = time.Now()
		w.mu.Unlock()
	}
}

// settled reports that the socket is up and the phone has finished polling.
func (w *wireWatch) settled() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.connected && w.polls > 0 && w.inflight == 0 && time.Since(w.lastDone) > 200*time.Millisecond
}

// TestSmokeEnrollPushApprove runs the real program against an in-process
// server: enroll from the form, receive a challenge by push, approve it
// with a key, and read the outcome from the server.
func TestSmokeEnrollPushApprove(t *testing.T) {
	var watch *wireWatch
	srv := newWrappedTestServer(t, nil, func(h http.Handler) http.Handler {
		watch = &wireWatch{next: h}
		return watch
	})
	cfg := testDeviceConfig(t, srv, time.Now, nil)
	var err error
	if cfg.PushURL, err = device.PushURL(srv.srv.URL); err != nil {
		t.Fatal(err)
	}
	phone, err := New(newTestDeviceWith(t, cfg), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(phone.Close)
	m := &probe{Model: NewModel(phone)}
	tm := teatest.NewTestModel(t, m,
		teatest.WithInitialTermSize(80, 24),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.ASCII)))
	wait := func(what string, cond func() bool) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func([]byte) bool { return cond() },
			teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
	}

	wait("the empty factor list", func() bool { return m.shows("No factors on this phone yet") })
	tm.Type("n")
	wait("the enrolment form", func() bool { return m.shows("Create factor") })
	tm.Type("alice")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	wait("the new factor", func() bool { return m.shows("alice's factor") && m.shows("verified") })

	wait("the push socket", watch.settled)
	sid := srv.createChallenge("alice", "Log in to Acme?", nil)
	wait("the push banner", func() bool { return m.shows("New challenge") && m.shows("Log in to Acme?") })
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	wait("the challenge", func() bool { return m.shows("Approve") })
	tm.Type("a")
	wait("the server to record the approval", func() bool { return srv.challengeStatus("alice", sid) == "approved" })
	wait("the phone to show it", func() bool { return m.shows("Challenge approved") })

	tm.Type("q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	if via := phone.c.inbox.via[sid]; via != device.ViaPush {
		t.Fatalf("the challenge arrived via %q, not push", via)
	}
}
