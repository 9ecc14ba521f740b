package push

import (
	"net/http"
	"testing"
)

// TestLoopbackConnectionCap: the raised cap lets the phones this machine
// runs share the loopback address, and nobody else gets it.
func TestLoopbackConnectionCap(t *testing.T) {
	tg := startGateway(t, Config{MaxConnsPerAddr: 1, MaxConnsPerLoopbackAddr: 3})
	for i := range 3 {
		mustDial(t, tg.url, secretFor(i))
	}
	ws, resp, err := dialRaw(tg.url, secretFor(3), nil)
	if err == nil {
		ws.Close()
		t.Fatal("fourth connection from loopback accepted")
	}
	if resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("got %v, want 429", resp)
	}

	for addr, want := range map[string]int{
		"127.0.0.1": 3, "::1": 3, "127.8.9.10": 3,
		"192.0.2.7": 1, "2001:db8::7": 1, "fe80::1%eth0": 1, "": 1,
	} {
		if got := tg.cfg.maxConnsFrom(addr); got != want {
			t.Errorf("cap for %q = %d, want %d", addr, got, want)
		}
	}
	// A loopback cap below the general one does not lower it.
	low := Config{MaxConnsPerAddr: 5, MaxConnsPerLoopbackAddr: 2}
	if got := low.maxConnsFrom("127.0.0.1"); got != 5 {
		t.Errorf("cap with a lower loopback cap = %d, want 5", got)
	}
}
