// Package webhook delivers Verify events to customers' webhook URLs the way
// Twilio does: form-encoded POSTs signed with X-Twilio-Signature, retried
// with backoff under one idempotency uuid, and guarded against server-side
// request forgery by checking the address actually dialled.
//
// The package owns signing, the URL policy, single attempts and the retry
// loop. The durable record of what is due lives with the server, behind the
// Queue interface; this package has no SQL and does not build event fields.
package webhook
