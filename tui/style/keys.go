package style

import "charm.land/bubbles/v2/key"

// KeyMap is the phone's one key map. Screens pick the bindings that apply
// to them for the help footer; nothing binds keys anywhere else, so a
// binding changed here changes both what a key does and what the help
// says.
type KeyMap struct {
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Home     key.Binding
	End      key.Binding
	Left     key.Binding
	Right    key.Binding
	// Scroll and Change are Up/Down and Left/Right as one help entry, for
	// screens where that is all they do.
	Scroll key.Binding
	Change key.Binding

	Open        key.Binding
	Back        key.Binding
	Cancel      key.Binding
	NextField   key.Binding
	PrevField   key.Binding
	FocusButton key.Binding
	Toggle      key.Binding
	Submit      key.Binding

	Approve key.Binding
	Deny    key.Binding
	Create  key.Binding
	Delete  key.Binding
	Silent  key.Binding
	Hidden  key.Binding
	Refresh key.Binding

	// A dialog's answers: Confirm takes the button with focus.
	Yes     key.Binding
	No      key.Binding
	Confirm key.Binding
	// The number prompt's keypad.
	Digit key.Binding
	Erase key.Binding

	// FullBody shows HTTP bodies whole instead of their first lines, and
	// back; the tour's ExpandBodies is the same key.
	FullBody key.Binding

	Settings  key.Binding
	Log       key.Binding
	Help      key.Binding
	CloseHelp key.Binding
	Quit      key.Binding
	// ForceQuit quits from anywhere, a dialog or a text field included.
	ForceQuit key.Binding
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
		Scroll:   key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "scroll")),
		Change:   key.NewBinding(key.WithKeys("left", "right"), key.WithHelp("←/→", "change")),

		Open:        key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Back:        key.NewBinding(key.WithKeys("esc", "backspace"), key.WithHelp("esc", "back")),
		Cancel:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		NextField:   key.NewBinding(key.WithKeys("tab", "down"), key.WithHelp("tab", "next")),
		PrevField:   key.NewBinding(key.WithKeys("shift+tab", "up"), key.WithHelp("shift+tab", "previous field")),
		FocusButton: key.NewBinding(key.WithKeys("tab", "shift+tab"), key.WithHelp("tab", "next button")),
		Toggle:      key.NewBinding(key.WithKeys("space", "enter"), key.WithHelp("space", "toggle")),
		Submit:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "create")),

		Approve: key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "approve")),
		Deny:    key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "deny")),
		Create:  key.NewBinding(key.WithKeys("n", "+"), key.WithHelp("n", "new")),
		Delete:  key.NewBinding(key.WithKeys("x", "delete"), key.WithHelp("x", "delete")),
		Silent:  key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "silent")),
		Hidden:  key.NewBinding(key.WithKeys("h"), key.WithHelp("h", "hidden")),
		Refresh: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh")),

		Yes:     key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "yes")),
		No:      key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n", "no")),
		Confirm: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "ok")),
		Digit:   key.NewBinding(key.WithKeys("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"), key.WithHelp("0-9", "type")),
		Erase:   key.NewBinding(key.WithKeys("backspace", "delete"), key.WithHelp("⌫", "erase")),

		FullBody: key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "whole bodies")),

		Settings:  key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "settings")),
		Log:       key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "http log")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		CloseHelp: key.NewBinding(key.WithKeys("?", "esc", "backspace", "q"), key.WithHelp("?/esc", "close help")),
		Quit:      key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		ForceQuit: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
	}
}

// Navigation is the cursor movement every list screen shares.
func (k *KeyMap) Navigation() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End}
}

// Global is what works on every screen of the phone.
func (k *KeyMap) Global() []key.Binding {
	return []key.Binding{k.Settings, k.Log, k.Back, k.Help, k.Quit}
}

// DemoKeyMap is the phone's key map plus the demo's own keys: moving focus
// between panes, the console's actions and the tour's steps. Phones get the
// embedded KeyMap, so one map covers the whole screen.
//
// Keys go to the pane with focus, and a letter never means one thing on
// the console and another on a phone: the console's actions use letters
// the phone leaves free (TestDemoKeysNeverCollide holds them to it), so a
// presenter who pressed a key in the wrong pane gets nothing rather than
// a surprise.
type DemoKeyMap struct {
	*KeyMap

	FocusNext key.Binding
	FocusPrev key.Binding

	SignIn      key.Binding
	NumberMatch key.Binding
	PushBomb    key.Binding
	Resend      key.Binding
	Expire      key.Binding
	// Faults opens the server's faults: pushes lost, late or doubled, the
	// webhook sink failing, the server's clock, restart and reset. Apply
	// switches the fault under the cursor to the choice shown.
	Faults key.Binding
	Apply  key.Binding

	NextStep key.Binding
	PrevStep key.Binding
}

// NewDemoKeyMap adds the demo's keys to the phones' k (default
// DefaultKeyMap).
func NewDemoKeyMap(k *KeyMap) *DemoKeyMap {
	if k == nil {
		k = DefaultKeyMap()
	}
	return &DemoKeyMap{
		KeyMap:    k,
		FocusNext: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next pane")),
		FocusPrev: key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous pane")),

		SignIn:      key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "sign in")),
		NumberMatch: key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "number match")),
		PushBomb:    key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "push bombing")),
		Resend:      key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "resend push")),
		Expire:      key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "expire now")),
		Faults:      key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "server faults")),
		Apply:       key.NewBinding(key.WithKeys("enter", "space"), key.WithHelp("enter", "apply")),

		NextStep: key.NewBinding(key.WithKeys("enter", "right"), key.WithHelp("enter", "next step")),
		PrevStep: key.NewBinding(key.WithKeys("left"), key.WithHelp("←", "previous step")),
	}
}

// ConsoleActions are the console's actions in the order it lists them.
func (k *DemoKeyMap) ConsoleActions() []key.Binding {
	return []key.Binding{k.SignIn, k.NumberMatch, k.PushBomb, k.Resend, k.Expire, k.Faults}
}

// Panes are the keys that work in every pane of the demo.
func (k *DemoKeyMap) Panes() []key.Binding {
	return []key.Binding{k.FocusNext, k.FocusPrev, k.Help, k.Quit}
}

// PhoneKeys are every binding a phone acts on.
func (k *KeyMap) PhoneKeys() []key.Binding {
	return []key.Binding{
		k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End, k.Left, k.Right,
		k.Open, k.Back, k.Cancel, k.NextField, k.PrevField, k.FocusButton, k.Toggle, k.Submit,
		k.Approve, k.Deny, k.Create, k.Delete, k.Silent, k.Hidden, k.Refresh,
		k.Yes, k.No, k.Confirm, k.Digit, k.Erase, k.FullBody,
		k.Settings, k.Log, k.Help, k.CloseHelp, k.Quit, k.ForceQuit,
	}
}
