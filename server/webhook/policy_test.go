package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeResolver answers from a table; a host with several answers gives them
// in turn, which is how a rebinding DNS server behaves.
type fakeResolver struct {
	mu      sync.Mutex
	answers map[string][][]netip.Addr
	calls   map[string]int
}

func newFakeResolver() *fakeResolver {
	return &fakeResolver{answers: map[string][][]netip.Addr{}, calls: map[string]int{}}
}

func (r *fakeResolver) set(host string, answers ...string) *fakeResolver {
	r.mu.Lock()
	defer r.mu.Unlock()
	var round []netip.Addr
	for _, a := range answers {
		if a == "|" {
			r.answers[host] = append(r.answers[host], round)
			round = nil
			continue
		}
		round = append(round, netip.MustParseAddr(a))
	}
	r.answers[host] = append(r.answers[host], round)
	return r
}

func (r *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rounds, ok := r.answers[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	i := min(r.calls[host], len(rounds)-1)
	r.calls[host]++
	return rounds[i], nil
}

func TestStrictCheckURL(t *testing.T) {
	res := newFakeResolver().
		set("hooks.example.com", "93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946").
		set("localhost.evil.test", "127.0.0.1").
		set("mixed.evil.test", "93.184.216.34", "10.1.2.3").
		set("metadata.evil.test", "169.254.169.254")
	g := Guard{Policy: Strict, Resolver: res}
	ctx := context.Background()

	for _, u := range []string{
		"https://hooks.example.com/verify",
		"http://hooks.example.com:8080/verify?x=1",
		"https://93.184.216.34/hook",
		"https://[2606:4700:4700::1111]/hook",
		"https://[64:ff9b::5db8:d822]/hook", // NAT64 of a public address
	} {
		if err := g.CheckURL(ctx, u); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}

	for u, want := range map[string]error{
		"http://127.0.0.1/hook":              ErrForbiddenAddress,
		"http://127.0.0.1:4010/hook":         ErrForbiddenAddress,
		"http://[::1]/hook":                  ErrForbiddenAddress,
		"http://10.0.0.1/hook":               ErrForbiddenAddress,
		"http://172.16.5.4/hook":             ErrForbiddenAddress,
		"http://192.168.1.1/hook":            ErrForbiddenAddress,
		"http://100.64.0.1/hook":             ErrForbiddenAddress,
		"http://169.254.169.254/latest/meta": ErrForbiddenAddress,
		"http://0.0.0.0/hook":                ErrForbiddenAddress,
		"http://[::]/hook":                   ErrForbiddenAddress,
		"http://[::ffff:127.0.0.1]/hook":     ErrForbiddenAddress,
		"http://[::ffff:a9fe:a9fe]/hook":     ErrForbiddenAddress,
		"http://[64:ff9b::7f00:1]/hook":      ErrForbiddenAddress,
		"http://[fd00::1]/hook":              ErrForbiddenAddress,
		"http://[fe80::1%25eth0]/hook":       ErrForbiddenAddress,
		"http://[ff02::1]/hook":              ErrForbiddenAddress,
		"http://224.0.0.1/hook":              ErrForbiddenAddress,
		"http://255.255.255.255/hook":        ErrForbiddenAddress,
		"http://localhost.evil.test/hook":    ErrForbiddenAddress,
		"http://mixed.evil.test/hook":        ErrForbiddenAddress,
		"http://metadata.evil.test/":         ErrForbiddenAddress,
		"http://127.1/hook":                  ErrForbiddenURL,
		"http://2130706433/hook":             ErrForbiddenURL,
		"http://0x7f000001/hook":             ErrForbiddenURL,
		"http://017700000001/hook":           ErrForbiddenURL,
		"ftp://hooks.example.com/":           ErrForbiddenURL,
		"file:///etc/passwd":                 ErrForbiddenURL,
		"https://user:pw@hooks.example.com/": ErrForbiddenURL,
		"https:///nohost":                    ErrForbiddenURL,
	} {
		if err := g.CheckURL(ctx, u); !errors.Is(err, want) {
			t.Errorf("%s: got %v, want %v", u, err, want)
		}
	}
	if err := g.CheckURL(ctx, "https://unknown.invalid/"); err == nil {
		t.Error("unresolvable host accepted")
	}
}

func TestDevCheckURLAllowsLocalButNotOtherSchemes(t *testing.T) {
	ctx := context.Background()
	for _, u := range []string{"http://localhost:4010/hook", "http://127.0.0.1/x", "https://user:pw@10.0.0.1/", "http://[::1]:9/"} {
		if err := CheckURL(ctx, Dev, u); err != nil {
			t.Errorf("dev refused %s: %v", u, err)
		}
	}
	for _, u := range []string{"ftp://localhost/", "javascript:alert(1)", "localhost:4010"} {
		if err := CheckURL(ctx, Dev, u); !errors.Is(err, ErrForbiddenURL) {
			t.Errorf("dev accepted %s: %v", u, err)
		}
	}
}

func TestPublicUnicast(t *testing.T) {
	for a, want := range map[string]bool{
		"8.8.8.8":              true,
		"1.1.1.1":              true,
		"2001:4860:4860::8888": true,
		"::ffff:8.8.8.8":       true,
		"64:ff9b::808:808":     true,
		"127.0.0.53":           false,
		"10.255.255.255":       false,
		"172.31.0.1":           false,
		"172.32.0.1":           true,
		"100.127.255.255":      false,
		"100.128.0.1":          true,
		"198.18.0.1":           false,
		"192.0.2.1":            false,
		"2002:7f00:1::":        false, // 6to4 wrapping 127.0.0.1
		"2001:0:4136:e378::":   false, // Teredo
		"::7f00:1":             false, // IPv4-compatible 127.0.0.1
		"::ffff:0:7f00:1":      false, // IPv4-translated 127.0.0.1
		"fc00::1":              false,
		"fec0::1":              false,
		"2001:db8::1":          false,
	} {
		if got := publicUnicast(netip.MustParseAddr(a)); got != want {
			t.Errorf("publicUnicast(%s) = %v, want %v", a, got, want)
		}
	}
}

func TestParsePolicy(t *testing.T) {
	for s, want := range map[string]Policy{"dev": Dev, "strict": Strict, "STRICT": Strict} {
		if got, err := ParsePolicy(s); err != nil || got != want {
			t.Errorf("ParsePolicy(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParsePolicy("lenient"); err == nil {
		t.Error("unknown policy accepted")
	}
	if Strict.String() != "strict" || Dev.String() != "dev" {
		t.Error("String does not round-trip")
	}
}

// countingListener counts accepted connections, to prove that a refused
// webhook never reached the network.
type countingListener struct {
	net.Listener
	accepted atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

func loopbackReceiver(t *testing.T, h http.Handler) (*httptest.Server, *countingListener) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	cl := &countingListener{Listener: srv.Listener}
	srv.Listener = cl
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, cl
}

func TestStrictClientNeverConnectsToForbiddenAddresses(t *testing.T) {
	srv, counter := loopbackReceiver(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	res := newFakeResolver().
		set("rebind.evil.test", "127.0.0.1").
		// Public when the webhook is saved, loopback when it is delivered.
		set("flip.evil.test", "93.184.216.34", "|", "127.0.0.1")

	if err := (Guard{Policy: Strict, Resolver: res}).CheckURL(context.Background(), fmt.Sprintf("http://flip.evil.test:%d/", port)); err != nil {
		t.Fatalf("flip.evil.test should pass the up-front check (it resolves public first): %v", err)
	}

	strict := NewClient(ClientConfig{Policy: Strict, Resolver: res})
	for _, u := range []string{
		fmt.Sprintf("http://127.0.0.1:%d/hook", port),
		fmt.Sprintf("http://[::1]:%d/hook", port),
		fmt.Sprintf("http://[::ffff:127.0.0.1]:%d/hook", port),
		fmt.Sprintf("http://rebind.evil.test:%d/hook", port),
		fmt.Sprintf("http://flip.evil.test:%d/hook", port),
		fmt.Sprintf("http://10.0.0.1:%d/hook", port),
		"http://169.254.169.254/latest/meta-data/",
	} {
		a := strict.Post(context.Background(), Request{URL: u, AuthToken: "t", IdempotencyToken: "u", Params: url1()})
		if a.OK() || a.Status != 0 || !strings.Contains(a.Err, "not allowed") {
			t.Errorf("%s: attempt %+v, want refusal by policy", u, a)
		}
	}
	if n := counter.accepted.Load(); n != 0 {
		t.Fatalf("receiver accepted %d connections under the strict policy", n)
	}

	// The same receiver and resolver are reachable under Dev, so the zero
	// above is the policy's doing.
	dev := NewClient(ClientConfig{Policy: Dev, Resolver: res})
	a := dev.Post(context.Background(), Request{URL: fmt.Sprintf("http://rebind.evil.test:%d/hook", port), AuthToken: "t", IdempotencyToken: "u", Params: url1()})
	if !a.OK() {
		t.Fatalf("dev attempt failed: %+v", a)
	}
	if n := counter.accepted.Load(); n != 1 {
		t.Fatalf("receiver accepted %d connections under dev, want 1", n)
	}
}

func TestDialControlRefusesNonPublic(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:80", "[::1]:443", "[::ffff:10.0.0.1]:80", "169.254.169.254:80"} {
		network := "tcp4"
		if strings.HasPrefix(addr, "[") {
			network = "tcp6"
		}
		if err := refuseNonPublic(network, addr, nil); !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("%s: %v", addr, err)
		}
	}
	if err := refuseNonPublic("tcp4", "93.184.216.34:443", nil); err != nil {
		t.Errorf("public address refused: %v", err)
	}
	if err := refuseNonPublic("udp4", "93.184.216.34:53", nil); err == nil {
		t.Error("udp allowed")
	}
}
