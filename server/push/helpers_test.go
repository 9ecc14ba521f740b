package push

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pushsim/pushsim/internal/testclock"
)

// fakeClock is the tests' settable clock, for expiry.
type fakeClock = testclock.Clock

func newFakeClock() *fakeClock { return testclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) }

// outcomes records OnAck and OnDrop calls.
type outcomes struct {
	mu    sync.Mutex
	acks  map[string]int
	drops map[string][]DropReason
}

func newOutcomes() *outcomes {
	return &outcomes{acks: map[string]int{}, drops: map[string][]DropReason{}}
}

func (o *outcomes) onAck(id, _ string) {
	o.mu.Lock()
	o.acks[id]++
	o.mu.Unlock()
}

func (o *outcomes) onDrop(id, _ string, reason DropReason) {
	o.mu.Lock()
	o.drops[id] = append(o.drops[id], reason)
	o.mu.Unlock()
}

func (o *outcomes) ackCount(id string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.acks[id]
}

func (o *outcomes) totalAcks() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, c := range o.acks {
		n += c
	}
	return n
}

func (o *outcomes) dropsOf(id string) []DropReason {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]DropReason(nil), o.drops[id]...)
}

// lockedBuffer collects log output written from many goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testGateway is a gateway served on loopback.
type testGateway struct {
	*Gateway
	srv  *httptest.Server
	url  string // ws://…/push/connect
	outs *outcomes
}

// startGateway wires cfg's callbacks to a fresh outcomes recorder unless
// they are set already, and tears everything down at the end of the test.
func startGateway(t testing.TB, cfg Config) *testGateway {
	t.Helper()
	outs := newOutcomes()
	if cfg.OnAck == nil {
		cfg.OnAck = outs.onAck
	}
	if cfg.OnDrop == nil {
		cfg.OnDrop = outs.onDrop
	}
	g := NewGateway(cfg)
	mux := http.NewServeMux()
	mux.Handle("GET /push/connect", g)
	srv := httptest.NewServer(mux)
	tg := &testGateway{
		Gateway: g,
		srv:     srv,
		url:     "ws" + strings.TrimPrefix(srv.URL, "http") + "/push/connect",
		outs:    outs,
	}
	t.Cleanup(tg.stop)
	return tg
}

func (tg *testGateway) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tg.Shutdown(ctx)
	tg.srv.Close()
}

// kill cuts the token's socket from the server side without a close frame,
// as a crashed proxy or a lost network would.
func (tg *testGateway) kill(token string) bool {
	tg.mu.Lock()
	c := tg.conns[token]
	tg.mu.Unlock()
	if c == nil {
		return false
	}
	c.ws.Close()
	return true
}

func (tg *testGateway) connID(token string) uint64 {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if c := tg.conns[token]; c != nil {
		return c.id
	}
	return 0
}

// secretFor is phone i's registration secret, what it connects with.
func secretFor(i int) string {
	return fmt.Sprintf("fcm-secret-%04d-%s", i, strings.Repeat("x", 24))
}

// tokenFor is phone i's registration token, what messages are sent to.
func tokenFor(i int) string {
	return RegistrationToken(secretFor(i))
}

func dialRaw(url, secret string, header http.Header) (*websocket.Conn, *http.Response, error) {
	if header == nil {
		header = http.Header{}
	}
	if secret != "" {
		header.Set("Authorization", "Bearer "+secret)
	}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	return d.Dial(url, header)
}

func mustDial(t testing.TB, url, secret string) *websocket.Conn {
	t.Helper()
	ws, resp, err := dialRaw(url, secret, nil)
	if err != nil {
		status := ""
		if resp != nil {
			status = resp.Status
		}
		t.Fatalf("dial: %v %s", err, status)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

// readFrame reads one server frame, failing the test on anything else.
func readFrame(t testing.TB, ws *websocket.Conn) wireMessage {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	var m wireMessage
	if err := ws.ReadJSON(&m); err != nil {
		t.Fatalf("reading frame: %v", err)
	}
	return m
}

func sendAck(t testing.TB, ws *websocket.Conn, id string) {
	t.Helper()
	if err := ws.WriteJSON(map[string]string{"ack": id}); err != nil {
		t.Fatalf("writing ack: %v", err)
	}
}

// closeCode reads until the socket ends and returns the close code the
// server sent, or -1 if it ended without one.
func closeCode(t testing.TB, ws *websocket.Conn) int {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue
		}
		if ce, ok := err.(*websocket.CloseError); ok {
			return ce.Code
		}
		return -1
	}
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitGoroutines waits for the goroutine count to fall back to base and
// dumps every stack if it does not.
func waitGoroutines(t testing.TB, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("goroutines: %d, baseline %d\n%s", runtime.NumGoroutine(), base, buf[:n])
		}
		time.Sleep(5 * time.Millisecond)
	}
}
