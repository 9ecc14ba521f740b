package style

import (
	"image/color"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"
)

// Styles is every style the phone draws with, built once from a Theme.
// Without colour (NO_COLOR, or a terminal that has none) emphasis moves to
// bold, faint and reverse video so nothing depends on colour alone.
type Styles struct {
	Theme  Theme
	Colour bool

	// Frame draws an outline's lines; FrameFocused the lines of the one
	// with focus, which it also turns from the theme's Border into its
	// FocusBorder, so any outline drawn with it shows focus.
	Frame        lipgloss.Style
	FrameFocused lipgloss.Style

	Status struct {
		Clock   lipgloss.Style
		Item    lipgloss.Style
		Warning lipgloss.Style
		Badge   lipgloss.Style
	}

	Title    lipgloss.Style
	Back     lipgloss.Style
	Heading  lipgloss.Style
	Text     lipgloss.Style
	Strong   lipgloss.Style
	Label    lipgloss.Style
	Muted    lipgloss.Style
	Selected lipgloss.Style
	Cursor   lipgloss.Style
	Empty    lipgloss.Style

	// ChallengeStatus colours a status word; unknown statuses use Text.
	ChallengeStatus map[string]lipgloss.Style
	FactorStatus    map[string]lipgloss.Style

	Button struct {
		Normal   lipgloss.Style
		Focused  lipgloss.Style
		Approve  lipgloss.Style
		Deny     lipgloss.Style
		Disabled lipgloss.Style
	}

	Toggle struct {
		On  lipgloss.Style
		Off lipgloss.Style
	}

	Countdown    lipgloss.Style
	CountdownLow lipgloss.Style
	BarFilled    lipgloss.Style
	BarEmpty     lipgloss.Style

	Banner struct {
		Box   lipgloss.Style
		Title lipgloss.Style
		Text  lipgloss.Style
		Hint  lipgloss.Style
	}

	Dialog      lipgloss.Style
	Toast       lipgloss.Style
	Error       lipgloss.Style
	ErrorDetail lipgloss.Style
	Spinner     lipgloss.Style

	Help  help.Styles
	Input textinput.Styles
}

// NewStyles derives the styles of a theme; colour false drops every colour.
func NewStyles(t Theme, colour bool) *Styles {
	s := &Styles{Theme: t, Colour: colour}
	fg := func(st lipgloss.Style, c color.Color) lipgloss.Style {
		if colour {
			return st.Foreground(c)
		}
		return st
	}
	base := lipgloss.NewStyle().Bold(t.Bold)
	muted := fg(lipgloss.NewStyle(), t.Muted)
	if !colour {
		muted = muted.Faint(true)
	}
	emph := func(c color.Color) lipgloss.Style { return fg(base, c).Bold(true) }
	selected := lipgloss.NewStyle().Bold(true)
	if colour {
		selected = selected.Foreground(t.SelectedFg).Background(t.SelectedBg)
	} else {
		selected = selected.Reverse(true)
	}

	s.Frame = fg(lipgloss.NewStyle(), t.Frame)
	s.FrameFocused = fg(lipgloss.NewStyle(), t.FrameFocused).Transform(borderSwap(t.Border, t.FocusBorder))
	if !colour {
		s.FrameFocused = s.FrameFocused.Bold(true)
	}

	s.Status.Clock = base.Bold(true)
	s.Status.Item = muted
	s.Status.Warning = emph(t.Warning)
	s.Status.Badge = lipgloss.NewStyle().Bold(true).Padding(0, 1)
	if colour {
		s.Status.Badge = s.Status.Badge.Foreground(t.BadgeFg).Background(t.BadgeBg)
	} else {
		s.Status.Badge = s.Status.Badge.Reverse(true)
	}

	s.Title = emph(t.Accent)
	s.Back = fg(base, t.Accent)
	s.Heading = emph(t.Accent)
	s.Text = base
	s.Strong = base.Bold(true)
	s.Label = muted
	s.Muted = muted
	s.Selected = selected
	s.Cursor = emph(t.Accent)
	s.Empty = muted.Italic(colour)

	s.ChallengeStatus = map[string]lipgloss.Style{
		"pending":  emph(t.Warning),
		"approved": emph(t.Success),
		"denied":   emph(t.Danger),
		"expired":  muted,
	}
	s.FactorStatus = map[string]lipgloss.Style{
		"verified":   emph(t.Success),
		"unverified": emph(t.Warning),
	}

	button := lipgloss.NewStyle().Padding(0, 1).Bold(true)
	s.Button.Normal = button
	if colour {
		s.Button.Normal = button.Foreground(t.Accent)
		s.Button.Approve = button.Foreground(t.SelectedFg).Background(t.Success)
		s.Button.Deny = button.Foreground(t.SelectedFg).Background(t.Danger)
		s.Button.Focused = button.Foreground(t.SelectedFg).Background(t.SelectedBg)
		s.Button.Disabled = button.Bold(false).Foreground(t.Muted)
	} else {
		s.Button.Approve = button.Reverse(true)
		s.Button.Deny = button.Reverse(true)
		s.Button.Focused = button.Reverse(true)
		s.Button.Disabled = button.Bold(false).Faint(true)
	}
	if t.Name == ThemeHighContrast && colour {
		// Black on bright colours keeps the labels legible on a projector.
		s.Button.Approve = s.Button.Approve.Foreground(lipgloss.Black)
		s.Button.Deny = s.Button.Deny.Foreground(lipgloss.Black)
	}

	s.Toggle.On = emph(t.Success)
	s.Toggle.Off = muted

	s.Countdown = emph(t.Accent)
	s.CountdownLow = emph(t.Danger)
	s.BarFilled = fg(lipgloss.NewStyle(), t.Accent)
	s.BarEmpty = muted

	s.Banner.Box = fg(lipgloss.NewStyle(), t.Accent).Border(lipgloss.RoundedBorder()).BorderForeground(t.Accent).Padding(0, 1)
	if !colour {
		s.Banner.Box = lipgloss.NewStyle().Border(lipgloss.DoubleBorder()).Padding(0, 1)
	}
	s.Banner.Title = emph(t.Accent)
	s.Banner.Text = base.Bold(true)
	s.Banner.Hint = muted

	s.Dialog = lipgloss.NewStyle().Border(lipgloss.DoubleBorder()).Padding(0, 1)
	if colour {
		s.Dialog = s.Dialog.BorderForeground(t.Warning)
	}
	s.Toast = emph(t.Success)
	s.Error = emph(t.Danger)
	s.ErrorDetail = fg(base, t.Danger)
	s.Spinner = fg(base, t.Accent)

	s.Help = help.Styles{
		ShortKey:       emph(t.Accent).Bold(true),
		ShortDesc:      muted,
		ShortSeparator: muted,
		Ellipsis:       muted,
		FullKey:        emph(t.Accent).Bold(true),
		FullDesc:       base,
		FullSeparator:  muted,
	}
	if !colour {
		s.Help.ShortKey = lipgloss.NewStyle().Bold(true)
		s.Help.FullKey = lipgloss.NewStyle().Bold(true)
	}

	s.Input = textinput.DefaultStyles(true)
	s.Input.Cursor.Blink = false
	s.Input.Focused.Prompt = emph(t.Accent)
	s.Input.Blurred.Prompt = muted
	s.Input.Focused.Text = base
	s.Input.Blurred.Text = base
	s.Input.Focused.Placeholder = muted
	s.Input.Blurred.Placeholder = muted
	if !colour {
		s.Input.Cursor.Color = nil
	}
	return s
}

// borderSwap replaces the lines of border from with those of to, one
// glyph for another; text that is not a border glyph is left alone.
func borderSwap(from, to lipgloss.Border) func(string) string {
	if to.Top == "" || from == to {
		return func(s string) string { return s }
	}
	pairs := []string{}
	for _, p := range [][2]string{
		{from.Top, to.Top}, {from.Bottom, to.Bottom}, {from.Left, to.Left}, {from.Right, to.Right},
		{from.TopLeft, to.TopLeft}, {from.TopRight, to.TopRight},
		{from.BottomLeft, to.BottomLeft}, {from.BottomRight, to.BottomRight},
	} {
		if p[0] != "" && p[0] != p[1] {
			pairs = append(pairs, p[0], p[1])
		}
	}
	r := strings.NewReplacer(pairs...)
	return r.Replace
}

// StatusStyle is the style of a challenge status word.
func (s *Styles) StatusStyle(status string) lipgloss.Style {
	if st, ok := s.ChallengeStatus[status]; ok {
		return st
	}
	return s.Text
}
