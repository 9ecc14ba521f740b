package style

import (
	"fmt"
	"image/color"
	"strings"

	"charm.land/lipgloss/v2"
)

// Theme is a palette of semantic colours. Styles are derived from it, so a
// screen never names a colour itself.
type Theme struct {
	Name string
	// Accent marks titles, the cursor and focused controls.
	Accent color.Color
	// Muted is secondary text: labels, timestamps, hints.
	Muted color.Color
	// Success, Warning and Danger colour statuses, toasts and errors.
	Success color.Color
	Warning color.Color
	Danger  color.Color
	// Frame is the phone outline; FrameFocused when the phone has focus.
	Frame        color.Color
	FrameFocused color.Color
	// SelectedFg and SelectedBg draw the selected row and focused buttons.
	SelectedFg color.Color
	SelectedBg color.Color
	// BadgeFg and BadgeBg draw the pending-challenge badge.
	BadgeFg color.Color
	BadgeBg color.Color
	// Border is the line style of the phone's outline and of the panes;
	// FocusBorder replaces it around the one with focus: heavier, so
	// focus shows without colour too.
	Border      lipgloss.Border
	FocusBorder lipgloss.Border
	// Bold makes all body text bold, for projectors.
	Bold bool
}

// Theme names accepted by ThemeNamed.
const (
	ThemeDefault      = "default"
	ThemeHighContrast = "high-contrast"
)

// ThemeNames lists the built-in themes, for flag help.
func ThemeNames() []string { return []string{ThemeDefault, ThemeHighContrast} }

// ThemeNamed returns a built-in theme.
func ThemeNamed(name string) (Theme, error) {
	switch name {
	case "", ThemeDefault:
		return DefaultTheme(), nil
	case ThemeHighContrast:
		return HighContrastTheme(), nil
	}
	return Theme{}, fmt.Errorf("unknown theme %q (want %s)", name, strings.Join(ThemeNames(), " or "))
}

// DefaultTheme uses mid-tone colours that read on dark and light terminals.
func DefaultTheme() Theme {
	return Theme{
		Name:         ThemeDefault,
		Accent:       lipgloss.Color("#8B7CF6"),
		Muted:        lipgloss.Color("#8A8F98"),
		Success:      lipgloss.Color("#3FB950"),
		Warning:      lipgloss.Color("#D29922"),
		Danger:       lipgloss.Color("#F85149"),
		Frame:        lipgloss.Color("#6E7681"),
		FrameFocused: lipgloss.Color("#8B7CF6"),
		SelectedFg:   lipgloss.Color("#FFFFFF"),
		SelectedBg:   lipgloss.Color("#5B4BC4"),
		BadgeFg:      lipgloss.Color("#FFFFFF"),
		BadgeBg:      lipgloss.Color("#F85149"),
		Border:       lipgloss.RoundedBorder(),
		FocusBorder:  lipgloss.ThickBorder(),
	}
}

// HighContrastTheme is for projectors and low-vision readers: the sixteen
// basic colours at full brightness, bold text and a thick outline.
func HighContrastTheme() Theme {
	return Theme{
		Name:         ThemeHighContrast,
		Accent:       lipgloss.BrightYellow,
		Muted:        lipgloss.BrightWhite,
		Success:      lipgloss.BrightGreen,
		Warning:      lipgloss.BrightYellow,
		Danger:       lipgloss.BrightRed,
		Frame:        lipgloss.BrightWhite,
		FrameFocused: lipgloss.BrightYellow,
		SelectedFg:   lipgloss.Black,
		SelectedBg:   lipgloss.BrightYellow,
		BadgeFg:      lipgloss.Black,
		BadgeBg:      lipgloss.BrightYellow,
		Border:       lipgloss.ThickBorder(),
		FocusBorder:  lipgloss.DoubleBorder(),
		Bold:         true,
	}
}
