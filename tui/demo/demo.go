package demo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

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
	// Phones is how many phones the user has; default 1. They stand side
	// by side when the terminal is wide enough, else in a grid, else they
	// take turns under a row of tabs (see layout).
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
	// TemporaryHome says Home is deleted when the demo ends, so quitting
	// loses what the demo made: q asks first.
	TemporaryHome bool

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
// click focuses the pane it lands in. When the terminal cannot hold every
// pane, some take turns under a row of tabs (layout), the one with focus
// shown.
type Model struct {
	opts    Options
	cancel  context.CancelFunc
	common  *style.Common
	keys    *style.DemoKeyMap
	console *console.Console // nil in the tour
	tour    *tour.Tour       // nil in the console demo
	phones  []*phone.Phone

	focus         int // 0 the left pane, i+1 phone i
	lastPhone     int // the phone that had focus last, from 0
	width, height int
	zones         style.ZoneMap // the tab row's tabs and the quit dialog's buttons

	// Where the panes are: d.left, d.phoneBoxes, the tab row and the box
	// under it.
	screenLayout

	quit     *quitDialog // asking whether to quit, when not nil
	quitting bool        // the user said yes: let the quit through
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
	case askQuitMsg:
		return d, d.openQuit()
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
	if d.quit != nil {
		return d.quitKey(msg)
	}
	switch {
	case key.Matches(msg, d.keys.ForceQuit):
		d.quitting = true
		return tea.Quit
	case key.Matches(msg, d.keys.FocusNext):
		d.setFocus((d.focus + 1) % (len(d.phones) + 1))
		return nil
	case key.Matches(msg, d.keys.FocusPrev):
		d.setFocus((d.focus + len(d.phones)) % (len(d.phones) + 1))
		return nil
	case d.arrangement == tooSmall:
		// No pane is on screen: a key must not act unseen. Quitting
		// still works, asking first as anywhere.
		if key.Matches(msg, d.keys.Quit) {
			return d.openQuit()
		}
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
// its own coordinates. A click on a tab shows its pane; while the demo asks
// whether to quit, only its buttons take clicks.
func (d *Model) handleClick(msg tea.MouseClickMsg) tea.Cmd {
	zone := d.zones.Hit(msg.X, msg.Y)
	if d.quit != nil {
		return d.quitClick(zone)
	}
	if pane, ok := strings.CutPrefix(zone, "tab:"); ok {
		if i, err := strconv.Atoi(pane); err == nil {
			d.setFocus(i)
		}
		return nil
	}
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

// setFocus gives pane i the keyboard and, when panes take turns, shows it.
func (d *Model) setFocus(i int) {
	d.focus = i
	if i > 0 {
		d.lastPhone = i - 1
	}
	d.arrange()
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

// setSize lays the panes out for a new terminal size.
func (d *Model) setSize(width, height int) {
	d.width, d.height = width, height
	d.arrange()
}

// arrange lays the panes out and gives each its box: sizes cascade from
// here, the root. A pane waiting for its turn gets the size of the box it
// will be shown in.
func (d *Model) arrange() {
	d.screenLayout = layout(d.width, d.height, len(d.phones), d.tour != nil, d.focus, d.lastPhone)
	size := func(b box) (int, int) {
		if b.w == 0 {
			b = d.slot
		}
		return b.w, b.h
	}
	if d.console != nil {
		d.console.SetSize(size(d.left))
	}
	if d.tour != nil {
		d.tour.SetSize(size(d.left))
	}
	for i, p := range d.phones {
		p.SetSize(size(d.phoneBoxes[i]))
	}
}

func (d *Model) View() tea.View {
	v := tea.NewView(d.render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "pushsim demo"
	return v
}

// render draws every pane on screen in its box, the tab row when panes
// take turns, and the question before quitting over everything.
func (d *Model) render() string {
	if d.width == 0 || d.height == 0 {
		return ""
	}
	st := d.common.Styles
	var frame string
	if d.arrangement == tooSmall {
		w, h := minimum()
		frame = style.TooSmall(st, "the demo", w, h, d.width, d.height)
	} else {
		frame = d.composePanes()
	}
	if d.quit != nil {
		lines := strings.Split(frame, "\n")
		dialog := d.quit.view(st, d.keys, max(min(d.width-2, 56), 8))
		lines = style.Overlay(lines, dialog, max((d.height-lipgloss.Height(dialog))/2, 0), d.width)
		frame = strings.Join(lines, "\n")
	}
	clean, zones := style.ScanZones(frame)
	d.zones = zones
	return clean
}

// composePanes draws the panes on screen, and the tab row when some take
// turns.
func (d *Model) composePanes() string {
	boxes := d.panes()
	views := make([]string, len(boxes))
	for i, b := range boxes {
		switch {
		case b.w == 0:
		case i > 0:
			views[i] = d.phones[i-1].View()
		case d.tour != nil:
			views[i] = d.tour.View()
		default:
			views[i] = d.console.View()
		}
	}
	if len(d.tabs) > 0 {
		boxes = append(boxes, d.tabRow)
		views = append(views, d.tabRowView(d.tabRow.w))
	}
	return compose(d.width, d.height, boxes, views)
}

// paneName is what a tab calls pane i; short names are for a tab row
// too narrow for the long ones.
func (d *Model) paneName(i int, short bool) string {
	switch {
	case i == 0 && d.tour != nil && short:
		return "Tour"
	case i == 0 && d.tour != nil:
		return "Quickstart"
	case i == 0 && short:
		return "Backend"
	case i == 0:
		return "App backend"
	case len(d.phones) == 1:
		return "Phone"
	case short:
		return "P" + strconv.Itoa(i)
	}
	return "Phone " + strconv.Itoa(i)
}

// tabRowView is the row of tabs over the panes that take turns: the one
// with focus marked ▸ (and in reverse video), the one shown while the
// left pane has focus marked ▹, and each phone's count of challenges
// waiting, so a push to a phone not shown is seen. The key that moves
// between them follows when there is room.
func (d *Model) tabRowView(width int) string {
	st := d.common.Styles
	shown := d.focus
	if d.arrangement == phoneTabs && d.focus == 0 {
		shown = d.lastPhone + 1
	}
	row := func(short bool) string {
		var tabs []string
		for _, i := range d.tabs {
			name := d.paneName(i, short)
			var tab string
			switch {
			case i == d.focus:
				tab = st.Selected.Render("▸ " + name)
			case i == shown:
				tab = st.Strong.Render("▹ " + name)
			default:
				tab = st.Muted.Render("  " + name)
			}
			if i > 0 {
				if n := d.phones[i-1].State().Badge; n > 0 {
					tab += " " + st.Status.Badge.Render(strconv.Itoa(n))
				}
			}
			tabs = append(tabs, style.Mark("tab:"+strconv.Itoa(i), tab))
		}
		return strings.Join(tabs, " ")
	}
	tabs := row(false)
	if ansi.StringWidth(tabs) > width {
		tabs = row(true)
	}
	if hint := style.ShortHelp(st, []key.Binding{d.keys.FocusNext}, width); ansi.StringWidth(tabs)+2+ansi.StringWidth(hint) <= width {
		return style.Spread(tabs, hint, width)
	}
	return tabs
}
