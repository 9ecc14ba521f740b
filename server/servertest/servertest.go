// Package servertest runs a pushsim server inside a test: on a loopback
// listener, with the well-known test credentials, its background work
// running. It is for the tests of packages that meet the server only on
// the wire (the phone, the terminal UI, the SSH workshop) and for the
// server's own end-to-end tests.
package servertest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/pushsim/pushsim/server"
)

// Options adjust the server. Config's TestCredentials and PublicURL are
// filled in.
type Options struct {
	Config server.Config
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

	ts        *httptest.Server
	mu        sync.Mutex
	stopRun   func()
	closeOnce sync.Once
}

// Start starts a server; it is closed when the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	o.Config.TestCredentials, o.Config.PublicURL = true, "http://"+ts.Listener.Addr().String()
	srv, err := server.New(context.Background(), o.Config)
	if err != nil {
		ts.Close()
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	if o.Wrap != nil {
		ts.Config.Handler = o.Wrap(srv.Handler())
	}
	ts.Start()
	s := &Server{Server: srv, URL: ts.URL, ts: ts}
	s.AccountSid, s.Auth = srv.Credentials()
	if !o.Paused {
		s.Run()
	}
	t.Cleanup(s.Close)
	return s
}

// Run starts the background work; it stops on Close.
func (s *Server) Run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Server.Run(ctx); close(done) }()
	s.mu.Lock()
	s.stopRun = func() { cancel(); <-done }
	s.mu.Unlock()
}

// Close stops the server as a shutdown would (push sockets closed with
// 1001, background work flushed) and releases its store. It may be called
// more than once, so that a test can restart on the same data.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.Server.Shutdown(context.Background())
		s.mu.Lock()
		stop := s.stopRun
		s.mu.Unlock()
		if stop != nil {
			stop()
		}
		s.ts.Close()
		s.Server.Close()
	})
}
