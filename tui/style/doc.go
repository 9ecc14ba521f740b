// Package style is what pushsim's terminal UIs share: the theme and the
// styles derived from it, the key maps, the layout and zone helpers (with
// wrapping that never loses a character and the short and full help), the
// list cursor, the formatting of times and HTTP exchanges, and the common
// context the demo's panes hold.
//
// It exists so that the phone, the console, the tour and the demo look and
// behave as one program without reaching into each other: a colour is
// named once in a Theme, a key once in a KeyMap (what a key does and what
// the help says come from the same binding), and a clickable zone is
// found in the frame that was actually drawn. It draws nothing by itself
// and knows no program's state.
package style
