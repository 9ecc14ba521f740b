package phone

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// Screen names one of the app's screens: for navigation inside the phone,
// and for hosts (and their tests) that want to know what the user sees.
type Screen int

// The app's screens.
const (
	ScreenFactors Screen = iota
	ScreenEnroll
	ScreenFactor
	ScreenChallenge
	ScreenSettings
	ScreenLog
)

// screen is one page of the app. Screens draw from the shared common
// context and ask for work through commands; the phone routes input to the
// screen on top of its stack.
type screen interface {
	kind() Screen
	// title is the heading above the screen; info goes on its right.
	title() string
	info() string
	setSize(width, height int)
	// show runs when the screen comes on top (opened or returned to), to
	// load what it draws.
	show() tea.Cmd
	// update takes key presses, clicks on the screen's zones, and data
	// messages the phone has already stored.
	update(msg tea.Msg) tea.Cmd
	view() string
	// help is the footer's bindings; keys the full list for '?'.
	help() []key.Binding
	keys() []key.Binding
	// typing reports whether a text field has the keyboard, so that
	// letters reach it instead of global shortcuts.
	typing() bool
}

// cmdOf wraps a message as a command.
func cmdOf(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }
