package style

import "charm.land/bubbles/v2/key"

// BodiesToggle is FullBody as its help reads in the state the screen is
// in: "whole bodies" while bodies are cut, and, on the same keys, "short
// bodies" once they are whole.
func (k *KeyMap) BodiesToggle(whole bool) key.Binding {
	if !whole || !k.FullBody.Enabled() {
		return k.FullBody
	}
	return key.NewBinding(key.WithKeys(k.FullBody.Keys()...), key.WithHelp(k.FullBody.Help().Key, "short bodies"))
}

// PickRow is the cursor keys as one help entry for a list whose rows are
// picked rather than opened: "↑/↓ pick a challenge".
func (k *KeyMap) PickRow(what string) key.Binding {
	keys := append(append([]string(nil), k.Up.Keys()...), k.Down.Keys()...)
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k.Up.Help().Key+" "+k.Down.Help().Key, "pick "+what))
}
