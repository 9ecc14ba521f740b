// Package faults holds the failures a tester has switched on in a running
// server: pushes lost, late or doubled on their way to a phone, and the
// sample backend's webhook sink misbehaving. A real push service and a real
// backend fail in these ways now and then; a QA run needs them on demand,
// for one phone or for all, without restarting anything.
//
// The set only records what is on. The server's push hand-over and its
// sink consult it, and the control API (server/sim) changes it. Faults are
// the lab's settings, not the server's data: they live in memory, survive
// a restart of the server and are cleared by a reset.
package faults

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"
)

// PushMode is what happens to a push on its way to the phone.
type PushMode string

const (
	// PushDrop: the push service accepts the push and never delivers it;
	// only a poll finds the challenge.
	PushDrop PushMode = "drop"
	// PushDelay: the push is delivered after PushRule.Delay on the
	// server's clock, however late that is for its challenge.
	PushDelay PushMode = "delay"
	// PushDuplicate: once the phone has acked the push, it is delivered
	// again with the same message id, as push services do now and then.
	PushDuplicate PushMode = "duplicate"
)

// MaxPushDelay bounds PushRule.Delay: longer than any push outlives its
// challenge, and short enough to stay a delay.
const MaxPushDelay = 24 * time.Hour

// PushRule is one push fault, for one factor or, with FactorSid empty, for
// every factor without a rule of its own.
type PushRule struct {
	FactorSid string
	Mode      PushMode
	Delay     time.Duration
}

// MarshalJSON writes the rule as the control API shows it, the delay as a
// Go duration ("30s").
func (r PushRule) MarshalJSON() ([]byte, error) {
	out := struct {
		FactorSid string   `json:"factor_sid"`
		Mode      PushMode `json:"mode"`
		Delay     string   `json:"delay,omitempty"`
	}{FactorSid: r.FactorSid, Mode: r.Mode}
	if r.Mode == PushDelay {
		out.Delay = r.Delay.String()
	}
	return json.Marshal(out)
}

// WebhookMode is how the sample backend's webhook sink misbehaves.
type WebhookMode string

const (
	// WebhookStatus: the sink answers WebhookRule.Status without reading
	// the event.
	WebhookStatus WebhookMode = "status"
	// WebhookTimeout: the sink never answers; the caller gives up.
	WebhookTimeout WebhookMode = "timeout"
	// WebhookClose: the sink closes the connection without answering.
	WebhookClose WebhookMode = "close"
)

// WebhookRule is the sink's fault.
type WebhookRule struct {
	Mode   WebhookMode `json:"mode"`
	Status int         `json:"status,omitempty"`
}

// Snapshot is every fault that is on, as the control API shows it.
type Snapshot struct {
	Push    []PushRule   `json:"push"`
	Webhook *WebhookRule `json:"webhook"`
}

// Any reports whether some fault is on.
func (s Snapshot) Any() bool { return len(s.Push) > 0 || s.Webhook != nil }

// Set is the faults in force. The zero value has none; it is safe for
// concurrent use.
type Set struct {
	mu      sync.Mutex
	push    map[string]PushRule // by factor SID; "" is every factor
	webhook *WebhookRule
}

// SetPush switches a push fault on, replacing the rule for the same scope.
func (s *Set) SetPush(r PushRule) error {
	switch r.Mode {
	case PushDrop, PushDuplicate:
		r.Delay = 0
	case PushDelay:
		if r.Delay <= 0 || r.Delay > MaxPushDelay {
			return fmt.Errorf("a push delay must be more than 0 and at most %s", MaxPushDelay)
		}
	default:
		return fmt.Errorf("unknown push fault %q", r.Mode)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.push == nil {
		s.push = map[string]PushRule{}
	}
	s.push[r.FactorSid] = r
	return nil
}

// ClearPush switches off the push fault of one factor, or with factorSid
// empty the one for every factor; other factors' rules stay.
func (s *Set) ClearPush(factorSid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.push, factorSid)
}

// Push is the fault for a push to factorSid: its own rule, else the rule
// for every factor.
func (s *Set) Push(factorSid string) (PushRule, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.push[factorSid]; ok && factorSid != "" {
		return r, true
	}
	r, ok := s.push[""]
	return r, ok
}

// SetWebhook switches the sink's fault on.
func (s *Set) SetWebhook(r WebhookRule) error {
	switch r.Mode {
	case WebhookStatus:
		if r.Status < 100 || r.Status > 599 {
			return fmt.Errorf("a webhook status must be from 100 to 599, not %d", r.Status)
		}
	case WebhookTimeout, WebhookClose:
		r.Status = 0
	default:
		return fmt.Errorf("unknown webhook fault %q", r.Mode)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhook = &r
	return nil
}

// ClearWebhook lets the sink answer normally again.
func (s *Set) ClearWebhook() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhook = nil
}

// Webhook is the sink's fault, if one is on.
func (s *Set) Webhook() (WebhookRule, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.webhook == nil {
		return WebhookRule{}, false
	}
	return *s.webhook, true
}

// Clear switches every fault off.
func (s *Set) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.push, s.webhook = nil, nil
}

// Snapshot lists the faults in force: the rule for every factor first,
// then factors' own rules by SID.
func (s *Set) Snapshot() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Snapshot{Push: make([]PushRule, 0, len(s.push))}
	for _, r := range s.push {
		out.Push = append(out.Push, r)
	}
	sort.Slice(out.Push, func(i, j int) bool { return out.Push[i].FactorSid < out.Push[j].FactorSid })
	if s.webhook != nil {
		w := *s.webhook
		out.Webhook = &w
	}
	return out
}
