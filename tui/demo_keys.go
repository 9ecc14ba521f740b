package tui

import "charm.land/bubbles/v2/key"

// demoKeyMap is the phone's key map plus the demo's own keys: moving focus
// between panes, the console's actions and the tour's steps. Phones get the
// embedded KeyMap, so one map covers the whole screen.
type demoKeyMap struct {
	*KeyMap

	FocusNext key.Binding
	FocusPrev key.Binding

	SignIn      key.Binding
	NumberMatch key.Binding
	PushBomb    key.Binding
	Resend      key.Binding
	Expire      key.Binding

	NextStep key.Binding
	PrevStep key.Binding
}

func newDemoKeyMap(k *KeyMap) *demoKeyMap {
	if k == nil {
		k = DefaultKeyMap()
	}
	return &demoKeyMap{
		KeyMap:    k,
		FocusNext: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next pane")),
		FocusPrev: key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous pane")),

		SignIn:      key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sign in")),
		NumberMatch: key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "number match")),
		PushBomb:    key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "push bombing")),
		Resend:      key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "resend push")),
		Expire:      key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "expire now")),

		NextStep: key.NewBinding(key.WithKeys("enter", "right"), key.WithHelp("enter", "next step")),
		PrevStep: key.NewBinding(key.WithKeys("left"), key.WithHelp("←", "previous step")),
	}
}

// consoleActions are the console's actions in the order it lists them.
func (k *demoKeyMap) consoleActions() []key.Binding {
	return []key.Binding{k.SignIn, k.NumberMatch, k.PushBomb, k.Resend, k.Expire}
}
