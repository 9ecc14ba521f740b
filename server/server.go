// Package server assembles pushsim's Verify server: the store, the Verify
// engine, the /v2 API and the emulator endpoints, plus the background work
// that keeps state honest (expiry and unverified-factor sweeps).
package server

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pushsim/pushsim/server/api"
	"github.com/pushsim/pushsim/server/backend"
	"github.com/pushsim/pushsim/server/faults"
	"github.com/pushsim/pushsim/server/push"
	"github.com/pushsim/pushsim/server/sim"
	"github.com/pushsim/pushsim/server/store"
	"github.com/pushsim/pushsim/server/verify"
	"github.com/pushsim/pushsim/server/webhook"
)

// Well-known credentials accepted when the server listens on loopback only.
// They are printed in the README; never use them on a reachable address.
const (
	TestAccountSid = "AC00000000000000000000000000000000"
	TestAuthToken  = "pushsimtesttoken"
)

// Config sets up a Server.
type Config struct {
	// DataDir holds the database; empty keeps everything in memory.
	DataDir string
	// Database, when set, is a PostgreSQL database (a postgres:// URL)
	// that this server shares with any number of others, instead of
	// SQLite in DataDir, which must then be empty. See docs/deploy.md.
	Database string
	// WALLimit bounds the database's write-ahead log, in bytes (default
	// store.DefaultWALLimit).
	WALLimit int64
	// AccountSid and AuthToken, when set, are the account credentials.
	AccountSid string
	AuthToken  string
	// TestCredentials allows the well-known test credentials; set it only
	// when listening on loopback. Otherwise missing credentials are
	// generated and reported through GeneratedCredentials.
	TestCredentials bool
	// PublicURL is the base URL used in url, links and meta.
	PublicURL string
	// Exposed is set when the server listens beyond loopback: the sample
	// backend's account-side calls then need the account's credentials,
	// and a second phone for a user needs an enrollment code.
	Exposed bool
	// IdentityProcessing is the sample backend's IDENTITY_PROCESSING,
	// "hash" (default) or "raw".
	IdentityProcessing string
	// InternalURL is how the server reaches itself (the sample backend is
	// a client of the API); empty means PublicURL.
	InternalURL string
	Logger      *slog.Logger
	// Now and Rand are test hooks; nil means the real clock and crypto/rand.
	Now  func() time.Time
	Rand io.Reader
	// SweepInterval is how often expiry and cleanup run (default 5 s).
	SweepInterval time.Duration
	// UnverifiedFactorTTL is how long an unverified factor lives (default 1 h).
	UnverifiedFactorTTL time.Duration
	// MaxPendingPerFactor caps a factor's pending challenges against push
	// bombing: 0 means Verify's 5, a negative value no cap.
	MaxPendingPerFactor int
	// WebhookPolicy limits where webhooks may point. The sample backend's
	// own sink is always allowed.
	WebhookPolicy webhook.Policy
	// Push tunes the push gateway (keep-alive, caps); its callbacks and
	// clock are set by the server.
	Push push.Config
	// WebhookTimeout is how long one webhook attempt may take (default
	// 10 s); a receiver slower than that has failed the attempt.
	WebhookTimeout time.Duration
	// WebhookResolver replaces DNS for webhook URLs (tests).
	WebhookResolver webhook.Resolver
	// ShutdownGrace is how long Serve lets in-flight requests finish once
	// asked to stop (default 3 s).
	ShutdownGrace time.Duration
	// WriteTimeout is how long an answer may take to write once its
	// request has been read (default 60 s): a client that never reads what
	// it asked for is cut off then, instead of holding the connection and
	// its queued bytes. Push sockets set their own deadlines.
	WriteTimeout time.Duration
	// MaxConnsPerAddr caps the HTTP connections, push sockets among them,
	// that one client address may hold open (default 256, and never fewer
	// than Push.MaxConnsPerAddr + 224, so that a phone the push cap lets
	// in is not refused by this one; negative: no cap). Loopback is not
	// capped: it is trusted (docs/security.md). A connection over the cap
	// is answered 429 and closed.
	MaxConnsPerAddr int
	// PauseBackground holds the background work (delivery, sweeps) until
	// Resume, so a test can play a server that died before doing it.
	PauseBackground bool
	// WrapHandler, when set, wraps the whole HTTP handler, so a test can
	// watch the wire.
	WrapHandler func(http.Handler) http.Handler
}

// Server is a running Verify server's state. What a restart rebuilds (the
// store, the engine, the push service, the sample backend) lives in a
// generation; what outlives one (the settled credentials, the faults and
// the clock a tester set) lives here.
type Server struct {
	cfg       Config
	generated bool
	clock     *clock
	faults    *faults.Set
	handler   http.Handler

	current    atomic.Pointer[generation]
	restarts   chan restartRequest
	resume     chan struct{} // closed when the background work may start
	resumeOnce sync.Once
}

// generation is one life of the server between restarts.
type generation struct {
	number   int64
	store    store.Store
	engine   *verify.Engine
	backend  *backend.Backend
	gateway  *push.Gateway
	pushes   *pushOutbox
	webhooks []*webhook.Dispatcher
	handler  http.Handler
	sweepNow chan struct{}
}

// New opens the store and builds the handler. Close releases the store.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = 5 * time.Second
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = 3 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 60 * time.Second
	}
	if cfg.MaxConnsPerAddr == 0 {
		cfg.MaxConnsPerAddr = 256
	}
	if cfg.MaxConnsPerAddr > 0 {
		cfg.MaxConnsPerAddr = max(cfg.MaxConnsPerAddr, cfg.Push.MaxConnsPerAddr+224)
	}
	if cfg.Database != "" && cfg.DataDir != "" {
		return nil, errors.New("server: Config.DataDir is SQLite's and Config.Database PostgreSQL's: set one")
	}
	if cfg.Push.Now != nil {
		return nil, errors.New("server: Config.Push.Now is the server's clock: set Config.Now instead")
	}
	if _, err := backend.ParseIdentityProcessing(cfg.IdentityProcessing); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, faults: &faults.Set{}, restarts: make(chan restartRequest, 1), resume: make(chan struct{})}
	s.clock = &clock{base: cfg.Now, moved: s.clockMoved}
	if !cfg.PauseBackground {
		s.Resume()
	}
	g, err := s.open(ctx, 1)
	if err != nil {
		return nil, err
	}
	s.current.Store(g)
	s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.current.Load().handler.ServeHTTP(w, r)
	})
	if cfg.WrapHandler != nil {
		s.handler = cfg.WrapHandler(s.handler)
	}
	return s, nil
}

// open opens the store and builds everything that serves from it. The
// first generation settles the credentials; later ones find them settled
// and only write them down again (a memory store starts empty).
func (s *Server) open(ctx context.Context, number int64) (*generation, error) {
	cfg := s.cfg
	st, err := s.openStore(ctx)
	if err != nil {
		return nil, err
	}
	g := &generation{number: number, store: st, sweepNow: make(chan struct{}, 1)}
	if err := s.resolveCredentials(ctx, st); err != nil {
		st.Close()
		return nil, err
	}
	cfg = s.cfg
	now := s.clock.Now
	internal := cfg.InternalURL
	if internal == "" {
		internal = cfg.PublicURL
	}
	identities, _ := backend.ParseIdentityProcessing(cfg.IdentityProcessing)
	g.backend = backend.New(backend.Config{VerifyURL: internal, AccountSid: cfg.AccountSid, AuthToken: cfg.AuthToken,
		PublicURL: cfg.PublicURL, Logger: cfg.Logger, Now: now, IdentityProcessing: identities, Guarded: cfg.Exposed})

	g.pushes = newPushOutbox(st, now, cfg.Logger, s.faults)
	pushCfg := cfg.Push
	// The outbox must hear every ack, drop and connection; a caller's
	// callbacks hear them too, after it.
	onAck, onDrop, onConnect := pushCfg.OnAck, pushCfg.OnDrop, pushCfg.OnConnect
	pushCfg.OnAck = func(id, token string) {
		g.pushes.onAck(id, token)
		if onAck != nil {
			onAck(id, token)
		}
	}
	pushCfg.OnDrop = func(id, token string, reason push.DropReason) {
		g.pushes.onDrop(id, token, reason)
		if onDrop != nil {
			onDrop(id, token, reason)
		}
	}
	pushCfg.OnConnect = func(token string) {
		g.pushes.onConnect(token)
		if onConnect != nil {
			onConnect(token)
		}
	}
	pushCfg.Now = now
	if pushCfg.Logger == nil {
		pushCfg.Logger = cfg.Logger
	}
	g.gateway = push.NewGateway(pushCfg)
	g.pushes.gw = g.gateway

	sink := g.backend.WebhookURL()
	for _, q := range []struct {
		queue  webhookQueue
		policy webhook.Policy
	}{
		{webhookQueue{store: st, selfPrefix: sink}, webhook.Dev},
		{webhookQueue{store: st, selfPrefix: sink, outsidePrefix: true}, cfg.WebhookPolicy},
	} {
		d, err := webhook.NewDispatcher(webhook.DispatcherConfig{
			Queue:     q.queue,
			Client:    webhook.NewClient(webhook.ClientConfig{Policy: q.policy, Resolver: cfg.WebhookResolver, Now: now, Timeout: cfg.WebhookTimeout}),
			AuthToken: func() string { return cfg.AuthToken },
			Now:       now, Logger: cfg.Logger, Lease: webhookLease(cfg.WebhookTimeout),
		})
		if err != nil {
			st.Close()
			return nil, err
		}
		g.webhooks = append(g.webhooks, d)
	}
	guard := webhook.Guard{Policy: cfg.WebhookPolicy, Resolver: cfg.WebhookResolver}
	g.engine, err = verify.New(ctx, verify.Config{
		Store: st, AccountSid: cfg.AccountSid, Now: now, Rand: cfg.Rand,
		UnverifiedFactorTTL: cfg.UnverifiedFactorTTL, MaxPendingPerFactor: cfg.MaxPendingPerFactor,
		CheckWebhookURL: func(ctx context.Context, raw string) error {
			if strings.HasPrefix(raw, sink) {
				return nil
			}
			return guard.CheckURL(ctx, raw)
		},
		OnPushes: g.pushes.committed,
		OnWebhooks: func() {
			for _, d := range g.webhooks {
				d.Notify()
			}
		},
		OnQueue: g.pushes.reserve,
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	v2 := api.New(api.Config{Engine: g.engine, AuthToken: cfg.AuthToken, PublicURL: cfg.PublicURL, Logger: cfg.Logger})
	mux.Handle("/v2/", v2)
	mux.Handle("/backend/", s.sinkFaults(g.backend))
	mux.Handle("GET /push/connect", g.gateway)
	requests := sim.NewRequestLog(sim.DefaultRequestLogSize)
	sim.Mount(mux, sim.Config{Store: st, Engine: g.engine, AuthToken: cfg.AuthToken, RenderChallenge: v2.Challenge, Requests: requests,
		Faults: s.faults, Clock: s.clock, Generation: s.Generation, Restart: s.requestRestart})
	g.handler = logRequests(cfg.Logger, requests, now, mux)
	return g, nil
}

// openStore opens the generation's store: SQLite in DataDir (or memory),
// or the PostgreSQL database shared with other servers.
func (s *Server) openStore(ctx context.Context) (store.Store, error) {
	if s.cfg.Database != "" {
		return store.OpenPostgres(ctx, s.cfg.Database, store.PostgresOptions{})
	}
	return store.OpenSQLiteWith(ctx, s.cfg.DataDir, store.Options{WALLimit: s.cfg.WALLimit,
		WALTruncateFailed: func(held, limit int64, err error) {
			s.cfg.Logger.Warn("could not truncate the write-ahead log; trying again after each write, and it may grow past its limit meanwhile",
				"bytes", held, "limit", limit, "err", err)
		}})
}

// webhookLease is how long a webhook dispatcher's claim on a delivery
// lasts: the attempt's own bound, plus room to write down its outcome
// while other writes queue, so that another server sharing the store
// does not take a delivery that is still being attempted. It is also how
// long a delivery whose server was killed mid-attempt waits to be made
// again, so the margin is no longer than that needs.
func webhookLease(attemptTimeout time.Duration) time.Duration {
	if attemptTimeout <= 0 {
		attemptTimeout = 10 * time.Second // the webhook client's default
	}
	return attemptTimeout + 5*time.Second
}

// resolveCredentials settles the account: explicit values win, then what
// the data directory remembers, then test or freshly generated ones. The
// account SID is remembered because phones sign it into every device token.
func (s *Server) resolveCredentials(ctx context.Context, st store.Store) error {
	return st.Write(ctx, func(tx store.Tx) error {
		remembered := func(name string) string {
			v, err := tx.Secret(name)
			if err != nil {
				return ""
			}
			return string(v)
		}
		if s.cfg.AccountSid == "" {
			s.cfg.AccountSid = remembered("account-sid")
		}
		if s.cfg.AccountSid == "" {
			if s.cfg.TestCredentials {
				s.cfg.AccountSid = TestAccountSid
			} else {
				b := make([]byte, 16)
				if _, err := io.ReadFull(s.cfg.Rand, b); err != nil {
					return err
				}
				s.cfg.AccountSid = verify.PrefixAccount + hex.EncodeToString(b)
				s.generated = true
			}
		}
		if !verify.IsSID(s.cfg.AccountSid, verify.PrefixAccount) {
			return fmt.Errorf("account SID %q must be AC followed by 32 hex digits", s.cfg.AccountSid)
		}
		if err := tx.PutSecret("account-sid", []byte(s.cfg.AccountSid)); err != nil {
			return err
		}
		if s.cfg.AuthToken == "" && s.cfg.TestCredentials {
			s.cfg.AuthToken = TestAuthToken
		}
		if s.cfg.AuthToken == "" {
			s.cfg.AuthToken = remembered("auth-token")
		}
		if s.cfg.AuthToken == "" {
			b := make([]byte, 16)
			if _, err := io.ReadFull(s.cfg.Rand, b); err != nil {
				return err
			}
			s.cfg.AuthToken = hex.EncodeToString(b)
			s.generated = true
			return tx.PutSecret("auth-token", []byte(s.cfg.AuthToken))
		}
		for _, c := range s.cfg.AuthToken {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				return errors.New("auth token must be alphanumeric (Twilio's helper libraries refuse anything else)")
			}
		}
		return nil
	})
}

// Handler serves the whole server.
func (s *Server) Handler() http.Handler { return s.handler }

// Credentials are the account SID and auth token in force.
func (s *Server) Credentials() (accountSid, authToken string) {
	return s.cfg.AccountSid, s.cfg.AuthToken
}

// GeneratedCredentials reports whether New made up credentials that the
// operator has not seen yet.
func (s *Server) GeneratedCredentials() bool { return s.generated }

// Engine exposes the Verify rules to in-process companions such as the
// sample backend.
func (s *Server) Engine() *verify.Engine { return s.current.Load().engine }

// Backend is the bundled sample backend.
func (s *Server) Backend() *backend.Backend { return s.current.Load().backend }

// Store exposes the store to in-process companions and tests.
func (s *Server) Store() store.Store { return s.current.Load().store }

// Close releases the store.
func (s *Server) Close() error { return s.current.Load().store.Close() }

// Generation counts the server's lives: 1 after New, one more after each
// restart. The control API's health shows it, so a client that asked for a
// restart can tell when the new life serves.
func (s *Server) Generation() int64 { return s.current.Load().number }

// PushStats is the push service's state: connections, queued messages.
func (s *Server) PushStats() push.Stats { return s.current.Load().gateway.Stats() }

// Faults are the faults a tester switched on; they survive restarts.
func (s *Server) Faults() *faults.Set { return s.faults }

// Resume lets background work held by Config.PauseBackground start.
func (s *Server) Resume() { s.resumeOnce.Do(func() { close(s.resume) }) }

// clockMoved makes due at once what the server's clock made due: expiry,
// the unverified-factor sweep, webhook retries and delayed pushes.
func (s *Server) clockMoved() {
	g := s.current.Load()
	select {
	case g.sweepNow <- struct{}{}:
	default:
	}
	for _, d := range g.webhooks {
		d.Notify()
	}
	g.pushes.wake()
}

// run does the background work of generation g until ctx ends: push and
// webhook delivery from the outbox, the sample backend's set-up once the
// listener is serving, and the sweeps.
func (s *Server) run(ctx context.Context, g *generation) {
	select {
	case <-s.resume:
	case <-ctx.Done():
		return
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() { defer wg.Done(); g.pushes.run(ctx) }()
	for _, d := range g.webhooks {
		wg.Add(1)
		go func() { defer wg.Done(); d.Run(ctx) }()
	}
	t := time.NewTicker(s.cfg.SweepInterval)
	defer t.Stop()
	backendReady := false
	for {
		if !backendReady {
			_, err := g.backend.Ensure(ctx)
			backendReady = err == nil
			if err != nil && ctx.Err() == nil {
				s.cfg.Logger.Warn("sample backend not ready yet", "err", err)
			}
		}
		s.sweep(ctx, g)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-g.sweepNow:
		}
	}
}

// expireBatch is how many challenges one expiry write marks.
const expireBatch = 200

func (s *Server) sweep(ctx context.Context, g *generation) {
	// In small batches, so that each holds the writer briefly, until the
	// backlog is gone: expiry keeps pace with any create rate.
	for {
		n, err := g.engine.ExpireDue(ctx, expireBatch)
		if err != nil && ctx.Err() == nil {
			s.cfg.Logger.Error("expire challenges", "err", err)
		}
		if err != nil || n < expireBatch {
			break
		}
	}
	if _, err := g.engine.SweepUnverifiedFactors(ctx, 1000); err != nil && ctx.Err() == nil {
		s.cfg.Logger.Error("sweep unverified factors", "err", err)
	}
	if err := g.store.Checkpoint(ctx); err != nil && ctx.Err() == nil {
		s.cfg.Logger.Error("checkpoint", "err", err)
	}
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Hijack passes websocket upgrades through to the connection.
func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("connection does not support hijacking")
	}
	if r.status == 0 {
		r.status = http.StatusSwitchingProtocols
	}
	return h.Hijack()
}

// logRequests writes one line per request: method, path, status, duration;
// and keeps the same in the request log served at /_pushsim/requests.
func logRequests(log *slog.Logger, requests *sim.RequestLog, now func() time.Time, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start, at := time.Now(), now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		requests.Record(r, rec.status, at, time.Since(start))
		log.Info("request", "method", r.Method, "path", sim.LoggedPath(r.URL.Path), "status", rec.status, "duration", time.Since(start).Round(time.Microsecond))
	})
}
