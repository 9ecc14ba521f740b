package phone

import (
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/pushsim/pushsim/internal/termtext"
	"github.com/pushsim/pushsim/tui/style"
)

// factorsScreen is the sample app's main screen: the factors on the phone,
// newest first, each with its SID, name, identity and status.
type factorsScreen struct {
	c    *common
	list style.ListView
	w, h int
}

func newFactorsScreen(c *common) *factorsScreen {
	return &factorsScreen{c: c, list: style.ListView{RowHeight: 4}}
}

func (s *factorsScreen) kind() Screen  { return ScreenFactors }
func (s *factorsScreen) title() string { return "Factors" }
func (s *factorsScreen) typing() bool  { return false }

func (s *factorsScreen) info() string {
	if n := len(s.c.inbox.factors); n > 0 {
		return strconv.Itoa(n) + " on this phone"
	}
	return ""
}

func (s *factorsScreen) setSize(w, h int) {
	s.w, s.h = w, h
	s.list.Height = h
}

func (s *factorsScreen) show() tea.Cmd { return s.c.loadFactors() }

func (s *factorsScreen) help() []key.Binding {
	k := s.c.keys
	if len(s.c.inbox.factors) == 0 {
		return []key.Binding{k.Create, k.Settings, k.Log}
	}
	return []key.Binding{k.Open, k.Create, k.Settings, k.Log, k.Delete}
}

func (s *factorsScreen) keys() []key.Binding {
	k := s.c.keys
	return append([]key.Binding{k.Open, k.Create, k.Delete, k.Refresh}, k.Navigation()...)
}

func (s *factorsScreen) selected() (string, bool) {
	f := s.c.inbox.factors
	s.list.Clamp(len(f))
	if len(f) == 0 {
		return "", false
	}
	return f[s.list.Cursor].Sid, true
}

func (s *factorsScreen) update(msg tea.Msg) tea.Cmd {
	k, tag := s.c.keys, s.c.tag()
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		if s.list.Navigate(msg, k, len(s.c.inbox.factors)) {
			return nil
		}
		switch {
		case key.Matches(msg, k.Open):
			if sid, ok := s.selected(); ok {
				return cmdOf(openFactorMsg{tagged: tag, factorSid: sid})
			}
			return cmdOf(openEnrollMsg{tagged: tag})
		case key.Matches(msg, k.Create):
			return cmdOf(openEnrollMsg{tagged: tag})
		case key.Matches(msg, k.Delete):
			if sid, ok := s.selected(); ok {
				return confirmDelete(s.c, sid)
			}
		case key.Matches(msg, k.Refresh):
			return s.c.loadFactors()
		}
	case clickMsg:
		switch {
		case msg.zone == "factors:new":
			return cmdOf(openEnrollMsg{tagged: tag})
		case strings.HasPrefix(msg.zone, "factor:"):
			i, err := strconv.Atoi(strings.TrimPrefix(msg.zone, "factor:"))
			if err == nil && i < len(s.c.inbox.factors) {
				s.list.Cursor = i
				return cmdOf(openFactorMsg{tagged: tag, factorSid: s.c.inbox.factors[i].Sid})
			}
		}
	}
	return nil
}

// confirmDelete asks before deleting a factor, which the server forgets too.
func confirmDelete(c *common, factorSid string) tea.Cmd {
	name := termtext.Line(factorSid)
	if f, ok := c.inbox.factor(factorSid); ok && f.FriendlyName != "" {
		name = f.FriendlyName
	}
	return cmdOf(confirmMsg{
		tagged:   c.tag(),
		question: "Delete " + name + "?",
		detail:   "The factor is deleted on the server and its key on the phone.",
		yes:      func() tea.Msg { return deleteFactorMsg{tagged: c.tag(), factorSid: factorSid} },
	})
}

func (s *factorsScreen) view() string {
	st := s.c.styles
	factors := s.c.inbox.factors
	if len(factors) == 0 {
		return s.emptyView()
	}
	now := s.c.verifyNow()
	start, end := s.list.Window(len(factors))
	var rows []string
	for i := start; i < end; i++ {
		f := factors[i]
		selected := i == s.list.Cursor
		cursor := "  "
		nameStyle := st.Strong
		if selected {
			cursor = st.Cursor.Render("▸ ")
			nameStyle = st.Selected
		}
		status := st.FactorStatus[f.Status].Render(f.Status)
		head := style.Spread(cursor+nameStyle.Render(f.FriendlyName), status, s.w)
		pending := ""
		if n := s.c.inbox.pendingFor(f.Sid, now); n > 0 {
			pending = st.ChallengeStatus["pending"].Render("● " + strconv.Itoa(n) + " pending")
		}
		platform := f.NotificationPlatform
		if platform == "" {
			platform = "none"
		}
		lines := []string{
			head,
			"  " + st.Label.Render("Sid") + " " + st.Text.Render(termtext.Line(f.Sid)),
			style.Spread("  "+st.Label.Render("User")+" "+st.Text.Render(style.Shorten(f.Identity, s.w-8-ansi.StringWidth(pending+" "+platform))), pending+" "+st.Muted.Render(platform), s.w),
			"",
		}
		rows = append(rows, style.Mark("factor:"+strconv.Itoa(i), strings.Join(style.FitBlock(strings.Join(lines, "\n"), s.w, 4), "\n")))
	}
	return strings.Join(rows, "\n")
}

func (s *factorsScreen) emptyView() string {
	st := s.c.styles
	var lines []string
	if s.c.isBusy("launch-enroll") {
		lines = []string{st.Spinner.Render(s.c.spin) + " " + st.Text.Render(s.c.busy["launch-enroll"])}
	} else if !s.c.inbox.factorsLoaded {
		lines = []string{st.Muted.Render("Loading…")}
	} else {
		lines = []string{
			st.Empty.Render("No factors on this phone yet."),
			"",
			st.Text.Render("Create one to enroll this phone"),
			st.Text.Render("for push approvals."),
			"",
			style.Mark("factors:new", st.Button.Focused.Render("+ New factor")),
		}
	}
	block := lipgloss.JoinVertical(lipgloss.Center, lines...)
	return lipgloss.Place(s.w, max(s.h-2, 1), lipgloss.Center, lipgloss.Center, block)
}
