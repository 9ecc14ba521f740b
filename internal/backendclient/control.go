package backendclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// pushsim's own controls under /_pushsim/ (docs/control-api.md): the
// server's faults, its clock, restart and reset, and the webhook delivery
// log. A real Verify service has none of them; the console uses them to
// walk the failure paths by hand. They take the account's credentials,
// health excepted.

// Push fault modes: what happens to a push on its way to the phone.
const (
	PushDrop      = "drop"
	PushDelay     = "delay"
	PushDuplicate = "duplicate"
)

// Webhook fault modes: how the sample backend's webhook sink misbehaves.
const (
	WebhookStatus  = "status"
	WebhookTimeout = "timeout"
	WebhookClose   = "close"
)

// FaultOff is the mode that switches a fault off.
const FaultOff = "off"

// PushFault is a push fault in force, for one factor or, with FactorSid
// empty, for every factor without a rule of its own.
type PushFault struct {
	FactorSid string
	Mode      string
	// Delay is how late a PushDelay push arrives.
	Delay time.Duration
}

// UnmarshalJSON reads the control API's rule, its delay a Go duration.
func (p *PushFault) UnmarshalJSON(raw []byte) error {
	var wire struct {
		FactorSid string `json:"factor_sid"`
		Mode      string `json:"mode"`
		Delay     string `json:"delay"`
	}
	if err := json.Unmarshal(raw, &wire); err != nil {
		return err
	}
	*p = PushFault{FactorSid: wire.FactorSid, Mode: wire.Mode}
	if wire.Delay != "" {
		d, err := time.ParseDuration(wire.Delay)
		if err != nil {
			return fmt.Errorf("push fault delay: %w", err)
		}
		p.Delay = d
	}
	return nil
}

// WebhookFault is the sink's fault: Status is what it answers in
// WebhookStatus mode.
type WebhookFault struct {
	Mode   string `json:"mode"`
	Status int    `json:"status"`
}

// Faults is every fault in force.
type Faults struct {
	Push    []PushFault   `json:"push"`
	Webhook *WebhookFault `json:"webhook"`
}

// Any reports whether some fault is on.
func (f Faults) Any() bool { return len(f.Push) > 0 || f.Webhook != nil }

// PushRule is the rule of exactly this scope: one factor's own, or with
// factorSid empty the one for every factor.
func (f Faults) PushRule(factorSid string) (PushFault, bool) {
	for _, p := range f.Push {
		if p.FactorSid == factorSid {
			return p, true
		}
	}
	return PushFault{}, false
}

// PushRuleFor is the rule that acts on a factor's pushes: its own, or
// else the one for every factor.
func (f Faults) PushRuleFor(factorSid string) (PushFault, bool) {
	if rule, ok := f.PushRule(factorSid); ok {
		return rule, true
	}
	return f.PushRule("")
}

// Faults reads the faults in force. It is a background read, left out of
// the log.
func (c *Client) Faults(ctx context.Context) (Faults, error) {
	var out Faults
	err := c.Do(ctx, Call{Method: http.MethodGet, Path: "/_pushsim/faults", Account: true, Quiet: true}, &out)
	return out, err
}

// SetPushFault switches a push fault on for rule.FactorSid ("" for every
// factor), or off with Mode FaultOff, and answers the faults in force.
func (c *Client) SetPushFault(ctx context.Context, rule PushFault) (Faults, error) {
	form := url.Values{"Mode": {rule.Mode}}
	if rule.Mode == PushDelay {
		form.Set("Delay", rule.Delay.String())
	}
	if rule.FactorSid != "" {
		form.Set("FactorSid", rule.FactorSid)
	}
	var out Faults
	err := c.Do(ctx, Call{Method: http.MethodPost, Path: "/_pushsim/faults/push", Form: form, Account: true}, &out)
	return out, err
}

// SetWebhookFault makes the sample backend's webhook sink misbehave, or
// with Mode FaultOff answer normally again, and answers the faults in
// force.
func (c *Client) SetWebhookFault(ctx context.Context, rule WebhookFault) (Faults, error) {
	form := url.Values{"Mode": {rule.Mode}}
	if rule.Mode == WebhookStatus {
		form.Set("Status", strconv.Itoa(rule.Status))
	}
	var out Faults
	err := c.Do(ctx, Call{Method: http.MethodPost, Path: "/_pushsim/faults/webhook", Form: form, Account: true}, &out)
	return out, err
}

// ClearFaults switches every fault off and answers the faults in force.
func (c *Client) ClearFaults(ctx context.Context) (Faults, error) {
	var out Faults
	err := c.Do(ctx, Call{Method: http.MethodDelete, Path: "/_pushsim/faults", Account: true}, &out)
	return out, err
}

// ServerClock is the server's clock: what it reads now and how far a
// tester moved it forward.
type ServerClock struct {
	Now    time.Time
	Offset time.Duration
}

// UnmarshalJSON reads the control API's clock; the offset is taken from
// offset_seconds, which needs no parsing of Go's duration syntax.
func (s *ServerClock) UnmarshalJSON(raw []byte) error {
	var wire struct {
		Now           time.Time `json:"now"`
		OffsetSeconds float64   `json:"offset_seconds"`
	}
	if err := json.Unmarshal(raw, &wire); err != nil {
		return err
	}
	*s = ServerClock{Now: wire.Now, Offset: time.Duration(wire.OffsetSeconds * float64(time.Second))}
	return nil
}

// ServerClock reads the server's clock. It is a background read, left
// out of the log.
func (c *Client) ServerClock(ctx context.Context) (ServerClock, error) {
	var out ServerClock
	err := c.Do(ctx, Call{Method: http.MethodGet, Path: "/_pushsim/clock", Account: true, Quiet: true}, &out)
	return out, err
}

// AdvanceClock moves the server's clock forward by d, which must be
// positive: the server's clock never goes back.
func (c *Client) AdvanceClock(ctx context.Context, d time.Duration) (ServerClock, error) {
	var out ServerClock
	err := c.Do(ctx, Call{Method: http.MethodPost, Path: "/_pushsim/clock", Form: url.Values{"Advance": {d.String()}}, Account: true}, &out)
	return out, err
}

// Health is what GET /_pushsim/health answers: Generation grows by one
// with every restart, so a caller that asked for one knows when the new
// server answers.
type Health struct {
	Status     string `json:"status"`
	Generation int    `json:"generation"`
}

// Health asks whether the server is ready. It needs no credentials and
// is left out of the log: a caller polls it.
func (c *Client) Health(ctx context.Context) (Health, error) {
	var out Health
	err := c.Do(ctx, Call{Method: http.MethodGet, Path: "/_pushsim/health", Quiet: true}, &out)
	return out, err
}

// Restarting is the answer to a restart or a reset, in health's shape:
// Status "restarting", and the Generation that will answer next.
type Restarting = Health

// Restart asks the server to close every connection, reopen its store
// and serve again on the same address; faults and the clock survive.
func (c *Client) Restart(ctx context.Context) (Restarting, error) {
	var out Restarting
	err := c.Do(ctx, Call{Method: http.MethodPost, Path: "/_pushsim/restart", Account: true}, &out)
	return out, err
}

// Reset deletes everything the server holds but the account, switches
// every fault off, puts the clock back, and restarts the server.
func (c *Client) Reset(ctx context.Context) (Restarting, error) {
	var out Restarting
	err := c.Do(ctx, Call{Method: http.MethodPost, Path: "/_pushsim/reset", Account: true}, &out)
	return out, err
}

// Delivery states in the webhook delivery log.
const (
	DeliveryPending = "pending"
	DeliveryDone    = "done"
	DeliveryFailed  = "failed"
	DeliveryDropped = "dropped"
)

// Delivery is one webhook in the server's delivery log: what Verify sent,
// and how its attempts went.
type Delivery struct {
	UUID       string    `json:"uuid"`
	Type       string    `json:"type"`
	URL        string    `json:"url"`
	State      string    `json:"state"`
	Attempts   int       `json:"attempts"`
	LastStatus int       `json:"last_status"`
	LastError  string    `json:"last_error"`
	Created    time.Time `json:"created"`
	Updated    time.Time `json:"updated"`
}

// Failing reports whether the delivery was tried and not accepted: still
// being retried, or given up.
func (d Delivery) Failing() bool {
	return d.State == DeliveryFailed || d.State == DeliveryPending && d.Attempts > 0
}

// WebhookDeliveries is the newest limit deliveries of the server's
// webhook log, newest first. It is a background read, left out of the
// log.
func (c *Client) WebhookDeliveries(ctx context.Context, limit int) ([]Delivery, error) {
	var out struct {
		Deliveries []Delivery `json:"deliveries"`
	}
	err := c.Do(ctx, Call{Method: http.MethodGet, Path: "/_pushsim/webhooks", Form: url.Values{"limit": {strconv.Itoa(limit)}}, Account: true, Quiet: true}, &out)
	return out.Deliveries, err
}
