package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/pushsim/pushsim/device"
)

// console is the app backend's side of the demo: who the user is and the
// identity that actually reaches Verify, the sign-ins a login page would
// start, and live lists of the identity's challenges and of the webhooks
// the backend received. It is a client of the server's HTTP API and its
// sample backend, as a customer's backend would be, and knows nothing of
// the phones.
type console struct {
	client    *backendClient
	styles    *Styles
	keys      *demoKeyMap
	clock     func() time.Time
	ctx       context.Context
	user      string
	hashed    string
	serverURL string

	factors    []backendFactor
	challenges []backendChallenge
	events     []webhookEvent
	loaded     bool

	resends   map[string]int  // pushes sent again, by challenge
	withdrawn map[string]bool // challenges seen withdrawn by the backend

	list     listView
	selected string // the challenge under the cursor, kept as others arrive
	result   consoleResult
	code     string // the number the sign-in page shows for the latest number-matching sign-in

	busy         string // the action in flight, shown with the spinner
	offline      error  // why the last refresh failed, until one works
	refreshing   bool
	refreshAgain bool
	spinner      spinner.Model
	spinning     bool

	showHelp      bool
	focused       bool
	width, height int
	zones         zoneMap
}

// consoleRoomyHeight is the panel height from which sections are set
// apart by blank lines.
const consoleRoomyHeight = 30

// consoleRefreshEvery is how often the live lists are reloaded; actions
// and the phones' answers reload them at once too.
const consoleRefreshEvery = time.Second

// consoleResult is the outcome of the last action, kept on screen until
// the next one. refused marks a detail that is the server saying no.
type consoleResult struct {
	failed  bool
	refused bool
	text    string
	detail  string
}

func newConsole(ctx context.Context, client *backendClient, user, serverURL string, st *Styles, keys *demoKeyMap, clock func() time.Time) *console {
	c := &console{
		client: client, styles: st, keys: keys, clock: clock, ctx: ctx,
		user: user, serverURL: serverURL,
		resends: map[string]int{}, withdrawn: map[string]bool{},
		list:    listView{rowHeight: 2},
		spinner: spinner.New(spinner.WithSpinner(spinner.MiniDot)),
	}
	c.spinner.Style = st.Spinner
	return c
}

func (c *console) Init() tea.Cmd {
	return tea.Batch(c.loadHash(), c.refresh(), c.tick())
}

func (c *console) SetSize(width, height int) { c.width, c.height = width, height }

func (c *console) setStyles(st *Styles) {
	c.styles = st
	c.spinner.Style = st.Spinner
}

// Update handles keys when focused, clicks already translated into the
// console's box, and the results of its own work.
func (c *console) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		if c.focused {
			return c.handleKey(msg)
		}
	case tea.MouseClickMsg:
		if msg.Button == tea.MouseLeft {
			return c.handleClick(c.zones.hit(msg.X, msg.Y))
		}
	case spinner.TickMsg:
		return c.spin(msg)
	case consoleTickMsg:
		return tea.Batch(c.refresh(), c.tick())
	case consoleHashedMsg:
		if msg.err != nil {
			c.fail("Could not hash the identity", msg.err)
		}
		c.hashed = msg.hashed
	case consoleRefreshedMsg:
		return c.refreshed(msg)
	case signedInMsg:
		return c.signedIn(msg)
	case resentMsg:
		c.busy = ""
		if msg.err != nil {
			c.fail("Resend refused", msg.err)
		} else {
			c.resends[msg.challengeSid]++
			c.succeed(fmt.Sprintf("Push sent again (resend %d) as %s", c.resends[msg.challengeSid], shorten(msg.notification.Sid, 14)), "Notifications resource · ttl "+itoa(msg.notification.TTL)+" s")
		}
		return c.refresh()
	case expiredMsg:
		c.busy = ""
		if msg.err != nil {
			c.fail("Expire refused", msg.err)
		} else {
			c.succeed("Expired "+shorten(msg.challengeSid, 14), "the phone can no longer answer it")
		}
		return c.refresh()
	case withdrawnMsg:
		c.succeed("Answered on one phone: the backend withdrew "+plural(len(msg.challengeSids), "challenge"), "expired with responded_reason not_needed")
	}
	return nil
}

func (c *console) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := c.keys
	if c.showHelp {
		if key.Matches(msg, k.Help, k.Back) {
			c.showHelp = false
		}
		return nil
	}
	if c.list.navigate(msg, k.KeyMap, len(c.challenges)) {
		if len(c.challenges) > 0 {
			c.selected = c.challenges[c.list.cursor].Sid
		}
		return nil
	}
	switch {
	case key.Matches(msg, k.Help):
		c.showHelp = true
	case key.Matches(msg, k.Quit):
		return tea.Quit
	case key.Matches(msg, k.SignIn):
		return c.startSignIn(signInPlain)
	case key.Matches(msg, k.NumberMatch):
		return c.startSignIn(signInNumberMatch)
	case key.Matches(msg, k.PushBomb):
		return c.startSignIn(signInBombing)
	case key.Matches(msg, k.Resend):
		return c.startResend()
	case key.Matches(msg, k.Expire):
		return c.startExpire()
	}
	return nil
}

func (c *console) handleClick(zone string) tea.Cmd {
	switch zone {
	case "console:signin":
		return c.startSignIn(signInPlain)
	case "console:number":
		return c.startSignIn(signInNumberMatch)
	case "console:bomb":
		return c.startSignIn(signInBombing)
	case "console:resend":
		return c.startResend()
	case "console:expire":
		return c.startExpire()
	}
	if sid, ok := strings.CutPrefix(zone, "console:challenge:"); ok {
		c.selected = sid
	}
	return nil
}

func (c *console) tick() tea.Cmd {
	return tea.Tick(consoleRefreshEvery, func(time.Time) tea.Msg { return consoleTickMsg{} })
}

// deviceEvent hears what a phone did: its answers are worth a reload at
// once, so the sign-in they settle shows without waiting for the tick.
func (c *console) deviceEvent(kind device.EventKind) tea.Cmd {
	switch kind {
	case device.EventApproved, device.EventDenied, device.EventChallenge, device.EventEnrolled:
		return c.refresh()
	}
	return nil
}

// begin marks an action as running, unless one already is.
func (c *console) begin(label string) (tea.Cmd, bool) {
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

func (c *console) spin(msg spinner.TickMsg) tea.Cmd {
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

func (c *console) succeed(text, detail string) {
	c.result = consoleResult{text: text, detail: detail}
}

func (c *console) fail(text string, err error) {
	c.result = consoleResult{failed: true, text: text, detail: err.Error()}
}

// selectedChallenge is the challenge under the cursor.
func (c *console) selectedChallenge() (backendChallenge, bool) {
	c.follow()
	if len(c.challenges) == 0 {
		return backendChallenge{}, false
	}
	return c.challenges[c.list.cursor], true
}

// follow keeps the cursor on the selected challenge as the list changes.
// A selection not listed yet (a sign-in whose reload is in flight) is
// kept, so the cursor moves to it once it is.
func (c *console) follow() {
	for i, ch := range c.challenges {
		if ch.Sid == c.selected {
			c.list.cursor = i
			break
		}
	}
	c.list.clamp(len(c.challenges))
	if c.selected == "" && len(c.challenges) > 0 {
		c.selected = c.challenges[c.list.cursor].Sid
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return itoa(n) + " " + noun + "s"
}
