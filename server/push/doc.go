// Package push is pushsim's stand-in for FCM: a websocket gateway that holds
// one connection per registration token and a per-token queue of messages.
// Messages are written to the phone, acknowledged by id, and written again
// after every reconnect until they are acknowledged or expire.
//
// Verify shows a factor's token to the account, so a token is an address,
// not a credential: a phone connects with the secret the token is derived
// from (RegistrationToken), and receives what was sent to that token.
//
// The package owns the transport only. It knows nothing about Verify
// resources or storage: the server hands it messages with Send and learns
// their fate through Config.OnAck and Config.OnDrop, so that a durable outbox
// can be kept elsewhere. The wire format is described in docs/push-protocol.md.
package push
