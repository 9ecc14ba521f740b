// Package scenario runs pushsim scenarios: small text files that start a
// Verify server and simulated phones, act as users, backends and bad
// networks do, and state what must follow. They are how QA engineers and CI
// check push MFA flows end to end, failure paths included, without writing
// Go: docs/scenarios.md is the format's reference and assets/scenarios the
// library.
//
// A scenario meets the server only on the wire, as a customer's backend
// and real phones do: phones are device.Device values living in the
// runner's process, the backend's calls go through internal/backendclient,
// and the emulator's controls (faults, the server's clock, restarts) through
// /_pushsim/. Each scenario gets a server of its own in the same process
// unless the runner is pointed at a running one, so that scenarios do not
// see each other and can run in parallel.
//
// Expectations never sleep and then look: each is checked again and again
// until it holds or its time runs out, and a failure reports the last
// thing it saw. That keeps scenarios fast when things go right and clear
// when they do not.
package scenario
