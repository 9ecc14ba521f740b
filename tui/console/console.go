package console

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/charmbracelet/x/ansi"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/internal/backendclient"
	"github.com/pushsim/pushsim/internal/termtext"
	"github.com/pushsim/pushsim/tui/style"
)

// Console is the app backend's side of the demo: who the user is and the
// identity that actually reaches Verify, the sign-ins a login page would
// start, and live lists of the identity's challenges and of the webhooks
// the backend received.
type Console struct {
	com       *style.Common
	client    *backendclient.Client
	user      string
	hashed    string
	serverURL string

	factors    []backendclient.Factor
	challenges []backendclient.Challenge
	events     []backendclient.WebhookEvent
	loaded     bool

	// What the control API says of the server: the faults in force, how
	// far its clock was moved, and the webhook deliveries its sink did
	// not accept. controlSeq counts the changes the console made, so that
	// a refresh begun before one does not show what was before it.
	faults       backendclient.Faults
	clockOffset  time.Duration
	deliveries   []backendclient.Delivery
	controlKnown bool
	controlErr   error
	controlSeq   int
	// panel is the faults panel, when open; waiting a restart or reset
	// the server accepted, until it answers again.
	panel   *faultPanel
	waiting *restartWait

	resends   map[string]int  // pushes sent again, by challenge
	withdrawn map[string]bool // challenges seen withdrawn by the backend

	list     style.ListView
	selected string // the challenge under the cursor, kept as others arrive
	result   outcome
	// matching is the latest sign-in, when it was a number-matching one
	// and the sign-in page still shows its code.
	matching *numberSignIn
	// userSignIns and attackerSignIns count the sign-ins made, to give
	// the next ones their own places and browsers.
	userSignIns, attackerSignIns int

	busy         string // the action in flight, shown with the spinner
	offline      error  // why the last refresh failed, until one works
	refreshing   bool
	refreshAgain bool
	spinner      spinner.Model
	spinning     bool

	showHelp bool
	// detailOpen shows the challenge under the cursor whole, in place of
	// the console's sections.
	detailOpen    bool
	focused       bool
	width, height int
	zones         style.ZoneMap
}

// roomyHeight is the panel height from which sections are set
// apart by blank lines.
const roomyHeight = 30

// refreshEvery is how often the live lists are reloaded; actions
// and the phones' answers reload them at once too.
const refreshEvery = time.Second

// outcome is what the last action did, kept on screen until the next
// one. refused marks a detail that is the server saying no.
type outcome struct {
	failed  bool
	refused bool
	text    string
	detail  string
}

// New returns the console of user's sign-ins at the server at serverURL,
// reached through client. It starts nothing until Init.
func New(com *style.Common, client *backendclient.Client, user, serverURL string) *Console {
	return &Console{
		com: com, client: client, user: user, serverURL: serverURL,
		resends: map[string]int{}, withdrawn: map[string]bool{},
		list:    style.ListView{RowHeight: 2},
		spinner: spinner.New(spinner.WithSpinner(spinner.MiniDot)),
	}
}

// Init loads what the backend knows and starts the refreshes.
func (c *Console) Init() tea.Cmd {
	return tea.Batch(c.loadHash(), c.refresh(), c.tick())
}

// SetSize gives the console its box.
func (c *Console) SetSize(width, height int) { c.width, c.height = width, height }

// Focus gives the console the keyboard; Blur takes it away.
func (c *Console) Focus() { c.focused = true }
func (c *Console) Blur()  { c.focused = false }

// Focused reports whether the console takes key presses.
func (c *Console) Focused() bool { return c.focused }

// Update handles keys when focused, clicks already translated into the
// console's box, and the results of its own work.
func (c *Console) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		if c.focused {
			return c.handleKey(msg)
		}
	case tea.MouseClickMsg:
		if msg.Button == tea.MouseLeft {
			return c.handleClick(c.zones.Hit(msg.X, msg.Y))
		}
	case spinner.TickMsg:
		return c.spin(msg)
	case tickMsg:
		return tea.Batch(c.refresh(), c.tick())
	case HashedMsg:
		if msg.Err != nil {
			c.fail("Could not hash the identity", msg.Err)
		}
		c.hashed = termtext.Line(msg.Hashed)
	case RefreshedMsg:
		return c.refreshed(msg)
	case SignedInMsg:
		return c.signedIn(msg)
	case resentMsg:
		c.busy = ""
		if msg.err != nil {
			c.fail("Resend refused", msg.err)
		} else {
			c.resends[msg.challengeSid]++
			c.succeed(fmt.Sprintf("Push sent again (resend %d) as %s", c.resends[msg.challengeSid], msg.notification.Sid), "Notifications resource · ttl "+strconv.Itoa(msg.notification.TTL)+" s")
		}
		return c.refresh()
	case expiredMsg:
		c.busy = ""
		if msg.err != nil {
			c.fail("Expire refused", msg.err)
		} else {
			c.succeed("Expired "+msg.challengeSid, "the phone can no longer answer it")
		}
		return c.refresh()
	case faultsChangedMsg:
		return c.faultsChanged(msg)
	case clockMovedMsg:
		return c.clockMoved(msg)
	case restartedMsg:
		return c.restarted(msg)
	case healthMsg:
		return c.healthAnswered(msg)
	case WithdrawnMsg:
		c.succeed("Answered on one phone: the backend withdrew "+plural(len(msg.ChallengeSids), "challenge"), "expired with responded_reason not_needed")
	}
	return nil
}

func (c *Console) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := c.com.Keys
	if c.showHelp {
		if key.Matches(msg, k.Help, k.Back) {
			c.showHelp = false
		}
		return nil
	}
	if c.panel != nil {
		if cmd, took := c.faultsKey(msg); took {
			return cmd
		}
	}
	if c.list.Navigate(msg, k.KeyMap, len(c.challenges)) {
		if len(c.challenges) > 0 {
			c.selected = c.challenges[c.list.Cursor].Sid
		}
		return nil
	}
	if c.detailOpen && key.Matches(msg, k.Back, k.Open) {
		c.detailOpen = false
		return nil
	}
	// An action takes the whole pane back: its outcome shows there.
	if key.Matches(msg, k.ConsoleActions()...) {
		c.detailOpen, c.panel = false, nil
	}
	switch {
	case key.Matches(msg, k.Open):
		_, c.detailOpen = c.selectedChallenge()
	case key.Matches(msg, k.Help):
		c.showHelp = true
	case key.Matches(msg, k.Quit):
		return tea.Quit
	case key.Matches(msg, k.SignIn):
		return c.startSignIn(SignInPlain)
	case key.Matches(msg, k.NumberMatch):
		return c.startSignIn(SignInNumberMatch)
	case key.Matches(msg, k.PushBomb):
		return c.startSignIn(SignInBombing)
	case key.Matches(msg, k.Resend):
		return c.startResend()
	case key.Matches(msg, k.Expire):
		return c.startExpire()
	case key.Matches(msg, k.Faults):
		c.openFaults()
	}
	return nil
}

func (c *Console) handleClick(zone string) tea.Cmd {
	if c.panel != nil {
		return c.faultsClick(zone)
	}
	switch zone {
	case "console:faults":
		c.openFaults()
	case "console:signin":
		return c.startSignIn(SignInPlain)
	case "console:number":
		return c.startSignIn(SignInNumberMatch)
	case "console:bomb":
		return c.startSignIn(SignInBombing)
	case "console:resend":
		return c.startResend()
	case "console:expire":
		return c.startExpire()
	}
	if sid, ok := strings.CutPrefix(zone, "console:challenge:"); ok {
		// A click picks a challenge; a click on the picked one opens it.
		if ch, picked := c.selectedChallenge(); picked && ch.Sid == sid {
			c.detailOpen = true
		}
		c.selected = sid
	}
	return nil
}

func (c *Console) tick() tea.Cmd {
	return tea.Tick(refreshEvery, func(time.Time) tea.Msg { return tickMsg{} })
}

// PhoneEvent hears what one of the user's phones did: its answers are
// worth a reload at once, so the sign-in they settle shows without waiting
// for the tick.
func (c *Console) PhoneEvent(e device.Event) tea.Cmd {
	switch e.Kind {
	case device.EventApproved, device.EventDenied, device.EventChallenge, device.EventEnrolled:
		return c.refresh()
	}
	return nil
}

// begin marks an action as running, unless one already is.
func (c *Console) begin(label string) (tea.Cmd, bool) {
	if c.busy != "" {
		return nil, false
	}
	c.busy = label
	if c.spinning {
		return nil, true
	}
	c.spinning = true
	return c.spinner.Tick, true
}

func (c *Console) spin(msg spinner.TickMsg) tea.Cmd {
	if msg.ID != c.spinner.ID() {
		return nil
	}
	if c.busy == "" {
		c.spinning = false
		return nil
	}
	var cmd tea.Cmd
	c.spinner, cmd = c.spinner.Update(msg)
	return cmd
}

func (c *Console) succeed(text, detail string) {
	c.result = outcome{text: text, detail: detail}
}

func (c *Console) fail(text string, err error) {
	c.result = outcome{failed: true, text: text, detail: err.Error()}
}

// serverNow is the time on the server's clock, which a tester may have
// moved forward: the challenges' expiry dates are on it.
func (c *Console) serverNow() time.Time { return c.com.Clock().Add(c.clockOffset) }

// selectedChallenge is the challenge under the cursor.
func (c *Console) selectedChallenge() (backendclient.Challenge, bool) {
	c.follow()
	if len(c.challenges) == 0 {
		return backendclient.Challenge{}, false
	}
	return c.challenges[c.list.Cursor], true
}

// follow keeps the cursor on the selected challenge as the list changes.
// A selection not listed yet (a sign-in whose reload is in flight) is
// kept, so the cursor moves to it once it is.
func (c *Console) follow() {
	for i, ch := range c.challenges {
		if ch.Sid == c.selected {
			c.list.Cursor = i
			break
		}
	}
	c.list.Clamp(len(c.challenges))
	if c.selected == "" && len(c.challenges) > 0 {
		c.selected = c.challenges[c.list.Cursor].Sid
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// requestTimeout bounds each call the console makes, so a hung server
// never leaves a spinner turning forever.
const requestTimeout = 30 * time.Second

// respondedNotNeeded is Verify's responded_reason for a challenge that no
// longer needs an answer: the backend withdrew it.
const respondedNotNeeded = "not_needed"

// cmdOf wraps a message as a command.
func cmdOf(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }

// packLine lays items on as few lines of width cells as they fit, three
// spaces apart, for rows of buttons.
func packLine(items []string, width int) []string {
	const gap = "   "
	var lines []string
	cur := ""
	for _, it := range items {
		switch {
		case cur == "":
			cur = it
		case ansi.StringWidth(cur)+len(gap)+ansi.StringWidth(it) <= width:
			cur += gap + it
		default:
			lines = append(lines, cur)
			cur = it
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}
