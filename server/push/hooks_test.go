package push

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// connectEvents returns a Config whose OnConnect reports each token on the
// channel, buffered so the hook never holds up a connection.
func connectEvents(cfg Config) (Config, <-chan string) {
	ch := make(chan string, 16)
	cfg.OnConnect = func(token string) { ch <- token }
	return cfg, ch
}

func nextConnect(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case tok := <-ch:
		return tok
	case <-time.After(5 * time.Second):
		t.Fatal("timed out waiting for OnConnect")
		return ""
	}
}

func sortedTokens(g *Gateway) []string {
	return slices.Sorted(slices.Values(g.Tokens()))
}

func TestOnConnectReportsEachPhoneOnce(t *testing.T) {
	cfg, events := connectEvents(Config{})
	tg := startGateway(t, cfg)
	mustDial(t, tg.url, secretFor(1))
	if got := nextConnect(t, events); got != tokenFor(1) {
		t.Fatalf("OnConnect(%q), want phone 1's token", got)
	}
	// A repeat call for phone 1 would be queued ahead of phone 2's.
	mustDial(t, tg.url, secretFor(2))
	if got := nextConnect(t, events); got != tokenFor(2) {
		t.Fatalf("OnConnect(%q), want phone 2's token", got)
	}
}

func TestOnConnectNotCalledForRefusedConnection(t *testing.T) {
	cfg, events := connectEvents(Config{MaxConnsPerAddr: 1})
	tg := startGateway(t, cfg)
	refuse := func(secret string, h http.Header, want int) {
		t.Helper()
		ws, resp, err := dialRaw(tg.url, secret, h)
		if err == nil {
			ws.Close()
			t.Fatalf("upgrade accepted, want %d", want)
		}
		if resp == nil || resp.StatusCode != want {
			t.Fatalf("got %v, want %d", resp, want)
		}
	}
	refuse("", http.Header{"Authorization": {"Bearer short"}}, http.StatusUnauthorized)
	refuse(secretFor(9), http.Header{"Origin": {"https://evil.example"}}, http.StatusForbidden)

	// Refused handlers finish before answering, so a call from them would
	// be queued ahead of this phone's.
	first := mustDial(t, tg.url, secretFor(1))
	if got := nextConnect(t, events); got != tokenFor(1) {
		t.Fatalf("first OnConnect(%q), want phone 1's token", got)
	}
	refuse(secretFor(2), nil, http.StatusTooManyRequests)

	first.Close()
	waitFor(t, "phone 1's slot released", func() bool {
		tg.mu.Lock()
		defer tg.mu.Unlock()
		return tg.perAddr["127.0.0.1"] == 0
	})
	mustDial(t, tg.url, secretFor(3))
	if got := nextConnect(t, events); got != tokenFor(3) {
		t.Fatalf("OnConnect(%q) after the 429, want phone 3's token", got)
	}
	for _, i := range []int{2, 9} {
		if tg.Connected(tokenFor(i)) {
			t.Errorf("refused phone %d reported connected", i)
		}
	}
}

func TestConnectedFollowsSocket(t *testing.T) {
	cfg, events := connectEvents(Config{})
	tg := startGateway(t, cfg)
	tok := tokenFor(1)
	if tg.Connected(tok) {
		t.Fatal("connected before dialing")
	}
	ws := mustDial(t, tg.url, secretFor(1))
	nextConnect(t, events)
	if !tg.Connected(tok) {
		t.Fatal("not connected once OnConnect ran")
	}
	if tg.Connected(tokenFor(2)) {
		t.Fatal("unknown token reported connected")
	}
	ws.Close()
	waitFor(t, "disconnect observed", func() bool { return !tg.Connected(tok) })
}

func TestTokensListsConnectedPhones(t *testing.T) {
	cfg, events := connectEvents(Config{})
	tg := startGateway(t, cfg)
	if got := tg.Tokens(); len(got) != 0 {
		t.Fatalf("tokens %v with no phones", got)
	}
	a := mustDial(t, tg.url, secretFor(1))
	mustDial(t, tg.url, secretFor(2))
	nextConnect(t, events)
	nextConnect(t, events)
	both := slices.Sorted(slices.Values([]string{tokenFor(1), tokenFor(2)}))
	if got := sortedTokens(tg.Gateway); !slices.Equal(got, both) {
		t.Fatalf("tokens %v, want %v", got, both)
	}
	a.Close()
	waitFor(t, "phone 1 gone", func() bool { return len(tg.Tokens()) == 1 })
	if got := tg.Tokens(); !slices.Equal(got, []string{tokenFor(2)}) {
		t.Fatalf("tokens %v, want only phone 2's", got)
	}
}

// The shared push delivery asks the gateway about the phone from inside
// OnConnect, so the hook must run with the gateway's lock released.
func TestOnConnectHookMayQueryGateway(t *testing.T) {
	type seen struct {
		connected bool
		tokens    []string
	}
	results := make(chan seen, 1)
	var g *Gateway
	g = NewGateway(Config{OnConnect: func(token string) {
		results <- seen{g.Connected(token), g.Tokens()}
	}})
	// Not startGateway: its cleanup's Shutdown would block on a lock the
	// stuck hook holds, hanging the run instead of failing this test.
	srv := httptest.NewServer(g)
	hookReturned := false
	t.Cleanup(func() {
		if hookReturned {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			g.Shutdown(ctx)
		}
		srv.Close()
	})
	mustDial(t, "ws"+strings.TrimPrefix(srv.URL, "http"), secretFor(1))
	select {
	case s := <-results:
		hookReturned = true
		if !s.connected {
			t.Error("Connected false inside OnConnect")
		}
		if !slices.Equal(s.tokens, []string{tokenFor(1)}) {
			t.Errorf("Tokens %v inside OnConnect, want phone 1's", s.tokens)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OnConnect hook calling Connected/Tokens did not return: deadlock?")
	}
}
