package phone

import (
	"context"
	"errors"
	"fmt"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/tui/style"
)

// Options configure one phone. Everything else it needs (where its
// server, backend and push service are, its clock, its poll interval and
// the log of its HTTP exchanges) it learns from its device.
type Options struct {
	// Identity enrolls a factor at start when the phone has none, named
	// FriendlyName, and prefills the enrolment form.
	Identity     string
	FriendlyName string
	// AutoAnswer, when "approved" or "denied", answers every challenge
	// that reaches the phone, as device.LaunchOptions.AutoAnswer does.
	AutoAnswer string
	// NoPush opens the app without push: factors use platform none and
	// the phone polls. The settings can turn push on if the device knows
	// a push service.
	NoPush bool
	// Theme is the palette; default style.DefaultTheme. NoColor draws
	// without colour from the start (the program also reports NO_COLOR
	// terminals).
	Theme   style.Theme
	NoColor bool
	// Keys is the key map; default style.DefaultKeyMap.
	Keys *style.KeyMap
	// Context bounds the phone's background work; Close also ends it.
	Context context.Context
	// NoLaunch leaves running the device to the caller: the phone only
	// listens to its events. For tests, and for hosts that launch the
	// device themselves.
	NoLaunch bool
}

// Phone is the embeddable phone component. It is not a tea.Model itself
// (Update returns *Phone, View a string) so that a host can place one or
// several phones in its own layout; NewModel wraps one for a program.
type Phone struct {
	c      *common
	cancel context.CancelFunc
	events <-chan device.Event

	screens []screen
	pushOn  bool
	launch  launcher

	banner   banner
	notice   notice
	dialog   *dialog
	numbers  *numberPrompt
	showHelp bool
	focused  bool
	// mismatched are challenges denied because the number typed did not
	// match, so their denial says why.
	mismatched map[string]bool

	spinner  spinner.Model
	spinning bool
	// refreshGen retires refresh ticks armed at an older interval.
	refreshGen int

	width, height int
	// zones are the clickable parts of the last frame, relative to the
	// box given to SetSize.
	zones style.ZoneMap
}

// New builds a phone for dev. It starts nothing: Init subscribes to the
// device and opens the app.
func New(dev *device.Device, o Options) (*Phone, error) {
	if dev == nil {
		return nil, errors.New("phone: a device is required")
	}
	if o.Keys == nil {
		o.Keys = style.DefaultKeyMap()
	}
	if o.Theme.Name == "" {
		o.Theme = style.DefaultTheme()
	}
	if o.Context == nil {
		o.Context = context.Background()
	}
	ctx, cancel := context.WithCancel(o.Context)
	p := &Phone{cancel: cancel, pushOn: !o.NoPush && dev.PushURL() != "", focused: true, mismatched: map[string]bool{}}
	p.c = &common{
		id:     fmt.Sprintf("phone-%p", p),
		ctx:    ctx,
		dev:    dev,
		styles: style.NewStyles(o.Theme, !o.NoColor),
		keys:   o.Keys,
		inbox:  newInbox(),
		opts:   o,
		busy:   map[string]string{},
	}
	p.spinner = spinner.New(spinner.WithSpinner(spinner.MiniDot))
	p.applyStyles()
	p.screens = []screen{newFactorsScreen(p.c)}
	return p, nil
}

// Init subscribes to the device's events, opens the app (unless NoLaunch)
// and starts the clock.
func (p *Phone) Init() tea.Cmd {
	p.events = p.c.dev.Subscribe(p.c.ctx)
	cmds := []tea.Cmd{
		waitForEvent(p.c.tag(), p.events),
		p.c.loadFactors(),
		p.c.clockTick(),
		p.rearmRefresh(),
	}
	if !p.c.opts.NoLaunch {
		cmds = append(cmds, p.startLaunch())
	}
	return tea.Batch(cmds...)
}

// Close stops the phone's background work and the app it launched.
func (p *Phone) Close() { p.cancel() }

// SetSize gives the phone its box; it centres itself inside.
func (p *Phone) SetSize(width, height int) {
	p.width, p.height = width, height
	w, h, ok := phoneSize(width, height)
	if !ok {
		return
	}
	cw, ch := contentSize(w, h)
	p.c.width, p.c.height = cw, ch
	for _, s := range p.screens {
		s.setSize(cw, ch)
	}
}

// Focus gives the phone the keyboard; Blur takes it away (a host with
// several phones focuses one). A blurred phone still follows its device.
func (p *Phone) Focus() { p.focused = true }
func (p *Phone) Blur()  { p.focused = false }

// Focused reports whether the phone takes key presses.
func (p *Phone) Focused() bool { return p.focused }

// ID is the tag on the phone's own messages.
func (p *Phone) ID() string { return p.c.id }

// SetTheme switches palettes at run time.
func (p *Phone) SetTheme(t style.Theme) {
	p.c.styles = style.NewStyles(t, p.c.styles.Colour)
	p.applyStyles()
}

// setColour follows the terminal's colour support.
func (p *Phone) setColour(on bool) {
	if on == p.c.styles.Colour {
		return
	}
	p.c.styles = style.NewStyles(p.c.styles.Theme, on)
	p.applyStyles()
}

func (p *Phone) applyStyles() {
	p.spinner.Style = p.c.styles.Spinner
	p.c.spin = p.spinner.View()
	for _, s := range p.screens {
		if e, ok := s.(*enrollScreen); ok {
			e.identity.SetStyles(p.c.styles.Input)
		}
	}
}

// top is the screen on top of the stack.
func (p *Phone) top() screen { return p.screens[len(p.screens)-1] }

// push opens a screen on top.
func (p *Phone) push(s screen) tea.Cmd {
	s.setSize(p.c.width, p.c.height)
	p.screens = append(p.screens, s)
	return s.show()
}

// pop closes the top screen; the factor list never closes.
func (p *Phone) pop() tea.Cmd {
	if len(p.screens) == 1 {
		return nil
	}
	p.screens = p.screens[:len(p.screens)-1]
	return p.top().show()
}

// openChallenge shows a challenge's screen. One opened from a notification
// is a detour, not a place in the history: it replaces any other challenge
// opened from a notification, so that esc returns to where the user was
// before the banners came, however many of them they opened on the way.
func (p *Phone) openChallenge(msg openChallengeMsg) tea.Cmd {
	if t, ok := p.top().(*challengeScreen); ok && t.challengeSid == msg.challengeSid {
		return t.show()
	}
	if msg.fromNotification {
		kept := p.screens[:0]
		for _, s := range p.screens {
			if t, ok := s.(*challengeScreen); ok && t.fromNotification {
				continue
			}
			kept = append(kept, s)
		}
		clear(p.screens[len(kept):])
		p.screens = kept
	}
	s := newChallengeScreen(p.c, msg.factorSid, msg.challengeSid)
	s.fromNotification = msg.fromNotification
	return p.push(s)
}

// popTo closes screens until kind is on top, or only the factor list is left.
func (p *Phone) popTo(kind Screen) tea.Cmd {
	for len(p.screens) > 1 && p.top().kind() != kind {
		p.screens = p.screens[:len(p.screens)-1]
	}
	return p.top().show()
}
