package phone

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/tui/style"
)

// enrollScreen is the sample app's "Create factor" form: an identity, the
// app backend's access-token URL, and whether the phone takes pushes.
type enrollScreen struct {
	c        *common
	identity textinput.Model
	push     bool
	focus    int // one of the enroll* fields
	w, h     int
}

const (
	enrollIdentity = iota
	enrollPush
	enrollSubmit
	enrollFields
)

func newEnrollScreen(c *common, identity string, push bool) *enrollScreen {
	in := textinput.New()
	in.Prompt = ""
	in.Placeholder = "e.g. alice"
	in.CharLimit = 128
	in.SetStyles(c.styles.Input)
	in.SetValue(identity)
	in.CursorEnd()
	s := &enrollScreen{c: c, identity: in, push: push}
	s.focusField(enrollIdentity)
	return s
}

func (s *enrollScreen) kind() Screen  { return ScreenEnroll }
func (s *enrollScreen) title() string { return "New factor" }
func (s *enrollScreen) info() string  { return "" }
func (s *enrollScreen) typing() bool  { return s.focus == enrollIdentity }
func (s *enrollScreen) show() tea.Cmd { return nil }

func (s *enrollScreen) setSize(w, h int) {
	s.w, s.h = w, h
	s.identity.SetWidth(max(w-4, 8))
}

func (s *enrollScreen) help() []key.Binding {
	k := s.c.keys
	return []key.Binding{k.Submit, k.NextField, k.Toggle, k.Back}
}

func (s *enrollScreen) keys() []key.Binding {
	k := s.c.keys
	return []key.Binding{k.NextField, k.PrevField, k.Toggle, k.Back}
}

func (s *enrollScreen) focusField(i int) {
	s.focus = (i + enrollFields) % enrollFields
	if s.focus == enrollIdentity {
		s.identity.Focus()
	} else {
		s.identity.Blur()
	}
}

func (s *enrollScreen) submit() tea.Cmd {
	identity := strings.TrimSpace(s.identity.Value())
	if identity == "" {
		s.focusField(enrollIdentity)
		s.identity.Placeholder = "an identity is required"
		return nil
	}
	if s.c.isBusy("enroll") {
		return nil
	}
	return cmdOf(enrollMsg{tagged: s.c.tag(), params: device.EnrollParams{Identity: identity}, push: s.push})
}

func (s *enrollScreen) update(msg tea.Msg) tea.Cmd {
	k := s.c.keys
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, k.Submit):
			return s.submit()
		case key.Matches(msg, k.NextField):
			s.focusField(s.focus + 1)
			return nil
		case key.Matches(msg, k.PrevField):
			s.focusField(s.focus - 1)
			return nil
		case key.Matches(msg, k.Cancel):
			return cmdOf(backMsg{tagged: s.c.tag()})
		}
		if s.focus == enrollIdentity {
			var cmd tea.Cmd
			s.identity, cmd = s.identity.Update(msg)
			return cmd
		}
		switch {
		case key.Matches(msg, k.Toggle) && s.focus == enrollPush:
			s.push = !s.push
		case key.Matches(msg, k.Back):
			return cmdOf(backMsg{tagged: s.c.tag()})
		}
	case tea.PasteMsg:
		if s.focus == enrollIdentity {
			var cmd tea.Cmd
			s.identity, cmd = s.identity.Update(msg)
			return cmd
		}
	case clickMsg:
		switch msg.zone {
		case "enroll:identity":
			s.focusField(enrollIdentity)
		case "enroll:push":
			s.focusField(enrollPush)
			s.push = !s.push
		case "enroll:submit":
			s.focusField(enrollSubmit)
			return s.submit()
		}
	}
	return nil
}

func (s *enrollScreen) view() string {
	st := s.c.styles
	label := func(i int, text string) string {
		if s.focus == i {
			return st.Cursor.Render("▸ " + text)
		}
		return st.Label.Render("  " + text)
	}
	check := "[ ]"
	if s.push {
		check = "[x]"
	}
	checkStyle := st.Text
	if s.focus == enrollPush {
		checkStyle = st.Selected
	}
	button := st.Button.Normal
	if s.focus == enrollSubmit {
		button = st.Button.Focused
	}
	submit := style.Mark("enroll:submit", button.Render("Create factor"))
	if s.c.isBusy("enroll") {
		submit = st.Spinner.Render(s.c.spin) + " " + st.Text.Render("Creating factor…")
	}
	lines := []string{
		label(enrollIdentity, "Identity"),
		style.Mark("enroll:identity", "  "+s.identity.View()),
		"",
		st.Label.Render("  Access token URL"),
		strings.Join(style.WrapIndented("  "+s.c.dev.AccessTokenURL(), s.w, 2, st.Text), "\n"),
		"  " + st.Muted.Render("the app backend that hands out tokens"),
		"",
		style.Mark("enroll:push", "  "+checkStyle.Render(check+" Enable push notifications")),
		"  " + st.Muted.Render(pushHint(s.push)),
		"",
		"  " + submit,
	}
	return strings.Join(lines, "\n")
}

func pushHint(on bool) string {
	if on {
		return "challenges arrive by push"
	}
	return "platform none: the phone polls"
}
