package push

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pushsim/pushsim/device/pushclient"
)

// ackLog records the gateway's acks per token, and wakes whoever waits for
// one.
type ackLog struct {
	mu     sync.Mutex
	byTok  map[string][]string
	notify chan struct{}
}

func newAckLog() *ackLog {
	return &ackLog{byTok: map[string][]string{}, notify: make(chan struct{}, 1)}
}

func (l *ackLog) onAck(id, token string) {
	l.mu.Lock()
	l.byTok[token] = append(l.byTok[token], id)
	l.mu.Unlock()
	select {
	case l.notify <- struct{}{}:
	default:
	}
}

func (l *ackLog) of(token string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.byTok[token]...)
}

func (l *ackLog) forget(token string) {
	l.mu.Lock()
	delete(l.byTok, token)
	l.mu.Unlock()
}

// waitAck waits until id has been acked on token.
func (l *ackLog) waitAck(t *testing.T, token, id string) {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		for _, got := range l.of(token) {
			if got == id {
				return
			}
		}
		select {
		case <-l.notify:
		case <-deadline.C:
			t.Fatalf("no ack of %q on %s", id, redact(token))
		}
	}
}

// queuedIDs is what the gateway still holds for token.
func (g *Gateway) queuedIDs(token string) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var ids []string
	for _, e := range g.queue.byToken[token] {
		ids = append(ids, e.id)
	}
	return ids
}

// FuzzAckFrame: what the gateway reads from a phone's socket. A phone with
// three messages written to it sends one frame, then a genuine ack of the
// last message. The frame is an ack exactly when it is a text frame that
// decodes to {"ack": non-empty}, the key spelled exactly so: then it
// removes that one message of this phone's queue (if queued) and the
// socket stays open. A binary frame is closed with 1003, any other text
// frame with 1008, a frame over MaxFrameSize with 1009; none of them acks
// anything. Another phone's queue, holding the same ids, is never touched.
func FuzzAckFrame(f *testing.F) {
	for _, seed := range []struct {
		frame  string
		binary bool
	}{
		{`{"ack":"m-a"}`, false},
		{`{"ack":"m-b","extra":[1,2]}`, false},
		{`{"ACK":"m-a"}`, false},
		{`{"ack":"m-a","ack":"m-b"}`, false},
		{`{"ack":"sentinel"}`, false},
		{`{"ack":"unknown"}`, false},
		{`{"ack":""}`, false},
		{`{"ack":1}`, false},
		{`{"ack":null}`, false},
		{`{"id":"m-a"}`, false},
		{`["m-a"]`, false},
		{`{"ack":"m-a"}`, true},
		{``, false},
		{"\xff", false},
		{`{"ack":"m-a","pad":"` + strings.Repeat("x", MaxFrameSize) + `"}`, false},
	} {
		f.Add([]byte(seed.frame), seed.binary)
	}
	acks := newAckLog()
	tg := startGateway(f, Config{OnAck: acks.onAck, MaxConnsPerAddr: 1 << 20})
	far := time.Now().Add(time.Hour)
	ids := []string{"m-a", "m-b", "sentinel"}
	bystander := tokenFor(0)
	for _, id := range ids {
		if err := tg.Send(Message{ID: id, Token: bystander, ExpiresAt: far}); err != nil {
			f.Fatal(err)
		}
	}
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, frame []byte, binary bool) {
		secret := fmt.Sprintf("fuzz-ack-%012d-%s", n.Add(1), strings.Repeat("s", 20))
		token := RegistrationToken(secret)
		defer func() {
			for _, id := range tg.queuedIDs(token) {
				tg.ack(token, id)
			}
			acks.forget(token)
		}()
		for _, id := range ids {
			if err := tg.Send(Message{ID: id, Token: token, ExpiresAt: far}); err != nil {
				t.Fatal(err)
			}
		}
		ws := mustDial(t, tg.url, secret)
		for range ids {
			readFrame(t, ws)
		}
		kind := websocket.TextMessage
		if binary {
			kind = websocket.BinaryMessage
		}
		if err := ws.WriteMessage(kind, frame); err != nil {
			t.Fatal(err)
		}

		// An ack is a JSON object whose key "ack", spelled exactly so,
		// holds a non-empty string.
		var object map[string]any
		var ackID string
		if !binary && json.Unmarshal(frame, &object) == nil {
			ackID, _ = object["ack"].(string)
		}
		isAck := ackID != ""
		wantCode := websocket.CloseNormalClosure // the echo of the phone's own close
		wantAcked := map[string]bool{"sentinel": true}
		switch {
		case len(frame) > MaxFrameSize:
			wantCode, wantAcked = websocket.CloseMessageTooBig, map[string]bool{}
		case binary:
			wantCode = websocket.CloseUnsupportedData
		case !isAck:
			wantCode = websocket.ClosePolicyViolation
		case ackID == "m-a" || ackID == "m-b":
			wantAcked[ackID] = true
		}
		if len(frame) <= MaxFrameSize {
			// Frames are read in order: once the sentinel's ack is in, the
			// fuzzed frame has been dealt with, and any close it caused was
			// written before.
			sendAck(t, ws, "sentinel")
			acks.waitAck(t, token, "sentinel")
			ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(5*time.Second))
		}
		if code := closeCode(t, ws); code != wantCode {
			t.Fatalf("frame %q (binary %v): close code %d, want %d", frame, binary, code, wantCode)
		}

		got := acks.of(token)
		for _, id := range got {
			if !wantAcked[id] {
				t.Fatalf("frame %q (binary %v) acked %q; acks %q", frame, binary, id, got)
			}
		}
		if len(got) != len(wantAcked) {
			t.Fatalf("frame %q (binary %v): acks %q, want %v", frame, binary, got, wantAcked)
		}
		for _, id := range ids {
			if queued := contains(tg.queuedIDs(token), id); queued == wantAcked[id] {
				t.Fatalf("frame %q: message %s queued=%v after acks %q", frame, id, queued, got)
			}
		}
		if left := tg.queuedIDs(bystander); len(left) != len(ids) {
			t.Fatalf("frame %q reached another phone's queue: %q left", frame, left)
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// FuzzFrameRoundTrip: what the gateway writes and the phone reads. A
// message the gateway accepts is rendered in one frame of at most
// MaxFrameSize that decodes to exactly its id, data and expiry (rounded up
// to the second, never down); a real pushclient on the other end hands the
// app that same message once and acks it. A message that can never be
// delivered is refused with ErrInvalidMessage and reaches nobody; one
// already expired is dropped as expired.
func FuzzFrameRoundTrip(f *testing.F) {
	f.Add("YC11111111111111111111111111111111", "challenge_sid", "YC11111111111111111111111111111111", int64(5*time.Minute))
	f.Add("msg", "message", "Sign in to \"Example\" <b>& café</b>\n", int64(1))
	f.Add("m", "", "", int64(999_999_999))
	f.Add("m", "\xff", "\xfe\x00", int64(time.Second))
	f.Add("has space", "k", "v", int64(time.Second))
	f.Add(strings.Repeat("i", 300), "k", "v", int64(time.Second))
	f.Add("big", "k", strings.Repeat("\x01", 1000), int64(time.Second))
	f.Add("late", "k", "v", int64(0))
	f.Add("later", "k", "v", int64(-time.Hour))

	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	var mu sync.Mutex
	dropped := map[string]DropReason{}
	acks := newAckLog()
	tg := startGateway(f, Config{Now: clock, OnAck: acks.onAck, OnDrop: func(id, _ string, r DropReason) {
		mu.Lock()
		dropped[id] = r
		mu.Unlock()
	}})
	shown := make(chan pushclient.Message, 16)
	secret := secretFor(7)
	phone, err := pushclient.New(pushclient.Config{
		URL: tg.url, Secret: secret, Now: clock,
		OnMessage: func(m pushclient.Message) { shown <- m },
		Backoff:   pushclient.Backoff{Min: time.Millisecond, Max: 10 * time.Millisecond},
		Rand:      rand.New(rand.NewPCG(7, 7)),
	})
	if err != nil {
		f.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { phone.Run(ctx); close(ran) }()
	f.Cleanup(func() { cancel(); <-ran })
	token := pushclient.RegistrationToken(secret)

	var n atomic.Int64
	f.Fuzz(func(t *testing.T, id, key, value string, ttl int64) {
		msg := Message{ID: fmt.Sprintf("%d-%s", n.Add(1), id), Token: token,
			Data: map[string]string{key: value}, ExpiresAt: now.Add(time.Duration(ttl))}
		validID := len(msg.ID) <= MaxIDLen && printable(msg.ID)

		frame, encErr := encodeFrame(msg)
		sendErr := tg.Send(msg)
		if (encErr == nil) != (sendErr == nil) {
			t.Fatalf("encodeFrame says %v, Send says %v", encErr, sendErr)
		}
		if encErr != nil {
			if !errors.Is(encErr, ErrInvalidMessage) {
				t.Fatalf("refused with %v, not ErrInvalidMessage", encErr)
			}
			if validID {
				// The only other reason is size.
				size, _ := json.Marshal(map[string]any{"id": msg.ID, "data": msg.Data, "expires_at": formatExpiry(msg.ExpiresAt)})
				if len(size) <= MaxFrameSize {
					t.Fatalf("refused a valid %d-byte message: %v", len(size), encErr)
				}
			}
			return
		}
		if !validID {
			t.Fatalf("accepted id %q", msg.ID)
		}
		if len(frame) > MaxFrameSize {
			t.Fatalf("frame of %d bytes", len(frame))
		}
		var wire map[string]any
		if err := json.Unmarshal(frame, &wire); err != nil || len(wire) != 3 {
			t.Fatalf("frame %s: %v", frame, err)
		}
		wantData := map[string]string{asJSONText(key): asJSONText(value)}
		exp, err := time.Parse(TimeFormat, fmt.Sprint(wire["expires_at"]))
		if err != nil || exp.Before(msg.ExpiresAt) || !exp.Before(msg.ExpiresAt.Add(time.Second)) || exp.Nanosecond() != 0 {
			t.Fatalf("expires_at %v for %v (%v)", wire["expires_at"], msg.ExpiresAt, err)
		}
		data, _ := wire["data"].(map[string]any)
		if wire["id"] != msg.ID || len(data) != 1 || data[asJSONText(key)] != asJSONText(value) {
			t.Fatalf("frame %s for %+v", frame, msg)
		}

		if ttl <= 0 {
			mu.Lock()
			reason := dropped[msg.ID]
			mu.Unlock()
			if reason != DropExpired {
				t.Fatalf("expired message: drop reason %q", reason)
			}
			return
		}
		select {
		case m := <-shown:
			if m.ID != msg.ID || !maps.Equal(m.Data, wantData) || !m.ExpiresAt.Equal(exp) {
				t.Fatalf("phone was shown %+v for %+v", m, msg)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("phone never shown %q", msg.ID)
		}
		acks.waitAck(t, token, msg.ID)
		select {
		case m := <-shown:
			t.Fatalf("shown again: %+v", m)
		default:
		}
	})
}

// asJSONText is s after a trip through JSON: each invalid UTF-8 byte
// becomes U+FFFD.
func asJSONText(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}
