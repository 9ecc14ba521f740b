// Package demo is `pushsim demo`: the host that lays out the app backend's
// console (package console) or the guided tour (package tour) beside one or
// more phones of one user (package phone), all talking to one server.
//
// The host owns the layout and the routing, as soft-serve's root model
// does: sizes cascade from here (SetSize on every pane), keys go to the
// pane with focus, clicks to the pane under the pointer in its own
// coordinates, and every other message to every pane, each taking only its
// own. It also carries what one pane asks of another: a phone's events to
// the console or the tour, the tour's requests to its phone, and the
// console's news of a withdrawn challenge to every phone.
//
// The layout puts every pane on screen when the terminal can hold them,
// the phones side by side or stacked; else the phones, or all the panes,
// take turns under a row of tabs, the pane with focus shown; below the
// smallest size, a message says which size is needed. The pane with focus
// is drawn with the theme's focus border and a marked title. The host also
// guards quitting: a pane's quit becomes a question while quitting would
// lose the demo's state (quit.go).
//
// The demo builds its phones from devices, as `pushsim device` and the
// workshop do, and starts no listener: the tour's stage comes from the
// caller.
package demo
