package tui

import "charm.land/bubbles/v2/key"

// KeyMap is the phone's one key map. Screens pick the bindings that apply
// to them for the help footer; nothing binds keys anywhere else.
type KeyMap struct {
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Home     key.Binding
	End      key.Binding
	Left     key.Binding
	Right    key.Binding

	Open      key.Binding
	Back      key.Binding
	NextField key.Binding
	PrevField key.Binding
	Toggle    key.Binding

	Approve key.Binding
	Deny    key.Binding
	Create  key.Binding
	Delete  key.Binding
	Yes     key.Binding
	No      key.Binding
	Silent  key.Binding
	Hidden  key.Binding
	Refresh key.Binding

	Settings key.Binding
	Log      key.Binding
	Help     key.Binding
	Quit     key.Binding
}

// DefaultKeyMap is the key map the phone ships with.
func DefaultKeyMap() *KeyMap {
	return &KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),
		Home:     key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g/home", "first")),
		End:      key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G/end", "last")),
		Left:     key.NewBinding(key.WithKeys("left", "-"), key.WithHelp("←/-", "less")),
		Right:    key.NewBinding(key.WithKeys("right", "+", "="), key.WithHelp("→/+", "more")),

		Open:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Back:      key.NewBinding(key.WithKeys("esc", "backspace"), key.WithHelp("esc", "back")),
		NextField: key.NewBinding(key.WithKeys("tab", "down"), key.WithHelp("tab", "next")),
		PrevField: key.NewBinding(key.WithKeys("shift+tab", "up"), key.WithHelp("shift+tab", "previous field")),
		Toggle:    key.NewBinding(key.WithKeys("space", "enter"), key.WithHelp("space", "toggle")),

		Approve: key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "approve")),
		Deny:    key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "deny")),
		Create:  key.NewBinding(key.WithKeys("n", "+"), key.WithHelp("n", "new")),
		Delete:  key.NewBinding(key.WithKeys("x", "delete"), key.WithHelp("x", "delete")),
		Yes:     key.NewBinding(key.WithKeys("y", "enter"), key.WithHelp("y", "yes")),
		No:      key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n", "no")),
		Silent:  key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "silent")),
		Hidden:  key.NewBinding(key.WithKeys("h"), key.WithHelp("h", "hidden")),
		Refresh: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh")),

		Settings: key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "settings")),
		Log:      key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "http log")),
		Help:     key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:     key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}

// navigation is the cursor movement every list screen shares.
func (k *KeyMap) navigation() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End}
}

// global is what works on every screen.
func (k *KeyMap) global() []key.Binding {
	return []key.Binding{k.Settings, k.Log, k.Back, k.Help, k.Quit}
}
