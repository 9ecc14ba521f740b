package pushclient

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

var testSecret = "fcm-secret-" + strings.Repeat("x", 30)

// fakeServer is a scripted push service: each accepted socket is handed to
// the test's script, which plays the server side.
type fakeServer struct {
	srv     *httptest.Server
	url     string
	dials   atomic.Int32
	refuse  atomic.Bool // answer 401 instead of upgrading
	authHdr chan string
}

func newFakeServer(t *testing.T, script func(n int, ws *websocket.Conn)) *fakeServer {
	t.Helper()
	fs := &fakeServer{authHdr: make(chan string, 100)}
	up := websocket.Upgrader{}
	var wg sync.WaitGroup
	fs.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Counted before the upgrade: until then srv.Close waits for this
		// handler, so the Add cannot race with the Wait in cleanup.
		wg.Add(1)
		defer wg.Done()
		n := int(fs.dials.Add(1))
		select {
		case fs.authHdr <- r.Header.Get("Authorization"):
		default:
		}
		if fs.refuse.Load() {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		script(n, ws)
	}))
	fs.url = "ws" + strings.TrimPrefix(fs.srv.URL, "http")
	t.Cleanup(func() {
		fs.srv.CloseClientConnections()
		fs.srv.Close()
		wg.Wait()
	})
	return fs
}

func push(t *testing.T, ws *websocket.Conn, id, expiresAt string) {
	t.Helper()
	f := map[string]any{"id": id, "data": map[string]string{"type": "verify_push_challenge", "challenge_sid": "YC" + id}}
	if expiresAt != "" {
		f["expires_at"] = expiresAt
	}
	if err := ws.WriteJSON(f); err != nil {
		t.Errorf("push %s: %v", id, err)
	}
}

// readAcks reads until n acks arrived or the socket ends.
func readAcks(ws *websocket.Conn, n int) []string {
	var acks []string
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for len(acks) < n {
		var a struct {
			Ack string `json:"ack"`
		}
		if err := ws.ReadJSON(&a); err != nil {
			return acks
		}
		acks = append(acks, a.Ack)
	}
	return acks
}

// runClient runs c until the test ends and returns a stop func that waits.
func runClient(t *testing.T, c *Client) func() error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() {
			cancel()
			err = <-done
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

type shownLog struct {
	mu  sync.Mutex
	ids []string
}

func (l *shownLog) add(m Message) {
	l.mu.Lock()
	l.ids = append(l.ids, m.ID)
	l.mu.Unlock()
}

func (l *shownLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ids)
}

func fastBackoff() Backoff { return Backoff{Min: time.Millisecond, Max: 10 * time.Millisecond} }

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	ok := Config{URL: "ws://127.0.0.1:1/push/connect", Secret: testSecret, OnMessage: func(Message) {}}
	if _, err := New(ok); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for name, mutate := range map[string]func(*Config){
		"http scheme":  func(c *Config) { c.URL = "http://127.0.0.1:1/push/connect" },
		"no host":      func(c *Config) { c.URL = "ws:///push/connect" },
		"short secret": func(c *Config) { c.Secret = "abc" },
		"space secret": func(c *Config) { c.Secret = strings.Repeat("a", 20) + " " + strings.Repeat("a", 20) },
		"no handler":   func(c *Config) { c.OnMessage = nil },
	} {
		c := ok
		mutate(&c)
		if _, err := New(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestAcksEveryMessageAfterHandlerAndDropsDuplicates(t *testing.T) {
	var handled atomic.Int32
	acked := make(chan []string, 1)
	handledAtAck := make(chan int32, 10)
	fs := newFakeServer(t, func(_ int, ws *websocket.Conn) {
		push(t, ws, "a", "")
		push(t, ws, "a", "") // redelivery of an unacked message
		push(t, ws, "b", "")
		var acks []string
		for range 3 {
			acks = append(acks, readAcks(ws, 1)...)
			handledAtAck <- handled.Load()
		}
		acked <- acks
	})
	var shown shownLog
	c, err := New(Config{URL: fs.url, Secret: testSecret, Backoff: fastBackoff(), OnMessage: func(m Message) {
		// Slow enough that an ack sent before the handler returns would be
		// read while the count is still low.
		time.Sleep(10 * time.Millisecond)
		shown.add(m)
		handled.Add(1)
	}})
	if err != nil {
		t.Fatal(err)
	}
	runClient(t, c)

	if got := <-acked; !slices.Equal(got, []string{"a", "a", "b"}) {
		t.Fatalf("acks %v, want every frame acked", got)
	}
	// Each ack must follow the handler's return for that message.
	for i, want := range []int32{1, 1, 2} {
		if got := <-handledAtAck; got < want {
			t.Errorf("ack %d sent with %d messages handled, want at least %d", i, got, want)
		}
	}
	if got := shown.get(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("shown %v, want [a b]", got)
	}
	if got := <-fs.authHdr; got != "Bearer "+testSecret {
		t.Fatalf("Authorization %q", got)
	}
}

func TestSkipsExpiredMessagesButAcksThem(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	acked := make(chan []string, 1)
	fs := newFakeServer(t, func(_ int, ws *websocket.Conn) {
		push(t, ws, "stale", "2026-03-01T11:59:59Z")
		push(t, ws, "edge", "2026-03-01T12:00:00Z") // expires exactly now: still live
		push(t, ws, "live", "2026-03-01T12:05:00Z")
		push(t, ws, "bad-expiry", "tomorrow")
		acked <- readAcks(ws, 4)
	})
	var mu sync.Mutex
	var got []Message
	c, _ := New(Config{URL: fs.url, Secret: testSecret, Backoff: fastBackoff(), Now: func() time.Time { return now },
		OnMessage: func(m Message) {
			mu.Lock()
			got = append(got, m)
			mu.Unlock()
		}})
	runClient(t, c)

	if acks := <-acked; !slices.Equal(acks, []string{"stale", "edge", "live", "bad-expiry"}) {
		t.Fatalf("acks %v", acks)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0].ID != "edge" || got[1].ID != "live" {
		t.Fatalf("shown %v", got)
	}
	if want := time.Date(2026, 3, 1, 12, 5, 0, 0, time.UTC); !got[1].ExpiresAt.Equal(want) || got[1].Data["challenge_sid"] != "YClive" {
		t.Fatalf("message %+v", got[1])
	}
}

func TestMalformedFramesIgnored(t *testing.T) {
	acked := make(chan []string, 1)
	fs := newFakeServer(t, func(_ int, ws *websocket.Conn) {
		ws.WriteMessage(websocket.TextMessage, []byte(`not json`))
		ws.WriteMessage(websocket.TextMessage, []byte(`{"data":{}}`))
		ws.WriteMessage(websocket.TextMessage, []byte(`{"ID":"capitals"}`))
		ws.WriteMessage(websocket.BinaryMessage, []byte(`{"id":"bin"}`))
		push(t, ws, "ok", "")
		acked <- readAcks(ws, 1)
	})
	var shown shownLog
	c, _ := New(Config{URL: fs.url, Secret: testSecret, Backoff: fastBackoff(), OnMessage: shown.add})
	runClient(t, c)
	if acks := <-acked; !slices.Equal(acks, []string{"ok"}) {
		t.Fatalf("acks %v", acks)
	}
	if got := shown.get(); !slices.Equal(got, []string{"ok"}) {
		t.Fatalf("shown %v", got)
	}
	if n := fs.dials.Load(); n != 1 {
		t.Fatalf("reconnected after a malformed frame (%d dials)", n)
	}
}

func TestReconnectsCallsOnConnectAndRemembersIDs(t *testing.T) {
	fs := newFakeServer(t, func(n int, ws *websocket.Conn) {
		switch n {
		case 1:
			push(t, ws, "a", "")
			readAcks(ws, 1) // then drop the socket
		case 2:
			push(t, ws, "a", "") // redelivered across the reconnect
			push(t, ws, "b", "")
			readAcks(ws, 2)
			ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4000, "replaced"))
		default:
			readAcks(ws, 1) // hold the socket open until the test ends
		}
	})
	var shown shownLog
	var connects, disconnects atomic.Int32
	c, _ := New(Config{URL: fs.url, Secret: testSecret, Backoff: fastBackoff(), OnMessage: shown.add,
		OnConnect:    func() { connects.Add(1) },
		OnDisconnect: func(error) { disconnects.Add(1) },
		Rand:         rand.New(rand.NewPCG(1, 2)),
	})
	stop := runClient(t, c)

	waitFor(t, "third connection", func() bool { return connects.Load() == 3 && c.Connected() })
	if got := shown.get(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("shown %v, want [a b]", got)
	}
	if n := disconnects.Load(); n != 2 {
		t.Fatalf("OnDisconnect ran %d times, want 2", n)
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
	if c.Connected() {
		t.Fatal("Connected after Run returned")
	}
}

func TestKeepsRetryingRefusedConnections(t *testing.T) {
	fs := newFakeServer(t, func(int, *websocket.Conn) {})
	fs.refuse.Store(true)
	var connects atomic.Int32
	c, _ := New(Config{URL: fs.url, Secret: testSecret, Backoff: fastBackoff(), OnMessage: func(Message) {},
		OnConnect: func() { connects.Add(1) }})
	stop := runClient(t, c)
	waitFor(t, "several attempts", func() bool { return fs.dials.Load() >= 4 })
	if c.Connected() || connects.Load() != 0 {
		t.Fatal("refused connection reported as connected")
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
}

func TestStopClosesNormallyAndLeavesNoGoroutines(t *testing.T) {
	base := runtime.NumGoroutine()
	closed := make(chan int, 1)
	fs := newFakeServer(t, func(_ int, ws *websocket.Conn) {
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, _, err := ws.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			closed <- ce.Code
		} else {
			closed <- -1
		}
	})
	c, _ := New(Config{URL: fs.url, Secret: testSecret, OnMessage: func(Message) {}})
	stop := runClient(t, c)
	waitFor(t, "connection", c.Connected)
	stop()
	if code := <-closed; code != websocket.CloseNormalClosure {
		t.Fatalf("server saw close code %d, want 1000", code)
	}
	fs.srv.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			t.Fatalf("goroutines %d, baseline %d", runtime.NumGoroutine(), base)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRepliesToPingsAndTimesOutSilentServer(t *testing.T) {
	pongs := make(chan string, 1)
	fs := newFakeServer(t, func(n int, ws *websocket.Conn) {
		if n == 1 {
			ws.SetPongHandler(func(data string) error { pongs <- data; return nil })
			ws.WriteControl(websocket.PingMessage, []byte("p1"), time.Now().Add(time.Second))
			ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			ws.ReadMessage() // runs the pong handler, then waits for the client to give up
			return
		}
		readAcks(ws, 1)
	})
	var connects atomic.Int32
	c, _ := New(Config{URL: fs.url, Secret: testSecret, Backoff: fastBackoff(), OnMessage: func(Message) {},
		ReadTimeout: 100 * time.Millisecond, OnConnect: func() { connects.Add(1) }})
	runClient(t, c)
	select {
	case got := <-pongs:
		if got != "p1" {
			t.Fatalf("pong %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no pong")
	}
	// The first server goes silent; the client must notice and reconnect.
	waitFor(t, "reconnect after read timeout", func() bool { return connects.Load() >= 2 })
}

func TestBackoffDoublesWithinJitterAndCaps(t *testing.T) {
	c, _ := New(Config{URL: "ws://x/push/connect", Secret: testSecret, OnMessage: func(Message) {},
		Backoff: Backoff{Min: time.Second, Max: 30 * time.Second}, Rand: rand.New(rand.NewPCG(7, 7))})
	for n, full := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 5: 16 * time.Second, 6: 30 * time.Second, 50: 30 * time.Second} {
		seen := map[time.Duration]bool{}
		for range 200 {
			d := c.backoff(n)
			if d < full/2 || d > full {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", n, d, full/2, full)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("backoff(%d) barely varies: %d distinct values", n, len(seen))
		}
	}
}

func TestRecentIDsForgetsOldest(t *testing.T) {
	r := newRecentIDs(3)
	for _, id := range []string{"a", "b", "c"} {
		if !r.add(id) {
			t.Fatalf("%s reported as seen", id)
		}
	}
	if r.add("a") {
		t.Fatal("a not remembered")
	}
	r.add("d") // evicts a
	if !r.add("a") {
		t.Fatal("a still remembered past capacity")
	}
	if r.add("d") {
		t.Fatal("d forgotten")
	}
}

// The wire format must match docs/push-protocol.md byte for byte.
func TestAckFrameBytes(t *testing.T) {
	got := make(chan string, 1)
	fs := newFakeServer(t, func(_ int, ws *websocket.Conn) {
		push(t, ws, `m"1`, "")
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, b, _ := ws.ReadMessage()
		got <- string(b)
	})
	c, _ := New(Config{URL: fs.url, Secret: testSecret, OnMessage: func(Message) {}})
	runClient(t, c)
	if b := <-got; b != `{"ack":"m\"1"}` {
		t.Fatalf("ack frame %s", b)
	}
}

// A message that arrived expired was never shown, so its redelivery is not
// reported as a duplicate; a shown message delivered again is.
func TestDuplicateMeansShownBefore(t *testing.T) {
	var dups []string
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c, err := New(Config{URL: "ws://unused", Secret: strings.Repeat("s", 32), Now: func() time.Time { return now },
		OnMessage:   func(Message) {},
		OnDuplicate: func(m Message) { dups = append(dups, m.ID) }})
	if err != nil {
		t.Fatal(err)
	}
	stale := frame{ID: "stale", ExpiresAt: now.Add(-time.Second).Format(time.RFC3339)}
	fresh := frame{ID: "fresh", ExpiresAt: now.Add(time.Minute).Format(time.RFC3339)}
	for _, f := range []frame{stale, stale, fresh, fresh} {
		c.deliver(f)
	}
	if strings.Join(dups, ",") != "fresh" {
		t.Fatalf("duplicates reported: %v, want only fresh", dups)
	}
}
