package phone

import (
	"context"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/verifyclient"
	"github.com/pushsim/pushsim/internal/termtext"
	"github.com/pushsim/pushsim/tui/style"
)

// factorScreen is a factor's detail and its challenge inbox: the factor's
// info, the "silently approve" toggle, then its challenges newest first
// with the pending ones highlighted.
type factorScreen struct {
	c         *common
	factorSid string
	list      style.ListView
	// selected is the SID under the cursor, so the cursor stays on it when
	// a new challenge arrives above.
	selectedSid string
	loaded      bool
	w, h        int
}

func newFactorScreen(c *common, factorSid string) *factorScreen {
	return &factorScreen{c: c, factorSid: factorSid, list: style.ListView{RowHeight: 2}}
}

func (s *factorScreen) kind() Screen { return ScreenFactor }
func (s *factorScreen) typing() bool { return false }

func (s *factorScreen) title() string {
	if f, ok := s.c.inbox.factor(s.factorSid); ok && f.FriendlyName != "" {
		return f.FriendlyName
	}
	return "Factor"
}

func (s *factorScreen) info() string { return "" }

func (s *factorScreen) setSize(w, h int) {
	s.w, s.h = w, h
	// The info block's height is known once drawn; view sets the rest.
	s.list.Height = h
}

func (s *factorScreen) show() tea.Cmd { return s.c.loadChallenges(s.factorSid) }

func (s *factorScreen) help() []key.Binding {
	k := s.c.keys
	if ch := s.selected(); ch != nil && isPending(ch, s.c.verifyNow()) {
		return []key.Binding{k.Approve, k.Deny, k.Open, k.Silent, k.Back}
	}
	return []key.Binding{k.Open, k.Silent, k.Refresh, k.Back}
}

func (s *factorScreen) keys() []key.Binding {
	k := s.c.keys
	return append([]key.Binding{k.Open, k.Approve, k.Deny, k.Silent, k.Refresh, k.Delete}, k.Navigation()...)
}

func (s *factorScreen) challenges() []*device.Challenge { return s.c.inbox.byFactor[s.factorSid] }

func (s *factorScreen) selected() *device.Challenge {
	list := s.challenges()
	s.follow(list)
	if len(list) == 0 {
		return nil
	}
	return list[s.list.Cursor]
}

// follow moves the cursor to the selected challenge's new place.
func (s *factorScreen) follow(list []*device.Challenge) {
	for i, ch := range list {
		if ch.Sid == s.selectedSid {
			s.list.Cursor = i
			break
		}
	}
	s.list.Clamp(len(list))
	if len(list) > 0 {
		s.selectedSid = list[s.list.Cursor].Sid
	}
}

func (s *factorScreen) update(msg tea.Msg) tea.Cmd {
	k, tag := s.c.keys, s.c.tag()
	switch msg := msg.(type) {
	case challengesLoadedMsg:
		if msg.factorSid == s.factorSid {
			s.loaded = true
		}
	case tea.KeyPressMsg:
		list := s.challenges()
		s.follow(list)
		if s.list.Navigate(msg, k, len(list)) {
			if len(list) > 0 {
				s.selectedSid = list[s.list.Cursor].Sid
			}
			return nil
		}
		switch {
		case key.Matches(msg, k.Open):
			if ch := s.selected(); ch != nil {
				return cmdOf(openChallengeMsg{tagged: tag, factorSid: s.factorSid, challengeSid: ch.Sid})
			}
		case key.Matches(msg, k.Approve):
			return s.answer(verifyclient.ChallengeApproved)
		case key.Matches(msg, k.Deny):
			return s.answer(verifyclient.ChallengeDenied)
		case key.Matches(msg, k.Silent):
			return s.toggleSilent()
		case key.Matches(msg, k.Refresh):
			return s.c.loadChallenges(s.factorSid)
		case key.Matches(msg, k.Delete):
			return confirmDelete(s.c, s.factorSid)
		}
	case clickMsg:
		switch {
		case msg.zone == "factor:silent":
			return s.toggleSilent()
		case strings.HasPrefix(msg.zone, "challenge:"):
			i, err := strconv.Atoi(strings.TrimPrefix(msg.zone, "challenge:"))
			if list := s.challenges(); err == nil && i < len(list) {
				s.list.Cursor, s.selectedSid = i, list[i].Sid
				return cmdOf(openChallengeMsg{tagged: tag, factorSid: s.factorSid, challengeSid: list[i].Sid})
			}
		}
	}
	return nil
}

func (s *factorScreen) answer(status string) tea.Cmd {
	ch := s.selected()
	if ch == nil || !isPending(ch, s.c.verifyNow()) {
		return nil
	}
	return cmdOf(answerMsg{tagged: s.c.tag(), factorSid: s.factorSid, challengeSid: ch.Sid, status: status})
}

func (s *factorScreen) toggleSilent() tea.Cmd {
	on := !s.c.inbox.silent[s.factorSid]
	s.c.inbox.silent[s.factorSid] = on
	sid, dev := s.factorSid, s.c.dev
	return s.c.setting("silent", func(context.Context) error { return dev.SetSilentApproval(sid, on) })
}

func (s *factorScreen) view() string {
	st := s.c.styles
	now := s.c.verifyNow()
	f, _ := s.c.inbox.factor(s.factorSid)
	platform := f.NotificationPlatform
	if platform == "" {
		platform = "none"
	}
	row := func(label, value string) string { return style.Field(st, label, value, s.w) }
	check := "[ ]"
	if s.c.inbox.silent[s.factorSid] {
		check = st.Toggle.On.Render("[x]")
	}
	lines := []string{
		row("Sid", st.Text.Render(termtext.Line(f.Sid))),
		row("User", st.Text.Render(termtext.Line(f.Identity))),
		row("Status", st.FactorStatus[f.Status].Render(f.Status)+st.Muted.Render(" · push platform ")+st.Text.Render(platform)),
		style.Mark("factor:silent", check+" "+st.Text.Render("Silently approve challenges")),
	}
	list := s.challenges()
	pending := s.c.inbox.pendingFor(s.factorSid, now)
	heading := "Challenges"
	if pending > 0 {
		heading += " · " + strconv.Itoa(pending) + " pending"
	}
	lines = strings.Split(strings.Join(lines, "\n"), "\n")
	lines = append(lines, "", st.Heading.Render(heading))
	s.list.Height = max(s.h-len(lines), 2)
	switch {
	case len(list) == 0 && !s.loaded:
		lines = append(lines, st.Spinner.Render(s.c.spin)+" "+st.Muted.Render("Loading challenges…"))
	case len(list) == 0:
		lines = append(lines, st.Empty.Render("No challenges yet."))
	default:
		s.follow(list)
		start, end := s.list.Window(len(list))
		for i := start; i < end; i++ {
			lines = append(lines, style.Mark("challenge:"+strconv.Itoa(i), s.rowView(list[i], i == s.list.Cursor, now)))
		}
	}
	return strings.Join(lines, "\n")
}

// rowView draws one challenge in two lines: its message and, for a pending
// one, the time left; then its status, SID and age.
func (s *factorScreen) rowView(ch *device.Challenge, selected bool, now time.Time) string {
	st := s.c.styles
	status := displayStatus(ch, now)
	marker, msgStyle := "  ", st.Text
	right := ""
	if status == verifyclient.ChallengePending {
		marker, msgStyle = st.ChallengeStatus[status].Render("● "), st.Strong
		right = st.Countdown.Render(style.Countdown(now, ch.ExpirationDate))
		if s.c.isBusy(ch.Sid) {
			right = st.Spinner.Render(s.c.spin) + " " + st.Muted.Render(s.c.busy[ch.Sid])
		}
	}
	if selected {
		msgStyle = st.Selected
	}
	message := ch.Details.Message
	if message == "" {
		message = "(no message)"
	}
	first := style.Spread(marker+msgStyle.Render(message), right, s.w)
	statusText := st.StatusStyle(status).Render(status)
	if answeredElsewhere(ch) {
		statusText = st.Muted.Render("Answered on another device")
	}
	second := "  " + statusText + st.Muted.Render(" · "+style.Shorten(termtext.Line(ch.Sid), 14)+" · "+style.Ago(now, ch.CreatedAt))
	return style.FitLine(first, s.w) + "\n" + style.FitLine(second, s.w)
}
