package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/pushsim/pushsim/internal/conncap"
	"github.com/pushsim/pushsim/server/store"
)

// Serve answers HTTP on ln and does the background work (push and webhook
// delivery, sweeps) until ctx ends or the listener fails. It closes ln
// when it returns, with nil after a shutdown that ctx asked for and the
// listener's error otherwise.
//
// A restart asked for through the control API stops the current generation
// exactly as a shutdown does and opens the next one on the same data and
// the same listener; connections that arrive in between wait to be
// accepted.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.cfg.MaxConnsPerAddr > 0 {
		ln = conncap.Listen(ln, s.cfg.MaxConnsPerAddr, refuseConn)
	}
	acc := newAcceptor(ln)
	defer acc.close()
	for {
		req, err := s.serveGeneration(ctx, s.current.Load(), acc.listener())
		if err != nil || req == nil {
			return err
		}
		if err := s.restart(ctx, *req); err != nil {
			return fmt.Errorf("restart: %w", err)
		}
	}
}

// serveGeneration serves g until ctx ends, the listener fails or a restart
// is asked for (then it returns the request). Its shutdown is the one order
// that loses nothing: the phones' push sockets close with 1001 (the HTTP
// server's own shutdown does not touch hijacked connections), in-flight
// requests get Config.ShutdownGrace to finish, what is left is closed (a
// client can hold a connection open without ever sending a request), and
// only then does the background work stop, after writing down what it can.
func (s *Server) serveGeneration(ctx context.Context, g *generation, ln net.Listener) (*restartRequest, error) {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
	}
	background, stopBackground := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { s.run(background, g); close(ran) }()
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	var err error
	var restart *restartRequest
	grace := s.cfg.ShutdownGrace
	select {
	case err = <-served:
		grace = 0 // nothing can arrive any more
	case <-ctx.Done():
		s.cfg.Logger.Info("shutting down")
	case r := <-s.restarts:
		restart = &r
		s.cfg.Logger.Info("restarting", "reset", r.reset)
	}
	shutdown, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	closing := g.gateway.Shutdown(shutdown)
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
	if err = errors.Join(err, closing); err != nil {
		return nil, err
	}
	return restart, nil
}

// restartRequest is a restart the control API asked for; reset also wipes
// the data, the faults and the clock's offset.
type restartRequest struct{ reset bool }

// requestRestart asks Serve to restart and returns the generation that
// will serve next. Requests made before Serve picks up the first are one
// restart; a reset among them makes it a reset.
func (s *Server) requestRestart(reset bool) int64 {
	next := s.Generation() + 1
	for {
		select {
		case s.restarts <- restartRequest{reset: reset}:
			return next
		case pending := <-s.restarts:
			reset = reset || pending.reset
		}
	}
}

// restart closes the stopped generation's store and opens the next one.
func (s *Server) restart(ctx context.Context, r restartRequest) error {
	old := s.current.Load()
	if r.reset {
		if err := old.store.Write(context.WithoutCancel(ctx), func(tx store.Tx) error { return tx.DeleteAll() }); err != nil {
			return err
		}
		s.faults.Clear()
		s.clock.reset()
	}
	if err := old.store.Close(); err != nil {
		return err
	}
	g, err := s.open(context.WithoutCancel(ctx), old.number+1)
	if err != nil {
		return err
	}
	s.current.Store(g)
	s.cfg.Logger.Info("serving again", "generation", g.number)
	return nil
}
