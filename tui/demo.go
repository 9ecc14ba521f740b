package tui

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
)

// DemoOptions configure the demo: the app backend's console (or the guided
// tour) beside one or more phones of one user, all talking to one server.
type DemoOptions struct {
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
	// Tour puts the quickstart's guided tour in place of the console.
	Tour bool
	// DeleteFactorsOnExit deletes the phones' factors on the server when
	// the demo ends, for homes that are thrown away: their factors would
	// otherwise stay behind, unanswerable, on a server that outlives them.
	DeleteFactorsOnExit bool

	// App names the phones' app; default verifyclient.DefaultApp("demo").
	App verifyclient.App
	// Theme, NoColor and Keys are as for a phone.
	Theme   Theme
	NoColor bool
	Keys    *KeyMap
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

// Demo is `pushsim demo` as a tea.Model: the console (or the tour) on the
// left, the phones on the right. Tab moves the keyboard between panes, a
// click focuses the pane it lands in.
type Demo struct {
	opts    DemoOptions
	cancel  context.CancelFunc
	styles  *Styles
	keys    *demoKeyMap
	console *console // nil in the tour
	tour    *tour    // nil in the console demo
	phones  []*Phone
	devices []*device.Device

	focus         int // 0 the left pane, i+1 phone i
	width, height int
	left          box
	boxes         []box
}

// NewDemo builds the demo's phones and console; nothing runs until Init.
func NewDemo(o DemoOptions) (*Demo, error) {
	if o.ServerURL == "" || o.Home == "" {
		return nil, errors.New("tui: DemoOptions.ServerURL and Home are required")
	}
	o.ServerURL = strings.TrimRight(o.ServerURL, "/")
	if o.User == "" {
		o.User = "alice"
	}
	if o.Phones <= 0 {
		o.Phones = 1
	}
	if o.Tour {
		if o.AccountSid == "" || o.AuthToken == "" {
			return nil, errors.New("the tour calls Verify as your backend does: it needs the account SID and auth token")
		}
		o.Phones = 1 // the quickstart registers one device
	}
	if o.App.PackageName == "" {
		o.App = verifyclient.DefaultApp("demo")
	}
	if o.Theme.Name == "" {
		o.Theme = DefaultTheme()
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.PollInterval <= 0 {
		o.PollInterval = device.DefaultPollInterval
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: requestTimeout}
	}
	if o.Context == nil {
		o.Context = context.Background()
	}
	pushURL, err := device.PushURL(o.ServerURL)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(o.Context)
	o.Context = ctx
	d := &Demo{
		opts: o, cancel: cancel,
		styles: NewStyles(o.Theme, !o.NoColor),
		keys:   newDemoKeyMap(o.Keys),
	}
	client := &backendClient{base: o.ServerURL, accountSid: o.AccountSid, authToken: o.AuthToken, http: o.HTTPClient, log: NewExchangeLog(0, o.Clock)}

	var enrol *tourEnrolment
	if o.Tour {
		if enrol, err = newTourEnrolment(); err != nil {
			cancel()
			return nil, err
		}
	}
	for i := range o.Phones {
		cfg := device.Config{
			Home:           filepath.Join(o.Home, fmt.Sprintf("phone-%d", i+1)),
			BaseURL:        o.ServerURL + "/v2/",
			AccessTokenURL: o.ServerURL + "/backend/access-token",
			App:            o.App,
			Clock:          o.Clock,
		}
		launch := device.LaunchOptions{Identity: o.User, FriendlyName: phoneName(o.User, i, o.Phones), PushURL: pushURL}
		if enrol != nil {
			// The tour enrolls the phone itself, one step at a time.
			cfg.AccessTokenURL, cfg.HTTPClient = enrol.backend.URL(), enrol.network()
			launch.Identity, launch.FriendlyName = "", ""
		}
		p, dev, err := d.newPhone(cfg, launch)
		if err != nil {
			d.Close()
			if enrol != nil {
				enrol.Close()
			}
			return nil, err
		}
		d.phones, d.devices = append(d.phones, p), append(d.devices, dev)
	}
	if enrol != nil {
		d.tour = newTour(ctx, client, enrol, d.devices[0], d.phones[0].c.log, o, d.styles, d.keys)
	} else {
		d.console = newConsole(ctx, client, o.User, o.ServerURL, d.styles, d.keys, o.Clock)
	}
	d.setFocus(0)
	return d, nil
}

// newPhone builds one phone and its device, with an HTTP log and a poll
// interval its settings can change.
func (d *Demo) newPhone(cfg device.Config, launch device.LaunchOptions) (*Phone, *device.Device, error) {
	o := d.opts
	log, ticker := NewExchangeLog(0, o.Clock), NewPollTicker(o.PollInterval)
	cfg.Observer, cfg.Ticker, cfg.PollInterval = log.Record, ticker.Ticker, o.PollInterval
	dev, err := device.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	p, err := NewPhone(PhoneOptions{
		Device: dev, Launch: launch, AccessTokenURL: cfg.AccessTokenURL,
		Log: log, PollTicker: ticker, PollInterval: o.PollInterval,
		Theme: o.Theme, NoColor: o.NoColor, Keys: d.keys.KeyMap, Clock: o.Clock, Context: o.Context,
	})
	return p, dev, err
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
func (d *Demo) Init() tea.Cmd {
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
func (d *Demo) Close() {
	for _, p := range d.phones {
		p.Close()
	}
	if d.tour != nil {
		d.tour.Close()
	}
	d.cancel()
}

func (d *Demo) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		d.setSize(msg.Width, msg.Height)
		return d, nil
	case tea.ColorProfileMsg:
		if on := msg.Profile > colorprofile.ASCII; on != d.styles.Colour {
			d.styles = NewStyles(d.opts.Theme, on)
			d.restyle()
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
	case deviceEventMsg:
		return d, tea.Batch(d.heard(msg), d.toPhones(msg))
	case withdrawnMsg:
		return d, tea.Batch(d.console.Update(msg), d.lookNow())
	case tourPhoneMsg:
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
func (d *Demo) toPhones(msg tea.Msg) tea.Cmd {
	cmds := make([]tea.Cmd, len(d.phones))
	for i, p := range d.phones {
		_, cmds[i] = p.Update(msg)
	}
	return tea.Batch(cmds...)
}

// heard lets the left pane follow what the phones do (the tour has one).
func (d *Demo) heard(msg deviceEventMsg) tea.Cmd {
	if d.console != nil {
		return d.console.deviceEvent(msg.event.Kind)
	}
	return d.tour.deviceEvent(msg.event)
}

// lookNow has every phone poll at once. Verify sends no push when a
// challenge is withdrawn; a production backend follows the expiry with a
// silent push telling the user's other devices to refresh. The demo
// stands in for that push by asking the phones to look now.
func (d *Demo) lookNow() tea.Cmd {
	cmds := make([]tea.Cmd, len(d.devices))
	for i, dev := range d.devices {
		ctx := d.opts.Context
		cmds[i] = func() tea.Msg {
			_ = dev.PollNow(ctx) // failures reach the phone as error events
			return nil
		}
	}
	return tea.Batch(cmds...)
}

// tourPhone does what the tour asks of its phone: show the factor it just
// created, open the app once enrolled, or approve the challenge.
func (d *Demo) tourPhone(msg tourPhoneMsg) tea.Cmd {
	p := d.phones[0]
	switch {
	case msg.approve != "":
		return cmdOf(answerMsg{tagged: p.c.tag(), factorSid: msg.factorSid, challengeSid: msg.approve, status: verifyclient.ChallengeApproved})
	case msg.launch:
		return tea.Batch(p.c.loadFactors(), p.startLaunch())
	}
	return p.c.loadFactors()
}

func (d *Demo) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case msg.String() == "ctrl+c":
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
func (d *Demo) handleClick(msg tea.MouseClickMsg) tea.Cmd {
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
func (d *Demo) toPaneAt(x, y int, translate func(box) tea.Msg) tea.Cmd {
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
func (d *Demo) panes() []box { return append([]box{d.left}, d.boxes...) }

func (d *Demo) setFocus(i int) {
	d.focus = i
	for j, p := range d.phones {
		if j == i-1 {
			p.Focus()
		} else {
			p.Blur()
		}
	}
	if d.console != nil {
		d.console.focused = i == 0
	}
	if d.tour != nil {
		d.tour.focused = i == 0
	}
}

func (d *Demo) setSize(width, height int) {
	d.width, d.height = width, height
	d.left, d.boxes = demoLayout(width, height, len(d.phones), d.tour != nil)
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

// restyle hands the left pane the styles for the terminal's colours; the
// phones restyle themselves.
func (d *Demo) restyle() {
	if d.console != nil {
		d.console.setStyles(d.styles)
	}
	if d.tour != nil {
		d.tour.styles = d.styles
	}
}

func (d *Demo) View() tea.View {
	v := tea.NewView(d.render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "pushsim demo"
	return v
}

// render draws every pane in its box.
func (d *Demo) render() string {
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
