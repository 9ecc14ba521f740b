package tui

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pushsim/pushsim/device"
)

// tourEnrolment is the tour's side of registering the phone: the endpoint
// the quickstart asks your backend to expose for access tokens, and a
// hold on the phone's network that lets the tour show creating and
// verifying the factor as the two steps the quickstart has.
type tourEnrolment struct {
	backend *tourBackend
	hold    *verifyHold
}

func newTourEnrolment() (*tourEnrolment, error) {
	b, err := startTourBackend()
	if err != nil {
		return nil, err
	}
	return &tourEnrolment{backend: b, hold: &verifyHold{next: http.DefaultTransport}}, nil
}

// network is the phone's HTTP client. It has no overall timeout because a
// held verification waits for the user; the phone's calls carry contexts.
func (e *tourEnrolment) network() *http.Client { return &http.Client{Transport: e.hold} }

func (e *tourEnrolment) Close() {
	e.hold.let()
	e.backend.Close()
}

// tourBackend is your backend's access-token endpoint: the phone posts its
// user's name and gets the token the tour fetched from Verify in step 2.
// It listens on loopback, for the tour's own phone.
type tourBackend struct {
	ln  net.Listener
	srv *http.Server

	mu    sync.Mutex
	user  string
	token *device.AccessToken
}

func startTourBackend() (*tourBackend, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &tourBackend{ln: ln}
	b.srv = &http.Server{Handler: b, ReadHeaderTimeout: 5 * time.Second}
	go b.srv.Serve(ln)
	return b, nil
}

// URL is where the phone asks for its access token.
func (b *tourBackend) URL() string { return "http://" + b.ln.Addr().String() + "/access-token" }

// offer makes tok the answer to user's next request.
func (b *tourBackend) offer(user string, tok device.AccessToken) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.user, b.token = user, &tok
}

func (b *tourBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
	b.mu.Lock()
	tok := b.token
	ok := tok != nil && user == b.user
	if ok {
		b.token = nil // Verify's tokens are single-use; handing it out twice could only fail
	}
	b.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"message": "no access token for " + user + ": step 2 of the tour fetches one"}})
		return
	}
	json.NewEncoder(w).Encode(tok)
}

func (b *tourBackend) Close() error { return b.srv.Close() }

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
		select {
		case <-release:
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
	}
	return h.next.RoundTrip(req)
}

// isFactorURL reports a path naming one factor (…/Factors/YF…), where a
// POST verifies or updates it.
func isFactorURL(path string) bool {
	parts := strings.Split(strings.TrimRight(path, "/"), "/")
	n := len(parts)
	return n >= 2 && parts[n-2] == "Factors" && strings.HasPrefix(parts[n-1], "YF")
}
