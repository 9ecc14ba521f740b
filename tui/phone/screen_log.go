package phone

import (
	"math"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/internal/termtext"
	"github.com/pushsim/pushsim/tui/style"
)

// logScreen lists every HTTP exchange the phone made, newest first, and
// opens one to show what was on the wire: the device JWT's header and
// claims, the form, the signed answer, the response.
type logScreen struct {
	c      *common
	list   style.ListView
	seq    int // the selected exchange, kept as newer ones arrive
	open   *device.LoggedExchange
	scroll int
	w, h   int

	// shown is the open exchange decoded, its bodies cut to their first
	// lines or whole (wholeBodies, which stays as other exchanges are
	// opened); cut says whether cutting them left anything out.
	shown       []style.Section
	wholeBodies bool
	cut         bool
	// lines is shown wrapped to lineWidth in lineStyles, kept because a
	// whole body is long and the screen is drawn at every key.
	lines      []string
	lineWidth  int
	lineStyles *style.Styles
}

func newLogScreen(c *common) *logScreen {
	return &logScreen{c: c, list: style.ListView{RowHeight: 2}}
}

func (s *logScreen) kind() Screen  { return ScreenLog }
func (s *logScreen) typing() bool  { return false }
func (s *logScreen) show() tea.Cmd { return nil }

func (s *logScreen) title() string {
	if s.open != nil {
		return "HTTP log · #" + strconv.Itoa(s.open.Seq)
	}
	return "HTTP log"
}

func (s *logScreen) info() string {
	return strconv.Itoa(s.c.dev.Exchanges().Total()) + " calls"
}

func (s *logScreen) setSize(w, h int) {
	s.w, s.h = w, h
	s.list.Height = h
}

func (s *logScreen) help() []key.Binding {
	k := s.c.keys
	if s.open != nil {
		if s.cut || s.wholeBodies {
			return []key.Binding{k.Scroll, k.BodiesToggle(s.wholeBodies), k.Back}
		}
		return []key.Binding{k.Scroll, k.Back}
	}
	return []key.Binding{k.Open, k.Back}
}

func (s *logScreen) keys() []key.Binding {
	k := s.c.keys
	return append([]key.Binding{k.Open, k.BodiesToggle(s.wholeBodies)}, k.Navigation()...)
}

// openExchange opens e, its bodies cut or whole as the user last chose.
func (s *logScreen) openExchange(e device.LoggedExchange) {
	s.open, s.seq, s.scroll = &e, e.Seq, 0
	s.decode()
}

func (s *logScreen) decode() {
	full := style.DecodeExchangeBody(*s.open, 0)
	short := style.DecodeExchange(*s.open)
	s.cut = lineCount(full) > lineCount(short)
	s.shown, s.lines = short, nil
	if s.wholeBodies {
		s.shown = full
	}
}

func lineCount(sections []style.Section) int {
	n := 0
	for _, sec := range sections {
		n += len(sec.Lines)
	}
	return n
}

// entries is the log newest first.
func (s *logScreen) entries() []device.LoggedExchange {
	all := s.c.dev.Exchanges().Entries()
	for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
		all[i], all[j] = all[j], all[i]
	}
	return all
}

// follow puts the cursor back on the selected exchange after new ones
// were added above it.
func (s *logScreen) follow(entries []device.LoggedExchange) {
	if s.seq == 0 {
		return
	}
	for i, e := range entries {
		if e.Seq == s.seq {
			s.list.Cursor = i
			return
		}
	}
}

func (s *logScreen) update(msg tea.Msg) tea.Cmd {
	k := s.c.keys
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		if s.open != nil {
			switch {
			case key.Matches(msg, k.Back):
				s.open, s.scroll = nil, 0
			case key.Matches(msg, k.FullBody):
				s.wholeBodies = !s.wholeBodies
				s.decode()
			case key.Matches(msg, k.Up):
				s.scroll = max(s.scroll-1, 0)
			case key.Matches(msg, k.Down):
				s.scroll++
			case key.Matches(msg, k.PageUp):
				s.scroll = max(s.scroll-s.h, 0)
			case key.Matches(msg, k.PageDown):
				s.scroll += s.h
			case key.Matches(msg, k.Home):
				s.scroll = 0
			case key.Matches(msg, k.End):
				s.scroll = math.MaxInt32 // the view stops it at the last page
			}
			return nil
		}
		entries := s.entries()
		s.follow(entries)
		if s.list.Navigate(msg, k, len(entries)) {
			if len(entries) > 0 {
				s.seq = entries[s.list.Cursor].Seq
			}
			return nil
		}
		if key.Matches(msg, k.Open) && len(entries) > 0 {
			s.openExchange(entries[s.list.Cursor])
		}
		if key.Matches(msg, k.Back) {
			return cmdOf(backMsg{tagged: s.c.tag()})
		}
	case clickMsg:
		if i, ok := strings.CutPrefix(msg.zone, "exchange:"); ok {
			entries := s.entries()
			if n, err := strconv.Atoi(i); err == nil && n < len(entries) {
				s.list.Cursor = n
				s.openExchange(entries[n])
			}
		}
	}
	return nil
}

// closes reports whether esc closes an open exchange rather than the screen.
func (s *logScreen) closes() bool { return s.open != nil }

func (s *logScreen) view() string {
	if s.open != nil {
		return s.detailView()
	}
	st := s.c.styles
	entries := s.entries()
	if len(entries) == 0 {
		return st.Empty.Render("No HTTP calls yet.")
	}
	s.follow(entries)
	start, end := s.list.Window(len(entries))
	var rows []string
	for i := start; i < end; i++ {
		e := entries[i]
		method := st.Strong.Render(style.PadRight(e.Method, 6))
		if i == s.list.Cursor {
			method = st.Selected.Render(style.PadRight(e.Method, 6))
		}
		status := s.statusText(e)
		first := method + " " + status + " " + st.Text.Render(termtext.Line(shortPath(e.URL)))
		second := st.Muted.Render("       " + e.At.UTC().Format("15:04:05") + " · " + e.Duration.Round(time.Millisecond).String() + " · #" + strconv.Itoa(e.Seq))
		rows = append(rows, style.Mark("exchange:"+strconv.Itoa(i), style.FitLine(first, s.w)+"\n"+style.FitLine(second, s.w)))
	}
	return strings.Join(rows, "\n")
}

func (s *logScreen) statusText(e device.LoggedExchange) string {
	st := s.c.styles
	switch {
	case e.Err != nil || e.StatusCode == 0:
		return st.Error.Render("ERR")
	case e.StatusCode >= 500:
		return st.Error.Render(strconv.Itoa(e.StatusCode))
	case e.StatusCode >= 400:
		return st.ChallengeStatus["pending"].Render(strconv.Itoa(e.StatusCode))
	}
	return st.ChallengeStatus["approved"].Render(strconv.Itoa(e.StatusCode))
}

// shortPath drops the /v2/Services/VA…/Entities/… prefix every phone call
// shares, keeping what differs.
func shortPath(raw string) string {
	p := style.RequestPath(raw)
	if i := strings.Index(p, "/Entities/"); i >= 0 {
		rest := p[i+len("/Entities/"):]
		if j := strings.Index(rest, "/"); j >= 0 {
			return "…" + rest[j:]
		}
	}
	return p
}

func (s *logScreen) detailView() string {
	if s.lines == nil || s.lineWidth != s.w || s.lineStyles != s.c.styles {
		s.lines, s.lineWidth, s.lineStyles = s.wrapDetail(), s.w, s.c.styles
	}
	s.scroll = min(s.scroll, max(len(s.lines)-s.h, 0))
	return strings.Join(s.lines[s.scroll:], "\n")
}

// wrapDetail lays out the open exchange to the screen's width.
func (s *logScreen) wrapDetail() []string {
	st := s.c.styles
	var lines []string
	for i, sec := range s.shown {
		if i > 0 {
			lines = append(lines, "")
		}
		lines = append(lines, st.Heading.Render(sec.Title))
		for _, l := range sec.Lines {
			// Bodies and headers are the server's words. Wrapping keeps
			// SIDs whole and breaks URLs at '/'.
			lines = append(lines, style.WrapIndented("  "+termtext.Line(l), s.w, 2, st.Text)...)
		}
	}
	if s.cut && !s.wholeBodies {
		lines = append(lines, style.WrapIndented("  "+s.c.keys.FullBody.Help().Key+" shows the whole body", s.w, 2, st.Muted)...)
	}
	return lines
}
