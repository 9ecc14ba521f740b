package phone

import (
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/verifyclient"
	"github.com/pushsim/pushsim/internal/termtext"
	"github.com/pushsim/pushsim/tui/style"
)

// challengeScreen is one challenge: its message, details, hidden details
// behind a toggle, times and a live countdown, and Approve and Deny while
// it is pending.
type challengeScreen struct {
	c            *common
	factorSid    string
	challengeSid string
	// fromNotification: opened from a banner, so it leaves the history
	// when the next banner is opened.
	fromNotification bool
	showHidden       bool
	focus            int // 0 none, 1 approve, 2 deny
	scroll           int
	w, h             int
}

// Rows kept at the bottom of the screen for the buttons or the spinner.
const challengeFooterLines = 2

func newChallengeScreen(c *common, factorSid, challengeSid string) *challengeScreen {
	return &challengeScreen{c: c, factorSid: factorSid, challengeSid: challengeSid}
}

func (s *challengeScreen) kind() Screen     { return ScreenChallenge }
func (s *challengeScreen) title() string    { return "Challenge" }
func (s *challengeScreen) typing() bool     { return false }
func (s *challengeScreen) setSize(w, h int) { s.w, s.h = w, h }

func (s *challengeScreen) info() string {
	if ch := s.challenge(); ch != nil {
		status := displayStatus(ch, s.c.verifyNow())
		return s.c.styles.StatusStyle(status).Render(status)
	}
	return ""
}

func (s *challengeScreen) show() tea.Cmd {
	return s.c.loadChallenge(s.factorSid, s.challengeSid)
}

func (s *challengeScreen) challenge() *device.Challenge {
	return s.c.inbox.challenges[s.challengeSid]
}

// answerable reports whether Approve and Deny are on screen.
func (s *challengeScreen) answerable() bool {
	ch := s.challenge()
	return ch != nil && isPending(ch, s.c.verifyNow())
}

func (s *challengeScreen) help() []key.Binding {
	k := s.c.keys
	if s.answerable() && !s.c.isBusy(s.challengeSid) {
		return []key.Binding{k.Approve, k.Deny, k.Hidden, k.Back}
	}
	return []key.Binding{k.Hidden, k.Refresh, k.Back}
}

func (s *challengeScreen) keys() []key.Binding {
	k := s.c.keys
	return []key.Binding{k.Approve, k.Deny, k.NextField, k.Open, k.Hidden, k.Refresh, k.Up, k.Down}
}

func (s *challengeScreen) answer(status string) tea.Cmd {
	if !s.answerable() || s.c.isBusy(s.challengeSid) {
		return nil
	}
	return cmdOf(answerMsg{tagged: s.c.tag(), factorSid: s.factorSid, challengeSid: s.challengeSid, status: status})
}

func (s *challengeScreen) update(msg tea.Msg) tea.Cmd {
	k := s.c.keys
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, k.Approve):
			return s.answer(verifyclient.ChallengeApproved)
		case key.Matches(msg, k.Deny):
			return s.answer(verifyclient.ChallengeDenied)
		case key.Matches(msg, k.FocusButton, k.Left, k.Right):
			if s.answerable() {
				s.focus = s.focus%2 + 1
			}
		case key.Matches(msg, k.Open):
			switch s.focus {
			case 1:
				return s.answer(verifyclient.ChallengeApproved)
			case 2:
				return s.answer(verifyclient.ChallengeDenied)
			}
		case key.Matches(msg, k.Hidden):
			s.showHidden = !s.showHidden
		case key.Matches(msg, k.Refresh):
			return s.show()
		case key.Matches(msg, k.Up):
			s.scroll = max(s.scroll-1, 0)
		case key.Matches(msg, k.Down):
			s.scroll++
		}
	case clickMsg:
		switch msg.zone {
		case "challenge:approve":
			return s.answer(verifyclient.ChallengeApproved)
		case "challenge:deny":
			return s.answer(verifyclient.ChallengeDenied)
		case "challenge:hidden":
			s.showHidden = !s.showHidden
		}
	}
	return nil
}

func (s *challengeScreen) view() string {
	st := s.c.styles
	ch := s.challenge()
	if ch == nil {
		return st.Spinner.Render(s.c.spin) + " " + st.Muted.Render("Loading challenge…")
	}
	now := s.c.verifyNow()
	status := displayStatus(ch, now)
	row := func(label, value string) string { return style.Field(st, label, value, s.w) }

	message := ch.Details.Message
	if message == "" {
		message = "(no message)"
	}
	body := strings.Split(lipgloss.NewStyle().Width(s.w).Render(st.Strong.Render(message)), "\n")
	statusText := st.StatusStyle(status).Render(status)
	if answeredElsewhere(ch) {
		statusText += st.Muted.Render(" · Answered on another device")
	}
	body = append(body, "", row("Status", statusText))
	if status == verifyclient.ChallengePending {
		body = append(body, row("Expires", st.Countdown.Render("in "+style.Countdown(now, ch.ExpirationDate))+" "+s.expiryBar(ch, now)))
	} else {
		body = append(body, row("Expiry", st.Text.Render(style.Stamp(ch.ExpirationDate))))
	}
	body = append(body,
		row("Created", st.Text.Render(style.Stamp(ch.CreatedAt))),
		row("Updated", st.Text.Render(style.Stamp(ch.UpdatedAt))),
		row("Sid", st.Text.Render(termtext.Line(ch.Sid))),
		"",
		st.Heading.Render("Details"),
	)
	if len(ch.Details.Fields) == 0 && ch.Details.Date == nil {
		body = append(body, st.Muted.Render("  none"))
	}
	// A detail row wraps under its value rather than lose its end: the
	// details are what the user judges the sign-in by.
	detail := func(label, value string) []string {
		return style.WrapIndented("  "+st.Label.Render(style.PadRight(label, 10))+" "+st.Text.Render(value), s.w, 13, lipgloss.NewStyle())
	}
	for _, f := range ch.Details.Fields {
		body = append(body, detail(f.Label, f.Value)...)
	}
	if ch.Details.Date != nil {
		body = append(body, "  "+st.Label.Render(style.PadRight("Date", 10))+" "+st.Text.Render(style.Stamp(*ch.Details.Date)))
	}
	hidden := st.Heading.Render("Hidden details")
	switch {
	case len(ch.HiddenDetails) == 0:
		body = append(body, hidden, st.Muted.Render("  none"))
	case !s.showHidden:
		body = append(body, style.Mark("challenge:hidden", hidden+" "+st.Muted.Render("(h to show)")))
	default:
		body = append(body, style.Mark("challenge:hidden", hidden+" "+st.Muted.Render("(h to hide)")))
		keys := make([]string, 0, len(ch.HiddenDetails))
		for k := range ch.HiddenDetails {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			value := ch.HiddenDetails[k]
			if k == device.NumberMatchKey {
				// Showing the code would let the phone answer for its user.
				value = "•• (typed to approve)"
			}
			body = append(body, detail(k, value)...)
		}
	}

	body = strings.Split(strings.Join(body, "\n"), "\n")
	height := max(s.h-challengeFooterLines, 1)
	s.scroll = min(s.scroll, max(len(body)-height, 0))
	body = style.FitBlock(strings.Join(body[s.scroll:], "\n"), s.w, height)
	return strings.Join(body, "\n") + "\n" + s.footer(status)
}

// expiryBar shows the time left as a share of the challenge's lifetime.
func (s *challengeScreen) expiryBar(ch *device.Challenge, now time.Time) string {
	st := s.c.styles
	const width = 12
	life := ch.ExpirationDate.Sub(ch.CreatedAt)
	if life <= 0 {
		return ""
	}
	left := ch.ExpirationDate.Sub(now)
	filled := int(int64(width) * int64(max(left, 0)) / int64(life))
	filled = min(max(filled, 0), width)
	return st.BarFilled.Render(strings.Repeat("█", filled)) + st.BarEmpty.Render(strings.Repeat("░", width-filled))
}

// footer is the buttons while the challenge can be answered, a spinner
// while an answer is in flight, and nothing once it is settled.
func (s *challengeScreen) footer(status string) string {
	st := s.c.styles
	switch {
	case s.c.isBusy(s.challengeSid):
		line := st.Spinner.Render(s.c.spin) + " " + st.Text.Render(s.c.busy[s.challengeSid])
		return "\n" + lipgloss.PlaceHorizontal(s.w, lipgloss.Center, line)
	case status != verifyclient.ChallengePending:
		return "\n"
	}
	approve, deny := st.Button.Approve, st.Button.Deny
	if s.focus == 1 {
		approve = approve.Underline(true)
	}
	if s.focus == 2 {
		deny = deny.Underline(true)
	}
	buttons := style.Mark("challenge:approve", approve.Render("✓ Approve")) + "   " + style.Mark("challenge:deny", deny.Render("✗ Deny"))
	return "\n" + lipgloss.PlaceHorizontal(s.w, lipgloss.Center, buttons)
}
