package push

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pushsim/pushsim/device/pushclient"
)

func challengeData(sid string) map[string]string {
	return map[string]string{
		"type":          "verify_push_challenge",
		"challenge_sid": sid,
		"factor_sid":    "YF00000000000000000000000000000001",
		"message":       "Sign in to Example?",
	}
}

func TestRejectsMalformedBearerBeforeUpgrade(t *testing.T) {
	tg := startGateway(t, Config{})
	cases := map[string]string{
		"no header":      "",
		"basic scheme":   "Basic " + secretFor(1),
		"no scheme":      secretFor(1),
		"too short":      "Bearer " + strings.Repeat("a", 31),
		"too long":       "Bearer " + strings.Repeat("a", 256),
		"space inside":   "Bearer " + strings.Repeat("a", 20) + " " + strings.Repeat("b", 20),
		"tab inside":     "Bearer " + strings.Repeat("a", 20) + "\t" + strings.Repeat("b", 20),
		"non-ascii byte": "Bearer " + strings.Repeat("a", 40) + "é",
	}
	for name, auth := range cases {
		t.Run(name, func(t *testing.T) {
			h := http.Header{}
			if auth != "" {
				h.Set("Authorization", auth)
			}
			ws, resp, err := dialRaw(tg.url, "", h)
			if err == nil {
				ws.Close()
				t.Fatal("upgrade succeeded")
			}
			if resp == nil || resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("got %v, want 401", resp)
			}
			if resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	for _, n := range []int{32, 255} {
		mustDial(t, tg.url, strings.Repeat("k", n))
	}
	waitFor(t, "both edge-length tokens connected", func() bool { return tg.Stats().Connected == 2 })
}

func TestSendRejectsUndeliverableMessages(t *testing.T) {
	tg := startGateway(t, Config{})
	exp := time.Now().Add(time.Minute)
	big := map[string]string{"message": strings.Repeat("x", MaxFrameSize)}
	cases := map[string]Message{
		"empty id":       {Token: tokenFor(1), ExpiresAt: exp},
		"bad token":      {ID: "m1", Token: "short", ExpiresAt: exp},
		"no expiry":      {ID: "m1", Token: tokenFor(1)},
		"oversize frame": {ID: "m1", Token: tokenFor(1), ExpiresAt: exp, Data: big},
	}
	for name, m := range cases {
		if err := tg.Send(m); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("%s: got %v, want ErrInvalidMessage", name, err)
		}
	}
	if q := tg.Stats().Queued; q != 0 {
		t.Fatalf("queued %d invalid messages", q)
	}
}

func TestOfflinePhoneReceivesOnReconnectInOrder(t *testing.T) {
	clock := newFakeClock()
	tg := startGateway(t, Config{Now: clock.Now})
	sec, tok := secretFor(1), tokenFor(1)
	for _, id := range []string{"m1", "m2", "m3"} {
		if err := tg.Send(Message{ID: id, Token: tok, Data: challengeData("YC" + id), ExpiresAt: clock.Now().Add(5 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	if q := tg.Stats().Queued; q != 3 {
		t.Fatalf("queued %d, want 3", q)
	}

	p := startPhone(t, tg.url, sec, phoneOptions{now: clock.Now})
	waitFor(t, "all acks", func() bool { return tg.outs.totalAcks() == 3 })
	if got := p.shownIDs(); !slices.Equal(got, []string{"m1", "m2", "m3"}) {
		t.Fatalf("shown %v", got)
	}
	p.mu.Lock()
	first := p.shown[0]
	p.mu.Unlock()
	if first.Data["challenge_sid"] != "YCm1" || first.Data["type"] != "verify_push_challenge" {
		t.Fatalf("payload not delivered intact: %v", first.Data)
	}
	if want := clock.Now().Add(5 * time.Minute); !first.ExpiresAt.Equal(want) {
		t.Fatalf("expires_at %v, want %v", first.ExpiresAt, want)
	}
	if q := tg.Stats().Queued; q != 0 {
		t.Fatalf("queued %d after acks", q)
	}
}

func TestQueuedMessageNeverDeliveredAfterExpiry(t *testing.T) {
	clock := newFakeClock()
	tg := startGateway(t, Config{Now: clock.Now})
	sec, tok := secretFor(1), tokenFor(1)
	tg.Send(Message{ID: "stale", Token: tok, ExpiresAt: clock.Now().Add(time.Minute)})
	// Queued after the stale one, so it would arrive second if the stale one
	// were delivered at all.
	tg.Send(Message{ID: "live", Token: tok, ExpiresAt: clock.Now().Add(5 * time.Minute)})
	clock.Advance(time.Minute)

	ws := mustDial(t, tg.url, sec)
	if m := readFrame(t, ws); m.ID != "live" {
		t.Fatalf("first frame %q, want live", m.ID)
	}
	if got := tg.outs.dropsOf("stale"); !slices.Equal(got, []DropReason{DropExpired}) {
		t.Fatalf("stale drops %v", got)
	}
}

func TestUnackedMessageNotRedeliveredAfterExpiry(t *testing.T) {
	clock := newFakeClock()
	tg := startGateway(t, Config{Now: clock.Now})
	sec, tok := secretFor(1), tokenFor(1)
	tg.Send(Message{ID: "m1", Token: tok, ExpiresAt: clock.Now().Add(time.Minute)})
	tg.Send(Message{ID: "sentinel", Token: tok, ExpiresAt: clock.Now().Add(5 * time.Minute)})

	ws := mustDial(t, tg.url, sec)
	for _, want := range []string{"m1", "sentinel"} {
		if m := readFrame(t, ws); m.ID != want {
			t.Fatalf("got %q, want %q", m.ID, want)
		}
	}
	ws.Close() // no acks
	waitFor(t, "disconnect", func() bool { return tg.Stats().Connected == 0 })

	clock.Advance(2 * time.Minute)
	ws = mustDial(t, tg.url, sec)
	if m := readFrame(t, ws); m.ID != "sentinel" {
		t.Fatalf("redelivered %q after its expiry", m.ID)
	}
	if got := tg.outs.dropsOf("m1"); !slices.Equal(got, []DropReason{DropExpired}) {
		t.Fatalf("m1 drops %v", got)
	}
}

func TestUnackedMessageRedeliveredOnReconnect(t *testing.T) {
	tg := startGateway(t, Config{})
	sec, tok := secretFor(1), tokenFor(1)
	tg.Send(Message{ID: "m1", Token: tok, ExpiresAt: time.Now().Add(time.Minute)})

	ws := mustDial(t, tg.url, sec)
	readFrame(t, ws)
	ws.Close()
	waitFor(t, "disconnect", func() bool { return tg.Stats().Connected == 0 })

	ws = mustDial(t, tg.url, sec)
	if m := readFrame(t, ws); m.ID != "m1" {
		t.Fatalf("got %q, want m1 again", m.ID)
	}
	sendAck(t, ws, "m1")
	waitFor(t, "ack", func() bool { return tg.outs.ackCount("m1") == 1 })
	if s := tg.Stats(); s.Sent != 2 || s.Queued != 0 {
		t.Fatalf("stats %+v, want 2 sent, 0 queued", s)
	}
}

func TestNowOnly(t *testing.T) {
	tg := startGateway(t, Config{})
	sec, tok := secretFor(1), tokenFor(1)
	exp := time.Now().Add(time.Minute)

	t.Run("dropped when offline", func(t *testing.T) {
		tg.Send(Message{ID: "offline", Token: tok, ExpiresAt: exp, NowOnly: true})
		if got := tg.outs.dropsOf("offline"); !slices.Equal(got, []DropReason{DropOffline}) {
			t.Fatalf("drops %v", got)
		}
		if q := tg.Stats().Queued; q != 0 {
			t.Fatalf("queued %d", q)
		}
	})

	t.Run("delivered when online, not redelivered after the socket is lost", func(t *testing.T) {
		ws := mustDial(t, tg.url, sec)
		waitFor(t, "connect", func() bool { return tg.Stats().Connected == 1 })
		tg.Send(Message{ID: "now", Token: tok, ExpiresAt: exp, NowOnly: true})
		if m := readFrame(t, ws); m.ID != "now" {
			t.Fatalf("got %q", m.ID)
		}
		ws.Close() // no ack
		waitFor(t, "drop", func() bool { return len(tg.outs.dropsOf("now")) == 1 })
		if got := tg.outs.dropsOf("now"); got[0] != DropOffline {
			t.Fatalf("drops %v", got)
		}

		tg.Send(Message{ID: "sentinel", Token: tok, ExpiresAt: exp})
		ws = mustDial(t, tg.url, sec)
		if m := readFrame(t, ws); m.ID != "sentinel" {
			t.Fatalf("got %q after reconnect", m.ID)
		}
	})
}

func TestDuplicateSendIsOneQueueEntry(t *testing.T) {
	tg := startGateway(t, Config{})
	sec, tok := secretFor(1), tokenFor(1)
	exp := time.Now().Add(time.Minute)
	tg.Send(Message{ID: "m1", Token: tok, ExpiresAt: exp})
	tg.Send(Message{ID: "m1", Token: tok, ExpiresAt: exp})
	if q := tg.Stats().Queued; q != 1 {
		t.Fatalf("queued %d, want 1", q)
	}
	ws := mustDial(t, tg.url, sec)
	readFrame(t, ws)
	tg.Send(Message{ID: "m1", Token: tok, ExpiresAt: exp}) // still unacked
	tg.Send(Message{ID: "m2", Token: tok, ExpiresAt: exp})
	if m := readFrame(t, ws); m.ID != "m2" {
		t.Fatalf("got %q, want m2", m.ID)
	}
}

func TestRedeliveryBeforeAckIsShownOnce(t *testing.T) {
	tg := startGateway(t, Config{})
	sec, tok := secretFor(1), tokenFor(1)
	killed := false
	p := startPhone(t, tg.url, sec, phoneOptions{onMsg: func(pushclient.Message) {
		// The socket dies while the app is still handling the push, so the
		// ack never reaches the gateway and the push comes again.
		if !killed {
			killed = tg.kill(tok)
		}
	}})
	waitFor(t, "connect", func() bool { return tg.Stats().Connected == 1 })
	tg.Send(Message{ID: "m1", Token: tok, ExpiresAt: time.Now().Add(time.Minute)})

	waitFor(t, "ack", func() bool { return tg.outs.ackCount("m1") == 1 })
	if !killed {
		t.Fatal("socket was not killed")
	}
	if s := tg.Stats(); s.Sent != 2 {
		t.Fatalf("sent %d frames, want 2 (one redelivery)", s.Sent)
	}
	if got := p.shownIDs(); !slices.Equal(got, []string{"m1"}) {
		t.Fatalf("shown %v, want [m1]", got)
	}
	if n := p.connectCount(); n != 2 {
		t.Fatalf("OnConnect ran %d times, want 2", n)
	}
}

func TestNewConnectionReplacesOld(t *testing.T) {
	tg := startGateway(t, Config{})
	sec, tok := secretFor(1), tokenFor(1)
	old := mustDial(t, tg.url, sec)
	waitFor(t, "first connection", func() bool { return tg.connID(tok) != 0 })
	first := tg.connID(tok)
	fresh := mustDial(t, tg.url, sec)
	if code := closeCode(t, old); code != CloseReplaced {
		t.Fatalf("old socket closed with %d, want %d", code, CloseReplaced)
	}
	waitFor(t, "replacement", func() bool { id := tg.connID(tok); return id != 0 && id != first })
	tg.Send(Message{ID: "m1", Token: tok, ExpiresAt: time.Now().Add(time.Minute)})
	if m := readFrame(t, fresh); m.ID != "m1" {
		t.Fatalf("got %q", m.ID)
	}
	if c := tg.Stats().Connected; c != 1 {
		t.Fatalf("connected %d", c)
	}
}

// TestPublicTokenAsBearerReachesNothing: Verify shows a factor's token to
// the account, so presenting it must neither take the phone's place nor
// receive its pushes. It opens the queue of the token derived from it, which
// nobody sends to.
func TestPublicTokenAsBearerReachesNothing(t *testing.T) {
	tg := startGateway(t, Config{})
	sec, tok := secretFor(1), tokenFor(1)
	real := mustDial(t, tg.url, sec)
	waitFor(t, "phone connected", func() bool { return tg.connID(tok) != 0 })
	phoneConn := tg.connID(tok)

	intruder := mustDial(t, tg.url, tok)
	intruderKey := RegistrationToken(tok)
	waitFor(t, "intruder connected", func() bool { return tg.connID(intruderKey) != 0 })

	exp := time.Now().Add(time.Minute)
	tg.Send(Message{ID: "m1", Token: tok, Data: challengeData("YC1"), ExpiresAt: exp})
	if m := readFrame(t, real); m.ID != "m1" {
		t.Fatalf("phone got %q, want m1", m.ID)
	}
	sendAck(t, real, "m1")
	waitFor(t, "ack", func() bool { return tg.outs.ackCount("m1") == 1 })

	// Anything queued for the intruder's socket is written in order, so m1,
	// had it been routed there, would come before this probe.
	tg.Send(Message{ID: "probe", Token: intruderKey, ExpiresAt: exp})
	if m := readFrame(t, intruder); m.ID != "probe" {
		t.Fatalf("intruder's first frame is %q, want the probe", m.ID)
	}
	// The phone's socket is still the registered one and still delivers; a
	// 4000 close would have ended it before m2.
	if id := tg.connID(tok); id != phoneConn {
		t.Fatalf("phone's connection %d replaced by %d", phoneConn, id)
	}
	tg.Send(Message{ID: "m2", Token: tok, ExpiresAt: exp})
	if m := readFrame(t, real); m.ID != "m2" {
		t.Fatalf("phone got %q, want m2", m.ID)
	}
	if c := tg.Stats().Connected; c != 2 {
		t.Fatalf("connected %d, want the phone and the intruder", c)
	}
}

func TestLogsNeverCarryTheSecret(t *testing.T) {
	var logs lockedBuffer
	tg := startGateway(t, Config{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	sec, tok := secretFor(1), tokenFor(1)
	ws := mustDial(t, tg.url, sec)
	tg.Send(Message{ID: "m1", Token: tok, ExpiresAt: time.Now().Add(time.Minute)})
	readFrame(t, ws) // unacked, so the disconnect below has work to log
	ws.Close()
	waitFor(t, "disconnect logged", func() bool { return strings.Contains(logs.String(), "phone disconnected") })
	out := logs.String()
	if strings.Contains(out, sec) || strings.Contains(out, tok) {
		t.Fatalf("logs carry the secret or the whole token:\n%s", out)
	}
	if !strings.Contains(out, redact(tok)) {
		t.Fatalf("logs do not name the phone by its redacted token:\n%s", out)
	}
}

func TestCrossOriginUpgradeRefused(t *testing.T) {
	tg := startGateway(t, Config{})
	host := strings.TrimPrefix(tg.srv.URL, "http://")

	h := http.Header{"Origin": {"https://evil.example"}}
	ws, resp, err := dialRaw(tg.url, secretFor(1), h)
	if err == nil {
		ws.Close()
		t.Fatal("cross-origin upgrade accepted")
	}
	if resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("got %v, want 403", resp)
	}

	h = http.Header{"Origin": {"http://" + host}}
	ws, _, err = dialRaw(tg.url, secretFor(2), h)
	if err != nil {
		t.Fatalf("same-origin upgrade refused: %v", err)
	}
	ws.Close()
	ws, _, err = dialRaw(tg.url, secretFor(3), nil)
	if err != nil {
		t.Fatalf("upgrade without Origin refused: %v", err)
	}
	ws.Close()
}

func TestOversizeFrameCloses1009(t *testing.T) {
	tg := startGateway(t, Config{})
	ws := mustDial(t, tg.url, secretFor(1))
	big := `{"ack":"` + strings.Repeat("x", MaxFrameSize) + `"}`
	if err := ws.WriteMessage(websocket.TextMessage, []byte(big)); err != nil {
		t.Fatal(err)
	}
	if code := closeCode(t, ws); code != websocket.CloseMessageTooBig {
		t.Fatalf("close code %d, want 1009", code)
	}
	waitFor(t, "disconnect", func() bool { return tg.Stats().Connected == 0 })
}

func TestFramesOtherThanAcksClose(t *testing.T) {
	tg := startGateway(t, Config{})
	cases := []struct {
		name string
		kind int
		body string
		code int
	}{
		{"binary", websocket.BinaryMessage, `{"ack":"m1"}`, websocket.CloseUnsupportedData},
		{"not json", websocket.TextMessage, `hello`, websocket.ClosePolicyViolation},
		{"no ack field", websocket.TextMessage, `{"id":"m1"}`, websocket.ClosePolicyViolation},
		{"empty ack", websocket.TextMessage, `{"ack":""}`, websocket.ClosePolicyViolation},
		{"ack in capitals", websocket.TextMessage, `{"ACK":"m1"}`, websocket.ClosePolicyViolation},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ws := mustDial(t, tg.url, secretFor(i))
			ws.WriteMessage(c.kind, []byte(c.body))
			if code := closeCode(t, ws); code != c.code {
				t.Fatalf("close code %d, want %d", code, c.code)
			}
		})
	}
	// An ack for an unknown id is harmless and keeps the socket.
	sec, tok := secretFor(99), tokenFor(99)
	ws := mustDial(t, tg.url, sec)
	sendAck(t, ws, "never-sent")
	tg.Send(Message{ID: "m1", Token: tok, ExpiresAt: time.Now().Add(time.Minute)})
	if m := readFrame(t, ws); m.ID != "m1" {
		t.Fatalf("got %q", m.ID)
	}
}

func TestPerAddressConnectionCap(t *testing.T) {
	tg := startGateway(t, Config{MaxConnsPerAddr: 2})
	first := mustDial(t, tg.url, secretFor(1))
	mustDial(t, tg.url, secretFor(2))

	ws, resp, err := dialRaw(tg.url, secretFor(3), nil)
	if err == nil {
		ws.Close()
		t.Fatal("third connection from one address accepted")
	}
	if resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("got %v, want 429", resp)
	}

	first.Close()
	waitFor(t, "slot released", func() bool {
		tg.mu.Lock()
		defer tg.mu.Unlock()
		return tg.perAddr["127.0.0.1"] == 1
	})
	mustDial(t, tg.url, secretFor(3))
}

func TestDeadPhoneIsDisconnectedAndLiveOneKept(t *testing.T) {
	const pongWait = 1500 * time.Millisecond
	tg := startGateway(t, Config{PingInterval: 50 * time.Millisecond, PongWait: pongWait})
	live := startPhone(t, tg.url, secretFor(1), phoneOptions{})
	liveTok := tokenFor(1)
	// The live phone's ack of m1 is the last data frame it sends for a
	// while: the server reads it, pushes the socket's read deadline a pong
	// wait ahead and only then reports the ack. From then on only pongs
	// can push it further.
	tg.Send(Message{ID: "m1", Token: liveTok, ExpiresAt: time.Now().Add(time.Minute)})
	waitFor(t, "m1 acked", func() bool { return tg.outs.ackCount("m1") == 1 })
	liveID := tg.connID(liveTok)

	// A socket nobody reads never answers pings. Opened after that ack was
	// read, it gets its own deadline later than the live phone's, so once
	// it has been dropped, an unanswering live phone would have been too.
	mustDial(t, tg.url, secretFor(2))
	waitFor(t, "silent phone connected", func() bool { return tg.connID(tokenFor(2)) != 0 })
	waitFor(t, "silent phone dropped", func() bool { return tg.connID(tokenFor(2)) == 0 })

	// The live phone's reader must still be working past its deadline: a
	// read after it passes fails for good, so an ack read on the same
	// socket proves its pongs kept extending it.
	tg.Send(Message{ID: "m2", Token: liveTok, ExpiresAt: time.Now().Add(time.Minute)})
	waitFor(t, "m2 acked", func() bool { return tg.outs.ackCount("m2") == 1 })
	if n, id := live.connectCount(), tg.connID(liveTok); n != 1 || id != liveID || !live.client.Connected() {
		t.Fatalf("live phone connected %d times, socket %d (was %d), connected now: %v", n, id, liveID, live.client.Connected())
	}
}

func TestExpiredMessagesOfOfflinePhonesAreSwept(t *testing.T) {
	clock := newFakeClock()
	tg := startGateway(t, Config{Now: clock.Now, SweepInterval: 5 * time.Millisecond})
	tg.Send(Message{ID: "m1", Token: tokenFor(1), ExpiresAt: clock.Now().Add(time.Minute)})
	clock.Advance(time.Minute)
	waitFor(t, "sweep", func() bool { return len(tg.outs.dropsOf("m1")) == 1 })
	if s := tg.Stats(); s.Queued != 0 || s.Dropped != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestShutdownClosesWith1001AndReleasesGoroutines(t *testing.T) {
	base := runtime.NumGoroutine()
	g := NewGateway(Config{})
	tg := &testGateway{Gateway: g}
	srv := httptest.NewServer(g)
	url := "ws" + strings.TrimPrefix(srv.URL, "http")

	const n = 5
	codes := make(chan int, n)
	for i := range n {
		ws, _, err := dialRaw(url, secretFor(i), nil)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			codes <- closeCode(t, ws)
			ws.Close()
		}()
	}
	waitFor(t, "connections", func() bool { return tg.Stats().Connected == n })

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := g.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	for range n {
		if code := <-codes; code != websocket.CloseGoingAway {
			t.Errorf("close code %d, want 1001", code)
		}
	}
	if err := g.Send(Message{ID: "m1", Token: tokenFor(1), ExpiresAt: time.Now().Add(time.Minute)}); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after shutdown: %v", err)
	}
	_, resp, err := dialRaw(url, secretFor(1), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("connect after shutdown: %v %v", err, resp)
	}
	srv.Close()
	waitGoroutines(t, base)
}

func TestGoroutinesPerConnectionAndBaseline(t *testing.T) {
	tg := startGateway(t, Config{MaxConnsPerAddr: 100})
	base := runtime.NumGoroutine()

	const n = 20
	phones := make([]*phone, n)
	for i := range phones {
		phones[i] = startPhone(t, tg.url, secretFor(i), phoneOptions{seed: uint64(i)})
	}
	waitFor(t, "connections", func() bool { return tg.Stats().Connected == n })
	for i := range n {
		tg.Send(Message{ID: "m", Token: tokenFor(i), ExpiresAt: time.Now().Add(time.Minute)})
	}
	waitFor(t, "acks", func() bool { return tg.Stats().Acked == n })

	// Each phone is one goroutine here; the gateway may add two per socket.
	if got, limit := runtime.NumGoroutine()-base, 3*n+2; got > limit {
		t.Fatalf("%d goroutines for %d connections, limit %d", got, n, limit)
	}
	for _, p := range phones {
		p.stop()
	}
	waitFor(t, "disconnects", func() bool { return tg.Stats().Connected == 0 })
	waitGoroutines(t, base)
}

func TestShutdownCutsSocketsThatIgnoreTheClose(t *testing.T) {
	base := runtime.NumGoroutine()
	g := NewGateway(Config{})
	srv := httptest.NewServer(g)
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	// Never read, so the closing handshake is never answered.
	ws, _, err := dialRaw(url, secretFor(1), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	waitFor(t, "connection", func() bool { return g.Stats().Connected == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := g.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown returned %v, want the context's deadline error", err)
	}
	ws.Close()
	srv.Close()
	waitGoroutines(t, base)
}
