package style

import "charm.land/bubbles/v2/key"

// TourKeyMap is the guided tour's own keys. The tour also uses the demo's
// NextStep and PrevStep, the phone's scrolling, Help and Quit, and the
// demo's focus keys, all from DemoKeyMap.
type TourKeyMap struct {
	// ApproveForUser is Enter while step 7 offers its choice: it approves
	// the challenge on the user's behalf, as NextStep would move on.
	ApproveForUser key.Binding
	// ExpandBodies shows response bodies whole; ShortenBodies, on the same
	// key, goes back to their first lines.
	ExpandBodies  key.Binding
	ShortenBodies key.Binding
}

// NewTourKeyMap returns the tour's own keys.
func NewTourKeyMap() *TourKeyMap {
	return &TourKeyMap{
		ApproveForUser: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "approve as the user")),
		ExpandBodies:   key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "whole bodies")),
		ShortenBodies:  key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "short bodies")),
	}
}
