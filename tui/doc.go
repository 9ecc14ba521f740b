// Package tui holds pushsim's Bubble Tea programs, one package per program
// or per shared concern, laid out as soft-serve and gh-dash lay out theirs:
//
//   - style: the theme, the styles derived from it, the key maps (every
//     binding lives there), layout and zone helpers, shared list and format
//     code, and the common context the demo's panes share;
//   - phone: the simulated phone, its screens inside it, with a small
//     exported API (New from a device, Approve, Reload, Relaunch, State,
//     EventMsg) and Run, which is `pushsim device`;
//   - console: the app backend's console, a view over the sample backend's
//     HTTP API;
//   - tour: the guided Verify Push quickstart;
//   - demo: the host that lays out the console or the tour beside one or
//     more phones, and Run, which is `pushsim demo`.
//
// A UI package draws and reacts. It never opens a listener or holds a
// request (the tour's stage is internal/tourstage, started by the caller),
// never reaches into another UI package's unexported state, and imports
// device but never server: the panes meet the server only on the wire, as
// a real phone and a customer's backend do. The SSH workshop is a server,
// so it lives outside tui/, in workshop.
package tui
