package server_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pushsim/pushsim/server"
	"github.com/pushsim/pushsim/server/push"
)

// TestCallersPushCallbacksStillHeard: a caller's push callbacks hear every
// ack, and so does the outbox: neither silently replaces the other.
func TestCallersPushCallbacksStillHeard(t *testing.T) {
	var acks atomic.Int32
	clock := newClock()
	h := newHarnessWith(t, server.Config{Push: push.Config{OnAck: func(id, token string) { acks.Add(1) }}}, clock)
	h.run()
	_, p := setup(h, aliceID)
	h.challenge(p, nil)
	r, _ := h.connectPush(t, p.pushSecret())
	if _, ok := r.next(t, 5*time.Second); !ok {
		t.Fatal("no push")
	}
	waitFor(t, func() bool { return countOutboxState(t, h, "push", "done") == 1 && acks.Load() == 1 })

	// The push service's clock is the server's: one set apart is refused.
	_, err := server.New(t.Context(), server.Config{Push: push.Config{Now: time.Now}})
	if err == nil || !strings.Contains(err.Error(), "Config.Now") {
		t.Fatalf("a separate push clock: %v", err)
	}
}
