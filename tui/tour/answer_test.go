package tour

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/internal/backendclient"
	"github.com/pushsim/pushsim/internal/testclock"
	"github.com/pushsim/pushsim/tui/style"
)

// How step 7 ends without a server: the tour is fed what the phone and
// the clock say, as its host would feed it.

const challenge = "YCb363169fdc405cda40b37eb7f0a1b2c3"

var start = time.Date(2026, 3, 4, 9, 41, 0, 0, time.UTC)

// atStep6 is a tour whose step 6 created challenge, which expires five
// minutes after start, on clock.
func atStep6(t *testing.T, clock *testclock.Clock) *Tour {
	t.Helper()
	dev, err := device.New(device.Config{ServerURL: "http://127.0.0.1:4010", Home: filepath.Join(t.TempDir(), "phone"), Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	com := &style.Common{Context: context.Background(), Styles: style.NewStyles(style.DefaultTheme(), false), Keys: style.NewDemoKeyMap(nil), Clock: clock.Now}
	client := backendclient.New("http://127.0.0.1:4010", "AC1", "token", http.DefaultClient, clock.Now)
	tr := New(com, client, nil, dev, "alice", "http://127.0.0.1:4010")
	tr.SetSize(80, 40)
	tr.Focus()
	tr.ShowSample(6, Sample{ChallengeSid: challenge, Expires: start.Add(5 * time.Minute)})
	return tr
}

// run delivers cmd's messages to the tour, as the program would, and
// returns the ones meant for its host. Timers (the spinner, the expiry
// watch, timeouts) are dropped, fired or not: a test sends the ones it
// means. A command that has not answered within timerWait is one.
func run(tr *Tour, cmd tea.Cmd) (toHost []tea.Msg) {
	var msgs []tea.Msg
	for _, m := range settle([]tea.Cmd{cmd}) {
		if batch, ok := m.(tea.BatchMsg); ok {
			msgs = append(msgs, settle(batch)...)
		} else {
			msgs = append(msgs, m)
		}
	}
	for _, msg := range msgs {
		switch msg := msg.(type) {
		case stepDoneMsg:
			toHost = append(toHost, run(tr, tr.Update(msg))...)
		case PhoneMsg:
			toHost = append(toHost, msg)
		}
	}
	return toHost
}

// settle runs cmds side by side and keeps what they answer within
// timerWait, in order.
func settle(cmds []tea.Cmd) []tea.Msg {
	results := make([]chan tea.Msg, len(cmds))
	for i, c := range cmds {
		results[i] = make(chan tea.Msg, 1)
		if c != nil {
			go func() { results[i] <- c() }()
		}
	}
	var msgs []tea.Msg
	deadline := time.After(timerWait)
	for i, r := range results {
		if cmds[i] == nil {
			continue
		}
		select {
		case m := <-r:
			msgs = append(msgs, m)
		case <-deadline:
		}
	}
	return msgs
}

// timerWait tells a timer from a command that answers at once.
const timerWait = 200 * time.Millisecond

// enter presses Enter and runs what it starts.
func enter(tr *Tour) []tea.Msg {
	return run(tr, tr.Update(tea.KeyPressMsg{Code: tea.KeyEnter}))
}

func screen(tr *Tour) string { return ansi.Strip(strings.Join(tr.screen(200), "\n")) }

// An answer the phone gave before step 7 began ends step 7 at once, and
// the tour asks nothing of the phone.
func TestAnswerBeforeStep7(t *testing.T) {
	tr := atStep6(t, testclock.New(start))
	tr.PhoneEvent(device.Event{Kind: device.EventDenied, ChallengeSid: challenge})
	if asked := enter(tr); len(asked) != 0 {
		t.Fatalf("the tour asked the phone %v", asked)
	}
	if p := tr.Progress(); p.Answer != answerDenied || p.Steps[tourStepAnswer-1] != StepDone {
		t.Fatalf("step 7: %+v", p)
	}
	if s := screen(tr); !strings.Contains(s, "The phone denied "+challenge) || !strings.Contains(s, "Next: The webhook arrives") {
		t.Fatalf("step 7 reads:\n%s", s)
	}
}

// Step 7 offers its choice and asks the phone only on Enter; an answer
// refused because the challenge had expired ends it as expired.
func TestEnterAsksThePhone(t *testing.T) {
	tr := atStep6(t, testclock.New(start))
	if asked := enter(tr); len(asked) != 0 || tr.Progress().Steps[tourStepAnswer-1] != StepOffering {
		t.Fatalf("moving to step 7 asked the phone %v, step %v", asked, tr.Progress().Steps[tourStepAnswer-1])
	}
	asked := enter(tr)
	if len(asked) != 1 || asked[0] != (PhoneMsg{Action: PhoneApprove, ChallengeSid: challenge}) {
		t.Fatalf("Enter at step 7 asked the phone %v", asked)
	}
	if s := screen(tr); !strings.Contains(s, "Asked the phone to approve for the user") {
		t.Fatalf("step 7 reads:\n%s", s)
	}
	tr.PhoneEvent(device.Event{Kind: device.EventExpired, ChallengeSid: challenge})
	if p := tr.Progress(); p.Answer != answerExpired {
		t.Fatalf("answer %q", p.Answer)
	}
}

// The expiry watch ends step 7 once the clock passes the expiry, not
// before; a timeout left from an earlier ask does not end a later one.
func TestExpiryWatch(t *testing.T) {
	clock := testclock.New(start)
	tr := atStep6(t, clock)
	enter(tr)
	enter(tr) // asks the phone
	first := tr.results[tourStepAnswer-1].gen
	tr.Update(timeoutMsg{step: tourStepAnswer, gen: first})
	enter(tr) // tries again: offers the choice again
	enter(tr) // and asks again
	tr.Update(timeoutMsg{step: tourStepAnswer, gen: first})
	if st := tr.Progress().Steps[tourStepAnswer-1]; st != StepWaiting {
		t.Fatalf("an old timeout left step 7 %v", st)
	}

	clock.Set(start.Add(5*time.Minute - time.Second))
	tr.Update(expiryTickMsg{watch: tr.watch})
	if p := tr.Progress(); p.Answer != "" {
		t.Fatalf("step 7 ended as %q a second before the expiry", p.Answer)
	}
	clock.Set(start.Add(5 * time.Minute))
	tr.Update(expiryTickMsg{watch: tr.watch})
	if p := tr.Progress(); p.Answer != answerExpired || p.Steps[tourStepAnswer-1] != StepDone {
		t.Fatalf("at the expiry: %+v", p)
	}
	if s := screen(tr); !strings.Contains(s, "Nobody answered "+challenge+" before it expired at 2026-03-04 09:46:00Z.") {
		t.Fatalf("step 7 reads:\n%s", s)
	}
}
