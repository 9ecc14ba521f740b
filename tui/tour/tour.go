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
	keys   *style.TourKeyMap
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
	expires      time.Time              // the challenge's expiration_date
	enrolling    chan tourEnrolled      // step 3's enrolment, finished by step 4
	answer       string                 // how the challenge ended at step 7: one of the answer constants
	watch        int                    // the expiry watch that counts; older ticks are dropped
	received     map[string]bool        // what the phone did, from its events: it may act before its step
	answered     map[string]phoneAnswer // by challenge SID

	steps   []tourStep
	results []tourResult
	at      int // the screen shown: 0 the introduction, 1… the steps, then the end
	// marks are the two logs' totals when the last step ended: a step
	// shows what happened after them.
	marks [2]int

	spinner       spinner.Model
	scroll        int
	help          bool // the tour's keys are shown instead of the step
	wholeBodies   bool
	focused       bool
	width, height int
	zones         style.ZoneMap
}

// How the challenge of step 6 ended.
const (
	answerApproved = "approved"
	answerDenied   = "denied"
	answerExpired  = "expired" // nobody answered in time
)

// phoneAnswer is what the phone reported of a challenge.
type phoneAnswer struct {
	answer string
	silent bool // approved by silent approval, without the user
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
	// StepOffering is step 7 offering the user its choice: Enter approves
	// on their behalf, the phone approves or denies, or the challenge
	// expires.
	StepOffering
)

type tourResult struct {
	state     StepState
	notes     []string
	err       error
	exchanges []device.LoggedExchange
	holds     []tourstage.Hold // requests the stage held, whose time is not the server's
	webhook   *Webhook         // the delivery step 8 found
	// gen counts the step's starts and asks, so that the timeout of an
	// earlier one does not end a later one.
	gen int
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

// expiryWatch is how often step 7 looks at the clock while it waits for an
// answer: its countdown moves and an unanswered challenge is seen to
// expire.
const expiryWatch = time.Second

// New returns the tour of the quickstart for user against the server at
// serverURL: client plays your backend, stage serves the phone its token
// and holds its verification, and dev is the phone's device, whose
// AccessTokenURL and network must be the stage's. The tour starts nothing
// until Enter.
func New(com *style.Common, client *backendclient.Client, stage *tourstage.Stage, dev *device.Device, user, serverURL string) *Tour {
	sum := sha256.Sum256([]byte(user))
	t := &Tour{
		com: com, keys: style.NewTourKeyMap(), client: client, stage: stage, dev: dev,
		user: user, identity: hex.EncodeToString(sum[:]), webhookURL: strings.TrimRight(serverURL, "/") + "/backend/webhook",
		received: map[string]bool{}, answered: map[string]phoneAnswer{},
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
		if msg.Button == tea.MouseLeft && !t.help {
			switch t.zones.Hit(msg.X, msg.Y) {
			case "tour:next":
				return t.next()
			case "tour:approve":
				return t.approveForUser()
			}
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
	case expiryTickMsg:
		return t.watchExpiry(msg)
	}
	return nil
}

func (t *Tour) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := t.com.Keys
	if t.help {
		if key.Matches(msg, k.CloseHelp) {
			t.help = false
		}
		return nil
	}
	switch {
	case key.Matches(msg, k.Help):
		t.help = true
	case t.offering() && key.Matches(msg, t.keys.ApproveForUser):
		return t.approveForUser()
	case key.Matches(msg, k.NextStep):
		return t.next()
	case key.Matches(msg, k.PrevStep):
		if t.at > 0 {
			t.at, t.scroll = t.at-1, 0
		}
	case key.Matches(msg, t.keys.ExpandBodies):
		t.wholeBodies = !t.wholeBodies
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

// offering reports that the screen shown is step 7 offering its choice.
func (t *Tour) offering() bool {
	r := t.result(t.at)
	return t.at == tourStepAnswer && r != nil && r.state == StepOffering
}

// next is Enter: run the next step, retry a failed one, or move on to a
// screen already seen. It waits while a step is running or offers a
// choice.
func (t *Tour) next() tea.Cmd {
	if r := t.result(t.at); r != nil {
		switch r.state {
		case StepRunning, StepWaiting, StepOffering:
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
	gen := t.results[at-1].gen + 1
	t.results[at-1] = tourResult{state: StepRunning, gen: gen}
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
		t.challengeSid, t.expires = msg.challengeSid, msg.expires
	}
	r := &t.results[msg.step-1]
	r.notes = append(r.notes, msg.notes...)
	r.holds = append(r.holds, msg.holds...)
	if msg.webhook != nil {
		r.webhook = msg.webhook
	}
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
// has. Waiting for an answer, it offers the user the choice and watches
// the challenge's expiry.
func (t *Tour) await(step int, w *tourAwait) tea.Cmd {
	if !w.answer {
		if t.received[w.challengeSid] {
			t.finish(step, nil)
			return nil
		}
		t.results[step-1].state = StepWaiting
		return after(tourPhoneWait, timeoutMsg{step: step, gen: t.results[step-1].gen})
	}
	if a, ok := t.answered[w.challengeSid]; ok {
		t.settle(a)
		return nil
	}
	if t.expired() {
		t.settle(phoneAnswer{answer: answerExpired})
		return nil
	}
	t.results[step-1].state = StepOffering
	t.watch++
	return after(expiryWatch, expiryTickMsg{watch: t.watch})
}

// approveForUser is Enter at step 7: the tour asks the phone to approve,
// as the user would, and waits for it.
func (t *Tour) approveForUser() tea.Cmd {
	if !t.offering() {
		return nil
	}
	r := &t.results[tourStepAnswer-1]
	r.state, r.err = StepWaiting, nil
	r.gen++
	return tea.Batch(
		cmdOf(PhoneMsg{Action: PhoneApprove, FactorSid: t.factorSid, ChallengeSid: t.challengeSid}),
		after(tourPhoneWait, timeoutMsg{step: tourStepAnswer, gen: r.gen}),
		t.spinner.Tick)
}

// watchExpiry ends step 7 when its challenge's expiry passes unanswered,
// by the tour's clock: Verify sends nothing when a challenge expires, so
// a backend has to notice by itself.
func (t *Tour) watchExpiry(msg expiryTickMsg) tea.Cmd {
	if msg.watch != t.watch || !t.answering() {
		return nil
	}
	if t.expired() {
		t.settle(phoneAnswer{answer: answerExpired})
		return nil
	}
	return after(expiryWatch, expiryTickMsg{watch: t.watch})
}

// expired reports that the challenge's expiry has passed by the tour's
// clock; a challenge whose expiry is unknown waits for the phone's word.
func (t *Tour) expired() bool {
	return !t.expires.IsZero() && !t.com.Clock().Before(t.expires)
}

// answering reports that step 7 waits for the challenge's answer.
func (t *Tour) answering() bool {
	s := t.results[tourStepAnswer-1].state
	return s == StepOffering || s == StepWaiting
}

// settle ends step 7 with how the challenge ended.
func (t *Tour) settle(a phoneAnswer) {
	t.answer = a.answer
	r := &t.results[tourStepAnswer-1]
	r.notes = append(r.notes, answerNotes(a, t.challengeSid, t.expires)...)
	t.finish(tourStepAnswer, nil)
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
	case device.EventApproved, device.EventDenied, device.EventExpired:
		a := phoneAnswer{answer: answerApproved, silent: e.Silent}
		switch e.Kind {
		case device.EventDenied:
			a.answer = answerDenied
		case device.EventExpired:
			a.answer = answerExpired
		}
		t.answered[e.ChallengeSid] = a
		if e.ChallengeSid == t.challengeSid && t.answering() {
			t.settle(a)
		}
	}
	return nil
}

func (t *Tour) waiting(step int) bool { return t.results[step-1].state == StepWaiting }

// timedOut ends a step the phone did not finish: a challenge it has not
// seen yet is not an error (it will poll), an approval it was asked for
// and never sent is.
func (t *Tour) timedOut(msg timeoutMsg) tea.Cmd {
	if !t.waiting(msg.step) || msg.gen != t.results[msg.step-1].gen {
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
	expires      time.Time
	holds        []tourstage.Hold
	webhook      *Webhook
	await        *tourAwait
	phone        *PhoneMsg
}

// tourAwait is what a step waits for the phone to do with a challenge:
// receive it, or answer it.
type tourAwait struct {
	challengeSid string
	answer       bool
}

// timeoutMsg ends a wait for the phone, unless the step has started or
// asked again since (gen).
type timeoutMsg struct{ step, gen int }

// expiryTickMsg is step 7's look at the clock.
type expiryTickMsg struct{ watch int }

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

// errTourNoAnswer is an approval the phone was asked for and did not send.
var errTourNoAnswer = errors.New("the phone sent no answer: press Enter to try again, or tab to the phone and answer there")

// cmdOf wraps a message as a command.
func cmdOf(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }

// after delivers msg once d has passed.
func after(d time.Duration, msg tea.Msg) tea.Cmd {
	return tea.Tick(d, func(time.Time) tea.Msg { return msg })
}
