package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Serve answers HTTP on ln and does the background work (push and webhook
// delivery, sweeps) until ctx ends or the listener fails. Then it shuts
// down in the one order that loses nothing: the phones' push sockets close
// with 1001 (the HTTP server's own shutdown does not touch hijacked
// connections), in-flight requests get Config.ShutdownGrace to finish, what
// is left is closed (a client can hold a connection open without ever
// sending a request), and only then does the background work stop, after
// writing down what it can. It returns nil after a shutdown that ctx asked
// for, and the listener's error otherwise.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
	}
	background, stopBackground := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { s.run(background); close(ran) }()
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	var err error
	grace := s.cfg.ShutdownGrace
	select {
	case err = <-served:
		grace = 0 // nothing can arrive any more
	case <-ctx.Done():
		s.cfg.Logger.Info("shutting down")
	}
	shutdown, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	// The HTTP server's own shutdown does not touch hijacked connections.
	closing := s.gateway.Shutdown(shutdown)
	if hs.Shutdown(shutdown) != nil {
		closing = errors.Join(closing, hs.Close())
	}
	stopBackground()
	<-ran
	if errors.Is(closing, context.DeadlineExceeded) {
		closing = nil // sockets that outlived the grace were closed, as intended
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(err, closing)
}
