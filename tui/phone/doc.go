// Package phone draws pushsim's simulated phone in the terminal with Bubble
// Tea: the phone outline and its status bar, the heads-up banner for
// pushes, and the screens of the Verify Push sample app (factor list,
// enrolment, factor inbox, challenge detail) plus the settings and HTTP log
// a simulator needs.
//
// The package owns presentation only. Everything the phone does is done by
// a *device.Device, and everything the phone knows about its setting (its
// server's addresses, its clock, its poll interval, the log of its HTTP
// exchanges) it reads from that device, so a phone is built from a device
// and a few options (New) and nothing is passed twice. The UI calls the
// device from background commands that report back as typed messages, and
// learns about pushes, polls and silent approvals from the device's event
// stream.
//
// The screens live here, not in packages of their own, because they share
// the phone's private state: its inbox, the work in flight, the notices.
// Hosts get a small surface instead: Update and View, SetSize and Focus,
// EventMsg (the device's events, which a host may read on their way in),
// and Approve, Reload, Relaunch, OpenChallenge and State.
//
// Text from the network (a challenge's message and fields, a factor's
// name, an error, an HTTP body) reaches other people's terminals in a
// workshop, so it goes through internal/termtext before it is drawn.
//
// A Phone is an embeddable component: several can live in one program (a
// demo with many phones) and several programs in one process (one per SSH
// session). Nothing here is package-level mutable state; each Phone carries
// its own styles, key map and device in a common context, and tags its
// messages so phones never consume each other's. Run runs one phone
// full-screen, which is what `pushsim device` does.
package phone
