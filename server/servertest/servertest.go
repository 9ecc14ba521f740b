// Package servertest runs a pushsim server inside a test: on a loopback
// listener, with the well-known test credentials, its background work
// running. It is for the tests of packages that meet the server only on
// the wire (the phone, the terminal UI, the SSH workshop) and for the
// server's own end-to-end tests.
package servertest

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/pushsim/pushsim/server"
	"github.com/pushsim/pushsim/server/backend"
)

// Options adjust the server. Config's TestCredentials and PublicURL are
// filled in. Config.Database runs it on PostgreSQL, and servers started
// on one database share it as replicas do (storetest.PostgresURL gives a
// test a schema of its own).
type Options struct {
	Config server.Config
	// Clock, when set, is the server's clock (Config.Now).
	Clock *Clock
	// Wrap, when set, sees every request, so a test can watch the wire.
	Wrap func(http.Handler) http.Handler
	// Paused leaves the background work (delivery, sweeps) stopped until
	// Run, as if the server died before doing it.
	Paused bool
}

// Server is a running test server.
type Server struct {
	*server.Server
	// URL is the base URL, e.g. http://127.0.0.1:37121.
	URL              string
	AccountSid, Auth string

	stop      context.CancelFunc
	served    chan error
	closeOnce sync.Once
}

// Start starts a server; it is closed when the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o.Config.TestCredentials, o.Config.PublicURL = true, "http://"+ln.Addr().String()
	o.Config.PauseBackground = o.Paused
	if o.Clock != nil {
		o.Config.Now = o.Clock.Now
	}
	if o.Wrap != nil {
		o.Config.WrapHandler = o.Wrap
	}
	if o.Config.ShutdownGrace == 0 {
		o.Config.ShutdownGrace = time.Second // a test's stray request need not hold it up longer
	}
	srv, err := server.New(context.Background(), o.Config)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Server{Server: srv, URL: o.Config.PublicURL, stop: stop, served: make(chan error, 1)}
	s.AccountSid, s.Auth = srv.Credentials()
	go func() { s.served <- srv.Serve(ctx, ln) }()
	t.Cleanup(s.Close)
	return s
}

// Run starts background work held back by Options.Paused.
func (s *Server) Run() { s.Resume() }

// Close stops the server as a shutdown does (push sockets closed with
// 1001, in-flight requests finished, background work flushed) and releases
// its store. It may be called more than once, so that a test can restart
// on the same data.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.stop()
		<-s.served
		s.Server.Close()
	})
}

// ChallengeStatus is what the sample backend's challenge-status reads for
// a user's challenge, as an app's backend would read it.
func (s *Server) ChallengeStatus(t testing.TB, user, sid string) string {
	t.Helper()
	q := url.Values{"identity": {backend.HashIdentity(user)}, "sid": {sid}}
	resp, err := http.Get(s.URL + "/backend/challenge-status?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Status string `json:"status"`
	}
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("challenge-status: %d %s", resp.StatusCode, body)
	}
	return out.Status
}
