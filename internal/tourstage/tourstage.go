// Package tourstage sets the stage for the guided tour of the Verify Push
// quickstart (pushsim demo --tour). The tour plays your backend and shows
// the phone enrolling in the quickstart's two steps, which takes two things
// a UI must not do itself, because they outlive a frame and block on the
// network:
//
//   - the access-token endpoint the quickstart asks your backend to
//     expose, served on loopback for the tour's own phone;
//   - a hold on the phone's network that keeps its factor verification
//     waiting until the tour moves to the step that shows it.
//
// The demo's wiring starts a Stage and hands it to the tour, which only
// offers it tokens and arms and releases the hold.
package tourstage

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pushsim/pushsim/device"
)

// Stage is the tour's access-token endpoint and the hold on its phone's
// network.
type Stage struct {
	endpoint *tokenEndpoint
	hold     *verifyHold
}

// Start serves the access-token endpoint on a loopback port.
func Start() (*Stage, error) {
	e, err := startTokenEndpoint()
	if err != nil {
		return nil, err
	}
	return &Stage{endpoint: e, hold: &verifyHold{next: http.DefaultTransport}}, nil
}

// TokenURL is where the tour's phone asks for its access token: its
// device's AccessTokenURL.
func (s *Stage) TokenURL() string { return s.endpoint.url() }

// Network is the tour's phone's HTTP client: its device's HTTPClient. It
// has no overall timeout because a held verification waits for the user;
// the phone's calls carry contexts.
func (s *Stage) Network() *http.Client { return &http.Client{Transport: s.hold} }

// Offer makes tok the answer to user's next request for a token.
func (s *Stage) Offer(user string, tok device.AccessToken) { s.endpoint.offer(user, tok) }

// HoldVerification holds the phone's next factor verification; the
// channel closes once the phone has sent it.
func (s *Stage) HoldVerification() <-chan struct{} { return s.hold.arm() }

// ReleaseVerification sends the held verification on, or lets the next one
// through.
func (s *Stage) ReleaseVerification() { s.hold.let() }

// Hold is a request the stage kept back, and for how long: part of the
// time the phone's log gives the exchange, which the server never saw.
type Hold struct {
	Method, URL string
	Held        time.Duration
}

// LastHold is the last request the stage held, once it has been sent on.
func (s *Stage) LastHold() (Hold, bool) { return s.hold.last() }

// Close releases a held verification and stops the endpoint.
func (s *Stage) Close() error {
	s.hold.let()
	return s.endpoint.close()
}

// tokenEndpoint is your backend's access-token endpoint: the phone posts
// its user's name and gets the token the tour fetched from Verify.
type tokenEndpoint struct {
	ln  net.Listener
	srv *http.Server

	mu    sync.Mutex
	user  string
	token *device.AccessToken
}

func startTokenEndpoint() (*tokenEndpoint, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e := &tokenEndpoint{ln: ln}
	e.srv = &http.Server{Handler: e, ReadHeaderTimeout: 5 * time.Second}
	go e.srv.Serve(ln)
	return e, nil
}

func (e *tokenEndpoint) url() string { return "http://" + e.ln.Addr().String() + "/access-token" }

func (e *tokenEndpoint) offer(user string, tok device.AccessToken) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.user, e.token = user, &tok
}

func (e *tokenEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Method != http.MethodPost || r.URL.Path != "/access-token" {
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"message": "only POST /access-token is served here"}})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	user := ""
	if r.ParseForm() == nil {
		user = r.PostForm.Get("identity")
	}
	e.mu.Lock()
	tok := e.token
	ok := tok != nil && user == e.user
	if ok {
		e.token = nil // Verify's tokens are single-use; handing it out twice could only fail
	}
	e.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"message": "no access token for " + user + ": step 2 of the tour fetches one"}})
		return
	}
	json.NewEncoder(w).Encode(tok)
}

func (e *tokenEndpoint) close() error { return e.srv.Close() }

// verifyHold holds the phone's factor verification until the tour lets it
// go. The quickstart enrolls in two calls (createFactor, then
// verifyFactor), but the phone's CreateFactor verifies at once, as the
// sample app does; holding that one request on the phone's own network
// keeps both calls real and puts each on its own screen.
type verifyHold struct {
	next http.RoundTripper

	mu       sync.Mutex
	armed    bool
	held     chan struct{}
	release  chan struct{}
	released bool
	lastHold *Hold
}

// arm holds the next factor verification; the channel closes once the
// phone has sent it.
func (h *verifyHold) arm() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.armed, h.released = true, false
	h.held, h.release = make(chan struct{}), make(chan struct{})
	return h.held
}

// let sends the held verification on, or lets the next one through.
func (h *verifyHold) let() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.armed = false
	if h.release != nil && !h.released {
		h.released = true
		close(h.release)
	}
}

func (h *verifyHold) RoundTrip(req *http.Request) (*http.Response, error) {
	h.mu.Lock()
	hold := h.armed && req.Method == http.MethodPost && isFactorURL(req.URL.Path)
	release := h.release
	if hold {
		h.armed = false
		close(h.held)
	}
	h.mu.Unlock()
	if hold {
		since := time.Now()
		select {
		case <-release:
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
		h.mu.Lock()
		h.lastHold = &Hold{Method: req.Method, URL: req.URL.String(), Held: time.Since(since)}
		h.mu.Unlock()
	}
	return h.next.RoundTrip(req)
}

func (h *verifyHold) last() (Hold, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.lastHold == nil {
		return Hold{}, false
	}
	return *h.lastHold, true
}

// isFactorURL reports a path naming one factor (…/Factors/YF…), where a
// POST verifies or updates it.
func isFactorURL(path string) bool {
	parts := strings.Split(strings.TrimRight(path, "/"), "/")
	n := len(parts)
	return n >= 2 && parts[n-2] == "Factors" && strings.HasPrefix(parts[n-1], "YF")
}
