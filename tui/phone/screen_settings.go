package phone

import (
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/pushsim/pushsim/tui/style"
)

// settingsScreen holds the phone's switches: the ones the sample app has
// (push) and the ones a simulator needs to provoke the hard cases
// (airplane mode, a skewed clock, background, a reinstall).
type settingsScreen struct {
	c    *common
	p    *Phone
	list style.ListView
	w, h int
}

const (
	settingPush = iota
	settingPollInterval
	settingAirplane
	settingClockOffset
	settingForeground
	settingReinstall
	settingCount
)

// The steps the left and right keys move through.
var (
	pollSteps   = []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute}
	offsetSteps = []time.Duration{-time.Hour, -10 * time.Minute, -5 * time.Minute, -time.Minute, -30 * time.Second, 0,
		30 * time.Second, time.Minute, 5 * time.Minute, 10 * time.Minute, time.Hour}
)

func newSettingsScreen(p *Phone) *settingsScreen {
	return &settingsScreen{c: p.c, p: p, list: style.ListView{RowHeight: 3}}
}

func (s *settingsScreen) kind() Screen  { return ScreenSettings }
func (s *settingsScreen) title() string { return "Settings" }
func (s *settingsScreen) info() string  { return "" }
func (s *settingsScreen) typing() bool  { return false }
func (s *settingsScreen) show() tea.Cmd { return nil }

func (s *settingsScreen) setSize(w, h int) {
	s.w, s.h = w, h
	s.list.Height = h
}

func (s *settingsScreen) help() []key.Binding {
	k := s.c.keys
	return []key.Binding{k.Toggle, k.Change, k.Back}
}

func (s *settingsScreen) keys() []key.Binding {
	k := s.c.keys
	return []key.Binding{k.Up, k.Down, k.Toggle, k.Left, k.Right}
}

func (s *settingsScreen) update(msg tea.Msg) tea.Cmd {
	k := s.c.keys
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		if s.list.Navigate(msg, k, settingCount) {
			return nil
		}
		switch {
		case key.Matches(msg, k.Toggle):
			return s.activate(s.list.Cursor)
		case key.Matches(msg, k.Left):
			return s.adjust(s.list.Cursor, -1)
		case key.Matches(msg, k.Right):
			return s.adjust(s.list.Cursor, +1)
		}
	case clickMsg:
		if i, ok := strings.CutPrefix(msg.zone, "setting:"); ok {
			if n, err := strconv.Atoi(i); err == nil {
				s.list.Cursor = n
				return s.activate(n)
			}
		}
		if i, ok := strings.CutPrefix(msg.zone, "setting-less:"); ok {
			if n, err := strconv.Atoi(i); err == nil {
				s.list.Cursor = n
				return s.adjust(n, -1)
			}
		}
		if i, ok := strings.CutPrefix(msg.zone, "setting-more:"); ok {
			if n, err := strconv.Atoi(i); err == nil {
				s.list.Cursor = n
				return s.adjust(n, +1)
			}
		}
	}
	return nil
}

// activate is space or enter on a row: flip a switch, or step a value up.
func (s *settingsScreen) activate(row int) tea.Cmd {
	dev := s.c.dev
	switch row {
	case settingPush:
		return s.p.setPush(!s.p.pushOn)
	case settingAirplane:
		dev.SetAirplaneMode(!dev.AirplaneMode())
	case settingForeground:
		dev.SetForeground(!dev.Foreground())
	case settingReinstall:
		return cmdOf(confirmMsg{
			tagged:   s.c.tag(),
			question: "Reinstall the app?",
			detail:   "Wipes every factor and key on the phone. The server keeps the factors.",
			yes:      cmdOf(reinstallMsg{tagged: s.c.tag()}),
		})
	case settingPollInterval, settingClockOffset:
		return s.adjust(row, +1)
	}
	return nil
}

// adjust steps a value setting; for switches both directions flip.
func (s *settingsScreen) adjust(row, dir int) tea.Cmd {
	dev := s.c.dev
	switch row {
	case settingPollInterval:
		dev.SetPollInterval(step(pollSteps, dev.PollInterval(), dir))
		return s.p.rearmRefresh()
	case settingClockOffset:
		if err := dev.SetClockOffset(step(offsetSteps, dev.ClockOffset(), dir)); err != nil {
			return s.p.showError(err)
		}
	case settingReinstall:
	default:
		return s.activate(row)
	}
	return nil
}

// step moves from cur to the next step in dir; a value between steps
// moves to the nearest one that way.
func step(steps []time.Duration, cur time.Duration, dir int) time.Duration {
	if dir > 0 {
		for _, v := range steps {
			if v > cur {
				return v
			}
		}
		return steps[len(steps)-1]
	}
	for i := len(steps) - 1; i >= 0; i-- {
		if steps[i] < cur {
			return steps[i]
		}
	}
	return steps[0]
}

func (s *settingsScreen) view() string {
	st := s.c.styles
	dev := s.c.dev
	onOff := func(on bool) string {
		if on {
			return st.Toggle.On.Render("[on ]")
		}
		return st.Toggle.Off.Render("[off]")
	}
	stepper := func(i int, v string) string {
		return style.Mark("setting-less:"+strconv.Itoa(i), st.Cursor.Render("‹")) + " " + st.Strong.Render(v) + " " + style.Mark("setting-more:"+strconv.Itoa(i), st.Cursor.Render("›"))
	}
	interval := dev.PollInterval()
	pushHint := "challenges arrive by push"
	if !s.p.pushOn {
		pushHint = "off: platform none, the phone polls"
	}
	offset := dev.ClockOffset()
	offsetHint := "the phone's clock is right"
	if offset != 0 {
		offsetHint = "skewed: a 401 teaches the correction"
	}
	rows := []struct{ label, value, hint string }{
		{"Push notifications", onOff(s.p.pushOn), pushHint},
		{"Poll interval", stepper(settingPollInterval, interval.String()), "time between polls for challenges"},
		{"Airplane mode", onOff(dev.AirplaneMode()), "no network: no polls, no pushes"},
		{"Clock offset", stepper(settingClockOffset, signedDuration(offset)), offsetHint},
		{"App in foreground", onOff(dev.Foreground()), "silent approval needs the foreground"},
		{"Reinstall app", st.Text.Render("wipe ›"), "wipe keys and factors on the phone"},
	}
	start, end := s.list.Window(len(rows))
	var out []string
	for i := start; i < end; i++ {
		r := rows[i]
		label := st.Text.Render(r.label)
		cursor := "  "
		if i == s.list.Cursor {
			cursor = st.Cursor.Render("▸ ")
			label = st.Selected.Render(r.label)
		}
		block := style.Spread(cursor+label, r.value, s.w) + "\n" + style.FitLine("  "+st.Muted.Render(r.hint), s.w)
		out = append(out, style.Mark("setting:"+strconv.Itoa(i), block)+"\n")
	}
	return strings.Join(out, "\n")
}
