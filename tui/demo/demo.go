package demo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/verifyclient"
	"github.com/pushsim/pushsim/internal/backendclient"
	"github.com/pushsim/pushsim/internal/tourstage"
	"github.com/pushsim/pushsim/tui/console"
	"github.com/pushsim/pushsim/tui/phone"
	"github.com/pushsim/pushsim/tui/style"
	"github.com/pushsim/pushsim/tui/tour"
)

// Options configure the demo: the app backend's console (or the guided
// tour) beside one or more phones of one user, all talking to one server.
type Options struct {
	// ServerURL is the server's base URL, e.g. http://127.0.0.1:4010.
	// Required.
	ServerURL string
	// AccountSid and AuthToken are the account's credentials. The tour
	// needs them: it calls /v2 as your backend would. The console uses
	// only the sample backend.
	AccountSid string
	AuthToken  string
	// User is the demo user's name; default "alice". The sample backend
	// sends Verify its SHA-256, as Twilio's sample backend does.
	User string
	// Phones is how many phones the user has, side by side; default 1.
	Phones int
	// Home holds each phone's app data (phone-1, phone-2, …). Required.
	Home string
	// Tour, when set, puts the quickstart's guided tour in place of the
	// console, on this stage (its access-token endpoint and the hold on
	// the phone's verification). The caller starts it and closes it.
	Tour *tourstage.Stage
	// DeleteFactorsOnExit deletes the phones' factors on the server when
	// the demo ends, for homes that are thrown away: their factors would
	// otherwise stay behind, unanswerable, on a server that outlives them.
	DeleteFactorsOnExit bool

	// App names the phones' app; default verifyclient.DefaultApp("demo").
	App verifyclient.App
	// Theme, NoColor and Keys are as for a phone.
	Theme   style.Theme
	NoColor bool
	Keys    *style.KeyMap
	// Clock is the UI's and the phones' clock; default time.Now.
	Clock func() time.Time
	// PollInterval is how often the phones poll; default
	// device.DefaultPollInterval. The phones' settings can change it.
	PollInterval time.Duration
	// HTTPClient is the console's and the tour's network; default a client
	// with a 30 s timeout.
	HTTPClient *http.Client
	// Context bounds everything the demo runs; Close also ends it.
	Context context.Context
}

// requestTimeout bounds each call the console and the tour make.
const requestTimeout = 30 * time.Second

// Model is `pushsim demo` as a tea.Model: the console (or the tour) on the
// left, the phones on the right. Tab moves the keyboard between panes, a
// click focuses the pane it lands in.
type Model struct {
	opts    Options
	cancel  context.CancelFunc
	common  *style.Common
	keys    *style.DemoKeyMap
	console *console.Console // nil in the tour
	tour    *tour.Tour       // nil in the console demo
	phones  []*phone.Phone

	focus         int // 0 the left pane, i+1 phone i
	width, height int
	left          box
	boxes         []box
}

// New builds the demo's phones and console; nothing runs until Init.
func New(o Options) (*Model, error) {
	if o.ServerURL == "" || o.Home == "" {
		return nil, errors.New("demo: Options.ServerURL and Home are required")
	}
	o.ServerURL = strings.TrimRight(o.ServerURL, "/")
	if o.User == "" {
		o.User = "alice"
	}
	if o.Phones <= 0 {
		o.Phones = 1
	}
	if o.Tour != nil {
		if o.AccountSid == "" || o.AuthToken == "" {
			return nil, errors.New("the tour calls Verify as your backend does: it needs the account SID and auth token")
		}
		o.Phones = 1 // the quickstart registers one device
	}
	if o.App.PackageName == "" {
		o.App = verifyclient.DefaultApp("demo")
	}
	if o.Theme.Name == "" {
		o.Theme = style.DefaultTheme()
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: requestTimeout}
	}
	if o.Context == nil {
		o.Context = context.Background()
	}
	ctx, cancel := context.WithCancel(o.Context)
	o.Context = ctx
	keys := style.NewDemoKeyMap(o.Keys)
	d := &Model{
		opts: o, cancel: cancel, keys: keys,
		common: &style.Common{Context: ctx, Styles: style.NewStyles(o.Theme, !o.NoColor), Keys: keys, Clock: o.Clock},
	}
	for i := range o.Phones {
		p, err := d.newPhone(i)
		if err != nil {
			d.Close()
			return nil, err
		}
		d.phones = append(d.phones, p)
	}
	client := backendclient.New(o.ServerURL, o.AccountSid, o.AuthToken, o.HTTPClient, o.Clock)
	if o.Tour != nil {
		d.tour = tour.New(d.common, client, o.Tour, d.phones[0].Device(), o.User, o.ServerURL)
	} else {
		d.console = console.New(d.common, client, o.User, o.ServerURL)
	}
	d.setFocus(0)
	return d, nil
}

// newPhone builds phone i and its device. The console's phones enroll for
// the user when they open; the tour's phone is enrolled by the tour, one
// step at a time, through its stage.
func (d *Model) newPhone(i int) (*phone.Phone, error) {
	o := d.opts
	cfg := device.Config{
		ServerURL: o.ServerURL, Home: filepath.Join(o.Home, fmt.Sprintf("phone-%d", i+1)),
		App: o.App, Clock: o.Clock, PollInterval: o.PollInterval,
	}
	po := phone.Options{Identity: o.User, FriendlyName: phoneName(o.User, i, o.Phones)}
	if o.Tour != nil {
		cfg.AccessTokenURL, cfg.HTTPClient = o.Tour.TokenURL(), o.Tour.Network()
		po.Identity, po.FriendlyName = "", ""
	}
	dev, err := device.New(cfg)
	if err != nil {
		return nil, err
	}
	po.Theme, po.NoColor, po.Keys, po.Context = o.Theme, o.NoColor, d.keys.KeyMap, o.Context
	return phone.New(dev, po)
}

// phoneName tells a user's phones apart in the console and on the phones.
func phoneName(user string, i, n int) string {
	if n == 1 {
		return user + "'s phone"
	}
	return fmt.Sprintf("%s's phone %d", user, i+1)
}

// Init starts the console and opens the app on every phone, which enrolls
// it for the user if it has no factor yet. The tour waits for Enter.
func (d *Model) Init() tea.Cmd {
	var cmds []tea.Cmd
	if d.console != nil {
		cmds = append(cmds, d.console.Init())
	}
	for _, p := range d.phones {
		cmds = append(cmds, p.Init())
	}
	return tea.Batch(cmds...)
}

// Close stops the phones and everything the demo started.
func (d *Model) Close() {
	for _, p := range d.phones {
		p.Close()
	}
	d.cancel()
}

func (d *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		d.setSize(msg.Width, msg.Height)
		return d, nil
	case tea.ColorProfileMsg:
		// The phones restyle themselves; the left pane draws with the
		// common styles.
		if on := msg.Profile > colorprofile.ASCII; on != d.common.Styles.Colour {
			d.common.Styles = style.NewStyles(d.opts.Theme, on)
		}
		return d, d.toPhones(msg)
	case tea.KeyPressMsg:
		return d, d.handleKey(msg)
	case tea.MouseClickMsg:
		return d, d.handleClick(msg)
	case tea.MouseWheelMsg:
		return d, d.toPaneAt(msg.X, msg.Y, func(b box) tea.Msg {
			return tea.MouseWheelMsg{X: msg.X - b.x, Y: msg.Y - b.y, Button: msg.Button, Mod: msg.Mod}
		})
	case phone.EventMsg:
		return d, tea.Batch(d.heard(msg.Event), d.toPhones(msg))
	case console.WithdrawnMsg:
		return d, tea.Batch(d.console.Update(msg), d.lookNow())
	case tour.PhoneMsg:
		return d, d.tourPhone(msg)
	}
	cmds := []tea.Cmd{d.toPhones(msg)}
	if d.console != nil {
		cmds = append(cmds, d.console.Update(msg))
	}
	if d.tour != nil {
		cmds = append(cmds, d.tour.Update(msg))
	}
	return d, tea.Batch(cmds...)
}

// toPhones gives every phone the message; each takes only its own.
func (d *Model) toPhones(msg tea.Msg) tea.Cmd {
	cmds := make([]tea.Cmd, len(d.phones))
	for i, p := range d.phones {
		_, cmds[i] = p.Update(msg)
	}
	return tea.Batch(cmds...)
}

// heard lets the left pane follow what the phones do (the tour has one).
func (d *Model) heard(e device.Event) tea.Cmd {
	if d.console != nil {
		return d.console.PhoneEvent(e)
	}
	return d.tour.PhoneEvent(e)
}

// lookNow has every phone poll at once. Verify sends no push when a
// challenge is withdrawn; a production backend follows the expiry with a
// silent push telling the user's other devices to refresh. The demo
// stands in for that push by asking the phones to look now.
func (d *Model) lookNow() tea.Cmd {
	cmds := make([]tea.Cmd, len(d.phones))
	for i, p := range d.phones {
		dev, ctx := p.Device(), d.opts.Context
		cmds[i] = func() tea.Msg {
			_ = dev.PollNow(ctx) // failures reach the phone as error events
			return nil
		}
	}
	return tea.Batch(cmds...)
}

// tourPhone does what the tour asks of its phone.
func (d *Model) tourPhone(msg tour.PhoneMsg) tea.Cmd {
	p := d.phones[0]
	switch msg.Action {
	case tour.PhoneApprove:
		return p.Approve(msg.FactorSid, msg.ChallengeSid)
	case tour.PhoneRelaunch:
		return p.Relaunch()
	}
	return p.Reload()
}

func (d *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, d.keys.ForceQuit):
		return tea.Quit
	case key.Matches(msg, d.keys.FocusNext):
		d.setFocus((d.focus + 1) % (len(d.phones) + 1))
		return nil
	case key.Matches(msg, d.keys.FocusPrev):
		d.setFocus((d.focus + len(d.phones)) % (len(d.phones) + 1))
		return nil
	}
	if d.focus > 0 {
		_, cmd := d.phones[d.focus-1].Update(msg)
		return cmd
	}
	if d.tour != nil {
		return d.tour.Update(msg)
	}
	return d.console.Update(msg)
}

// handleClick focuses the pane under the pointer and gives it the click in
// its own coordinates.
func (d *Model) handleClick(msg tea.MouseClickMsg) tea.Cmd {
	for i, b := range d.panes() {
		if b.contains(msg.X, msg.Y) {
			d.setFocus(i)
			break
		}
	}
	return d.toPaneAt(msg.X, msg.Y, func(b box) tea.Msg {
		return tea.MouseClickMsg{X: msg.X - b.x, Y: msg.Y - b.y, Button: msg.Button, Mod: msg.Mod}
	})
}

// toPaneAt gives the pane at (x, y) the message translate makes for it.
func (d *Model) toPaneAt(x, y int, translate func(box) tea.Msg) tea.Cmd {
	for i, b := range d.panes() {
		if !b.contains(x, y) {
			continue
		}
		msg := translate(b)
		switch {
		case i > 0:
			_, cmd := d.phones[i-1].Update(msg)
			return cmd
		case d.tour != nil:
			return d.tour.Update(msg)
		default:
			return d.console.Update(msg)
		}
	}
	return nil
}

// panes are the boxes of the left pane and the phones, in focus order.
func (d *Model) panes() []box { return append([]box{d.left}, d.boxes...) }

func (d *Model) setFocus(i int) {
	d.focus = i
	for j, p := range d.phones {
		focusIf(p, j == i-1)
	}
	if d.tour != nil {
		focusIf(d.tour, i == 0)
	} else {
		focusIf(d.console, i == 0)
	}
}

// focusable is a pane that can take the keyboard.
type focusable interface {
	Focus()
	Blur()
}

func focusIf(p focusable, on bool) {
	if on {
		p.Focus()
	} else {
		p.Blur()
	}
}

// setSize lays the panes out and gives each its box: sizes cascade from
// here, the root.
func (d *Model) setSize(width, height int) {
	d.width, d.height = width, height
	d.left, d.boxes = layout(width, height, len(d.phones), d.tour != nil)
	if d.console != nil {
		d.console.SetSize(d.left.w, d.left.h)
	}
	if d.tour != nil {
		d.tour.SetSize(d.left.w, d.left.h)
	}
	for i, p := range d.phones {
		p.SetSize(d.boxes[i].w, d.boxes[i].h)
	}
}

func (d *Model) View() tea.View {
	v := tea.NewView(d.render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "pushsim demo"
	return v
}

// render draws every pane in its box.
func (d *Model) render() string {
	if d.width == 0 || d.height == 0 {
		return ""
	}
	views := make([]string, 0, len(d.phones)+1)
	if d.tour != nil {
		views = append(views, d.tour.View())
	} else {
		views = append(views, d.console.View())
	}
	for _, p := range d.phones {
		views = append(views, p.View())
	}
	return compose(d.width, d.height, d.panes(), views)
}
