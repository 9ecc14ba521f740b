package device

import (
	"context"
	"sync"
	"time"
)

// EventKind names what happened on the phone.
type EventKind string

// Event kinds. Each is one JSON line in headless mode.
const (
	// EventReady: the poller started; Factors lists the local factor SIDs.
	EventReady EventKind = "ready"
	// EventEnrolled: a factor became verified.
	EventEnrolled EventKind = "enrolled"
	// EventFactorDeleted: a factor was removed from the phone (deleted on
	// the server too, unless local storage was cleared).
	EventFactorDeleted EventKind = "factor_deleted"
	// EventChallenge: a pending challenge reached the phone, Via "push" or
	// "poll". Each challenge is reported once however often polls list it
	// or its push is delivered, and again, with Resent set, for every push
	// after its first: the backend sent it again for the user to notice.
	EventChallenge EventKind = "challenge"
	// EventApproved and EventDenied: the phone answered a challenge; Silent
	// marks an approval made by silent approval.
	EventApproved EventKind = "approved"
	EventDenied   EventKind = "denied"
	// EventExpired: a challenge the phone knew about expired unanswered, or
	// an answer was refused because it had expired.
	EventExpired EventKind = "expired"
	// EventPushConnected and EventPushDisconnected: the push socket came up
	// or went down (Error says why, when it was not the phone's choice).
	EventPushConnected    EventKind = "push_connected"
	EventPushDisconnected EventKind = "push_disconnected"
	// EventPushDuplicate: the push service delivered a push the phone had
	// already received (same message id); it was acked and not shown again.
	EventPushDuplicate EventKind = "push_duplicate"
	// EventError: background work (poll, push handling, silent approval)
	// failed; Op says which and Error why.
	EventError EventKind = "error"
)

// How a challenge reached the phone.
const (
	ViaPush = "push"
	ViaPoll = "poll"
)

// Event is one thing that happened on the phone. The JSON form is what
// `pushsim device --headless` prints, one object per line.
type Event struct {
	Kind         EventKind `json:"event"`
	Time         time.Time `json:"time"`
	FactorSid    string    `json:"factor_sid,omitempty"`
	Identity     string    `json:"identity,omitempty"`
	ChallengeSid string    `json:"challenge_sid,omitempty"`
	Via          string    `json:"via,omitempty"`
	Message      string    `json:"message,omitempty"`
	Resent       bool      `json:"resent,omitempty"`
	Silent       bool      `json:"silent,omitempty"`
	Factors      []string  `json:"factors,omitempty"`
	Op           string    `json:"op,omitempty"`
	Error        string    `json:"error,omitempty"`

	// Challenge is the challenge as last fetched, for UIs; nil when unknown.
	Challenge *Challenge `json:"-"`
	// Err is the error behind an EventError.
	Err error `json:"-"`
}

// Subscribe returns a channel that receives every event emitted from now on,
// in order, until ctx ends; then the channel is closed. A slow subscriber
// never blocks the phone or other subscribers: its events queue up.
func (d *Device) Subscribe(ctx context.Context) <-chan Event {
	s := &subscriber{wake: make(chan struct{}, 1)}
	out := make(chan Event)
	d.subMu.Lock()
	d.subs[s] = struct{}{}
	d.subMu.Unlock()
	go func() {
		defer close(out)
		defer func() {
			d.subMu.Lock()
			delete(d.subs, s)
			d.subMu.Unlock()
		}()
		for {
			e, ok := s.next()
			if !ok {
				select {
				case <-s.wake:
					continue
				case <-ctx.Done():
					return
				}
			}
			select {
			case out <- e:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

type subscriber struct {
	mu    sync.Mutex
	queue []Event
	wake  chan struct{}
}

func (s *subscriber) push(e Event) {
	s.mu.Lock()
	s.queue = append(s.queue, e)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *subscriber) next() (Event, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 {
		return Event{}, false
	}
	e := s.queue[0]
	s.queue[0] = Event{}
	s.queue = s.queue[1:]
	return e, true
}

func (d *Device) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = d.client.Now().UTC().Truncate(time.Second)
	}
	if e.Err != nil && e.Error == "" {
		e.Error = e.Err.Error()
	}
	d.subMu.Lock()
	defer d.subMu.Unlock()
	for s := range d.subs {
		s.push(e)
	}
}

func (d *Device) emitError(op, factorSid, challengeSid string, err error) {
	d.emit(Event{Kind: EventError, Op: op, FactorSid: factorSid, ChallengeSid: challengeSid, Err: err})
}
