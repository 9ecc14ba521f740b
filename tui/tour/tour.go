package tour

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/internal/backendclient"
	"github.com/pushsim/pushsim/internal/tourstage"
	"github.com/pushsim/pushsim/tui/style"
)

// Tour walks through the Verify Push quickstart one step per screen:
// each step says what happens and why, does it for real against the
// server (as your backend, with the account's credentials, or on the
// phone) and shows the HTTP exchanges it made.
type Tour struct {
	com    *style.Common
	client *backendclient.Client
	stage  *tourstage.Stage
	dev    *device.Device

	user       string
	identity   string // what Verify knows the user as: the SHA-256 of the name
	webhookURL string

	// What the steps made, for the steps after them.
	serviceSid   string
	factorSid    string
	challengeSid string
	enrolling    chan tourEnrolled // step 3's enrolment, finished by step 4

	// What the phone did, from its events: it may act before its step.
	received map[string]bool
	answered map[string]string

	steps   []tourStep
	results []tourResult
	at      int // the screen shown: 0 the introduction, 1… the steps, then the end
	// marks are the two logs' totals when the last step ended: a step
	// shows what happened after them.
	marks [2]int

	spinner       spinner.Model
	scroll        int
	focused       bool
	width, height int
	zones         style.ZoneMap
}

// tourStep is one step of the quickstart.
type tourStep struct {
	title string
	text  string
	run   func(t *Tour) tea.Cmd
}

// StepState is how far a step got.
type StepState int

// How far a step got.
const (
	StepNotRun StepState = iota
	StepRunning
	StepWaiting // its calls are made; it waits for the phone
	StepDone
	StepFailed
)

type tourResult struct {
	state     StepState
	notes     []string
	err       error
	exchanges []device.LoggedExchange
}

// tourEnrolled is how step 3's enrolment ended.
type tourEnrolled struct {
	factor device.Factor
	err    error
}

// Waits for the phone: long enough for a poll to find what a lost push
// did not bring, short enough that a stuck step says so.
const (
	tourPhoneWait   = 12 * time.Second
	tourWebhookWait = 15 * time.Second
)

// New returns the tour of the quickstart for user against the server at
// serverURL: client plays your backend, stage serves the phone its token
// and holds its verification, and dev is the phone's device, whose
// AccessTokenURL and network must be the stage's. The tour starts nothing
// until Enter.
func New(com *style.Common, client *backendclient.Client, stage *tourstage.Stage, dev *device.Device, user, serverURL string) *Tour {
	sum := sha256.Sum256([]byte(user))
	t := &Tour{
		com: com, client: client, stage: stage, dev: dev,
		user: user, identity: hex.EncodeToString(sum[:]), webhookURL: strings.TrimRight(serverURL, "/") + "/backend/webhook",
		received: map[string]bool{}, answered: map[string]string{},
		steps:   tourSteps(),
		spinner: spinner.New(spinner.WithSpinner(spinner.MiniDot)),
	}
	t.results = make([]tourResult, len(t.steps))
	return t
}

// SetSize gives the tour its box.
func (t *Tour) SetSize(width, height int) { t.width, t.height = width, height }

// Focus gives the tour the keyboard; Blur takes it away.
func (t *Tour) Focus() { t.focused = true }
func (t *Tour) Blur()  { t.focused = false }

// end is the screen after the last step.
func (t *Tour) end() int { return len(t.steps) + 1 }

// result is the result of the step on screen at, or nil on the
// introduction and the end.
func (t *Tour) result(at int) *tourResult {
	if at < 1 || at > len(t.steps) {
		return nil
	}
	return &t.results[at-1]
}

func (t *Tour) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		if t.focused {
			return t.handleKey(msg)
		}
	case tea.MouseClickMsg:
		if msg.Button == tea.MouseLeft && t.zones.Hit(msg.X, msg.Y) == "tour:next" {
			return t.next()
		}
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			t.scroll = max(t.scroll-3, 0)
		case tea.MouseWheelDown:
			t.scroll += 3
		}
	case spinner.TickMsg:
		if msg.ID == t.spinner.ID() && t.busy() {
			var cmd tea.Cmd
			t.spinner, cmd = t.spinner.Update(msg)
			return cmd
		}
	case stepDoneMsg:
		return t.StepDone(msg)
	case timeoutMsg:
		return t.timedOut(msg)
	}
	return nil
}

func (t *Tour) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := t.com.Keys
	switch {
	case key.Matches(msg, k.NextStep):
		return t.next()
	case key.Matches(msg, k.PrevStep):
		if t.at > 0 {
			t.at, t.scroll = t.at-1, 0
		}
	case key.Matches(msg, k.Up):
		t.scroll = max(t.scroll-1, 0)
	case key.Matches(msg, k.Down):
		t.scroll++
	case key.Matches(msg, k.PageUp):
		t.scroll = max(t.scroll-t.height/2, 0)
	case key.Matches(msg, k.PageDown):
		t.scroll += t.height / 2
	case key.Matches(msg, k.Quit):
		return tea.Quit
	}
	return nil
}

// next is Enter: run the next step, retry a failed one, or move on to a
// screen already seen. It waits while a step is running.
func (t *Tour) next() tea.Cmd {
	if r := t.result(t.at); r != nil {
		switch r.state {
		case StepRunning, StepWaiting:
			return nil
		case StepFailed:
			return t.start(t.at)
		}
	}
	if t.at == t.end() {
		return nil
	}
	t.at, t.scroll = t.at+1, 0
	if r := t.result(t.at); r != nil && r.state == StepNotRun {
		return t.start(t.at)
	}
	return nil
}

func (t *Tour) busy() bool {
	for _, r := range t.results {
		if r.state == StepRunning || r.state == StepWaiting {
			return true
		}
	}
	return false
}

// start runs step at.
func (t *Tour) start(at int) tea.Cmd {
	t.results[at-1] = tourResult{state: StepRunning}
	return tea.Batch(t.spinner.Tick, t.steps[at-1].run(t))
}

// StepDone takes a step's outcome: it ends the step, or leaves it waiting
// for the phone.
func (t *Tour) StepDone(msg stepDoneMsg) tea.Cmd {
	if msg.serviceSid != "" {
		t.serviceSid = msg.serviceSid
	}
	if msg.factorSid != "" {
		t.factorSid = msg.factorSid
	}
	if msg.challengeSid != "" {
		t.challengeSid = msg.challengeSid
	}
	r := &t.results[msg.step-1]
	r.notes = append(r.notes, msg.notes...)
	if msg.err != nil {
		t.finish(msg.step, msg.err)
		return nil
	}
	if msg.await != nil {
		return t.await(msg.step, msg.await)
	}
	t.finish(msg.step, nil)
	if msg.phone != nil {
		return cmdOf(*msg.phone)
	}
	return nil
}

// await leaves a step waiting for what the phone does, unless it already
// has; the phone may also be asked to do it.
func (t *Tour) await(step int, w *tourAwait) tea.Cmd {
	if t.phoneHasDone(w) {
		t.finish(step, nil)
		return nil
	}
	t.results[step-1].state = StepWaiting
	timeout := after(tourPhoneWait, timeoutMsg{step: step})
	if w.ask != nil {
		return tea.Batch(cmdOf(*w.ask), timeout)
	}
	return timeout
}

func (t *Tour) phoneHasDone(w *tourAwait) bool {
	if w.answer {
		return t.answered[w.challengeSid] != ""
	}
	return t.received[w.challengeSid]
}

// PhoneEvent hears what the tour's phone did and ends a step waiting for
// it.
func (t *Tour) PhoneEvent(e device.Event) tea.Cmd {
	switch e.Kind {
	case device.EventChallenge:
		t.received[e.ChallengeSid] = true
		if e.ChallengeSid == t.challengeSid && t.waiting(tourStepChallenge) {
			t.results[tourStepChallenge-1].notes = append(t.results[tourStepChallenge-1].notes, "The phone got it by "+e.Via+" and fetched it.")
			t.finish(tourStepChallenge, nil)
		}
	case device.EventApproved, device.EventDenied:
		t.answered[e.ChallengeSid] = string(e.Kind)
		if e.ChallengeSid == t.challengeSid && t.waiting(tourStepApprove) {
			t.results[tourStepApprove-1].notes = append(t.results[tourStepApprove-1].notes, "The phone "+string(e.Kind)+" the challenge.")
			t.finish(tourStepApprove, nil)
		}
	}
	return nil
}

func (t *Tour) waiting(step int) bool { return t.results[step-1].state == StepWaiting }

// timedOut ends a step the phone did not finish: a challenge it has not
// seen yet is not an error (it will poll), an answer that never came is.
func (t *Tour) timedOut(msg timeoutMsg) tea.Cmd {
	if !t.waiting(msg.step) {
		return nil
	}
	if msg.step == tourStepChallenge {
		t.results[msg.step-1].notes = append(t.results[msg.step-1].notes, "The phone has not shown it yet; it polls every few seconds.")
		t.finish(msg.step, nil)
		return nil
	}
	t.finish(msg.step, errTourNoAnswer)
	return nil
}

// finish ends a step with the exchanges made since the last one ended:
// the tour's own calls and the phone's, in the order they started,
// leaving out the phone's routine polls. Start order is cause before
// effect: the phone fetches a challenge only after the create that pushed
// it began, though it may finish first.
func (t *Tour) finish(step int, err error) {
	r := &t.results[step-1]
	r.exchanges = nil
	for i, log := range []*device.ExchangeLog{t.client.Log(), t.dev.Exchanges()} {
		for _, e := range log.Entries() {
			if e.Seq > t.marks[i] && !isPoll(e) {
				r.exchanges = append(r.exchanges, e)
			}
		}
		t.marks[i] = log.Total()
	}
	sort.SliceStable(r.exchanges, func(i, j int) bool { return r.exchanges[i].Started().Before(r.exchanges[j].Started()) })
	r.err = err
	r.state = StepDone
	if err != nil {
		r.state = StepFailed
	}
}

// isPoll is a phone listing its challenges, which it does every few
// seconds and which no step is about.
func isPoll(e device.LoggedExchange) bool {
	return e.Method == "GET" && strings.HasSuffix(style.RequestPath(strings.SplitN(e.URL, "?", 2)[0]), "/Challenges")
}

// stepDoneMsg is a step's calls done: what they made, and whether the
// step still waits for the phone or has work for it.
type stepDoneMsg struct {
	step         int
	notes        []string
	err          error
	serviceSid   string
	factorSid    string
	challengeSid string
	await        *tourAwait
	phone        *PhoneMsg
}

// tourAwait is what a step waits for the phone to do with a challenge:
// receive it, or answer it (asking the phone to approve, through ask).
type tourAwait struct {
	challengeSid string
	answer       bool
	ask          *PhoneMsg
}

// timeoutMsg ends a wait for the phone.
type timeoutMsg struct{ step int }

// PhoneMsg asks the host to act on the tour's phone, which the tour does
// not hold: the host lays the phone out and routes its messages.
type PhoneMsg struct {
	Action PhoneAction
	// FactorSid and ChallengeSid name the challenge to approve.
	FactorSid, ChallengeSid string
}

// PhoneAction is what the tour asks of its phone.
type PhoneAction int

// What the tour asks of its phone.
const (
	// PhoneReload shows the factor the tour just created on the device.
	PhoneReload PhoneAction = iota
	// PhoneRelaunch opens the app once the factor is verified, so it
	// registers for pushes and polls.
	PhoneRelaunch
	// PhoneApprove approves a challenge as its user would.
	PhoneApprove
)

// errTourNoAnswer is a step 7 the phone did not finish.
var errTourNoAnswer = errors.New("the phone did not answer: tab to it and press a, or press Enter to ask again")

// cmdOf wraps a message as a command.
func cmdOf(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }

// after delivers msg once d has passed.
func after(d time.Duration, msg tea.Msg) tea.Cmd {
	return tea.Tick(d, func(time.Time) tea.Msg { return msg })
}
