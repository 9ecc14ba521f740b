package push

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Config tunes a Gateway. Zero values take the defaults noted on each field.
type Config struct {
	// OnAck is called once for each message the phone acknowledged, from the
	// connection's reader goroutine; it should not block for long, since the
	// phone's next frames wait for it.
	OnAck func(id, token string)
	// OnDrop is called once for each message that left the queue without an
	// ack, possibly from inside Send. Every message Send accepts ends in
	// exactly one OnAck or OnDrop, unless the gateway shuts down first.
	OnDrop func(id, token string, reason DropReason)
	// OnConnect is called when a phone's socket for token is up, on the
	// goroutine that upgraded it, outside the gateway's lock: a server that
	// keeps messages elsewhere (one of several sharing a database) offers
	// the phone what it missed.
	OnConnect func(token string)

	Now    func() time.Time // default time.Now
	Logger *slog.Logger     // default discards

	PingInterval time.Duration // default 30s
	// PongWait is how long a silent phone is kept; raised to twice
	// PingInterval if not longer than it. Default 60s.
	PongWait  time.Duration
	WriteWait time.Duration // deadline for each write; default 10s

	MaxConnsPerAddr  int           // default 32; excess upgrades get 429
	MaxQueuePerToken int           // default 64
	MaxQueued        int           // all tokens together; default 100,000
	SweepInterval    time.Duration // how often expired messages are dropped; default 30s

	// MaxConnsPerLoopbackAddr, when above MaxConnsPerAddr, is the cap for
	// connections from a loopback address instead: phones this machine
	// runs itself (the SSH workshop's) all come from one, while the cap
	// for everyone else stays.
	MaxConnsPerLoopbackAddr int
}

func (c *Config) setDefaults() {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.PingInterval <= 0 {
		c.PingInterval = 30 * time.Second
	}
	if c.PongWait <= 0 {
		c.PongWait = 60 * time.Second
	}
	if c.PongWait <= c.PingInterval {
		c.PongWait = 2 * c.PingInterval
	}
	if c.WriteWait <= 0 {
		c.WriteWait = 10 * time.Second
	}
	if c.MaxConnsPerAddr <= 0 {
		c.MaxConnsPerAddr = 32
	}
	if c.MaxQueuePerToken <= 0 {
		c.MaxQueuePerToken = 64
	}
	if c.MaxQueued <= 0 {
		c.MaxQueued = 100_000
	}
	if c.SweepInterval <= 0 {
		c.SweepInterval = 30 * time.Second
	}
}

// Stats is a snapshot for health checks and benchmarks.
type Stats struct {
	Connected int    // live connections
	Queued    int    // unacked messages, all tokens
	Sent      uint64 // frames handed to sockets, redeliveries included
	Acked     uint64
	Dropped   uint64
}

// Gateway is the push service: an http.Handler that upgrades phones to
// websockets, plus Send for the server. Create it with NewGateway.
type Gateway struct {
	cfg      Config
	log      *slog.Logger
	upgrader websocket.Upgrader

	mu      sync.Mutex
	conns   map[string]*conn // by token (derived from the phone's secret)
	perAddr map[string]int
	queue   *queues
	nextID  uint64
	closed  bool

	// wg counts connection handlers and the sweeper, for Shutdown.
	wg          sync.WaitGroup
	stopSweeper chan struct{}

	sent, acked, dropped atomic.Uint64
}

// NewGateway starts the gateway's expiry sweeper; Shutdown stops it.
func NewGateway(cfg Config) *Gateway {
	cfg.setDefaults()
	g := &Gateway{
		cfg:         cfg,
		log:         cfg.Logger,
		conns:       make(map[string]*conn),
		perAddr:     make(map[string]int),
		queue:       newQueues(cfg.MaxQueuePerToken, cfg.MaxQueued),
		stopSweeper: make(chan struct{}),
	}
	g.upgrader = websocket.Upgrader{
		HandshakeTimeout: cfg.WriteWait,
		// Phones send only small acks; the write buffer is pooled because it
		// is needed only while a frame is being written, which keeps idle
		// connections cheap.
		ReadBufferSize:  1024,
		WriteBufferSize: MaxFrameSize + 64,
		WriteBufferPool: &sync.Pool{},
		CheckOrigin:     sameOrigin,
	}
	g.wg.Add(1)
	go g.sweepLoop()
	return g
}

// sameOrigin refuses cross-origin browser upgrades so a web page cannot use
// a visitor's network position to impersonate a phone. Non-browser clients
// send no Origin and are allowed.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

// ServeHTTP takes the phone's registration secret from its bearer and,
// within the per-address cap, upgrades to a websocket served by two
// goroutines, a reader and a writer, until the socket ends. The socket
// receives the pushes for the token derived from the secret, whatever it
// is: nothing tells a wrong secret from a phone with no pushes yet, so there
// is nothing to refuse, and someone presenting a factor's public token gets
// the empty queue of a token nobody registered.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	secret, ok := bearerSecret(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="pushsim"`)
		http.Error(w, "missing or malformed registration secret", http.StatusUnauthorized)
		return
	}
	// Only the derived token is kept: it keys the queue, and logs may show
	// a prefix of it; the secret goes no further than this line.
	token := RegistrationToken(secret)
	addr := remoteHost(r)
	if status := g.admit(addr); status != 0 {
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "5")
		}
		http.Error(w, http.StatusText(status), status)
		return
	}

	ws, err := g.upgrader.Upgrade(w, r, nil)
	if err != nil {
		// The upgrader has already answered (403 for a foreign origin).
		g.log.Debug("push: upgrade refused", "addr", addr, "err", err)
		g.release(addr)
		return
	}
	c := g.register(ws, token, addr)
	// The connection gets its own reader goroutine so that net/http's
	// handler goroutine can end: kept alive, it would pin the request's
	// buffers and a deep stack for the life of every idle phone.
	go func() {
		defer g.release(addr)
		c.serve()
		g.unregister(c)
	}()
}

// admit reserves a connection slot for addr; it returns an HTTP status when
// the gateway must refuse.
func (g *Gateway) admit(addr string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return http.StatusServiceUnavailable
	}
	if g.perAddr[addr] >= g.cfg.maxConnsFrom(addr) {
		return http.StatusTooManyRequests
	}
	g.perAddr[addr]++
	g.wg.Add(1)
	return 0
}

func (c *Config) maxConnsFrom(addr string) int {
	if ip := net.ParseIP(addr); ip != nil && ip.IsLoopback() && c.MaxConnsPerLoopbackAddr > c.MaxConnsPerAddr {
		return c.MaxConnsPerLoopbackAddr
	}
	return c.MaxConnsPerAddr
}

func (g *Gateway) release(addr string) {
	g.mu.Lock()
	if g.perAddr[addr]--; g.perAddr[addr] <= 0 {
		delete(g.perAddr, addr)
	}
	g.mu.Unlock()
	g.wg.Done()
}

func (g *Gateway) register(ws *websocket.Conn, token, addr string) *conn {
	g.mu.Lock()
	g.nextID++
	c := newConn(g, ws, g.nextID, token, addr)
	old := g.conns[token]
	g.conns[token] = c
	// NowOnly messages already written to the old socket are not carried
	// over; unwritten ones go to the new socket.
	drops := g.queue.dropNowOnly(token, false)
	closed := g.closed
	g.mu.Unlock()

	g.report(drops)
	if old != nil {
		old.beginClose(CloseReplaced, "replaced by a newer connection")
	}
	if closed {
		// Shutdown ran between admit and here and could not see c.
		c.beginClose(websocket.CloseGoingAway, "server shutting down")
	}
	g.log.Debug("push: phone connected", "token", redact(token), "addr", addr, "replaced", old != nil)
	c.wakeWriter()
	if g.cfg.OnConnect != nil && !closed {
		g.cfg.OnConnect(token)
	}
	return c
}

// Connected reports whether a phone's socket for token is up here.
func (g *Gateway) Connected(token string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.conns[token]
	return ok
}

// Tokens lists the tokens whose phones are connected here.
func (g *Gateway) Tokens() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]string, 0, len(g.conns))
	for token := range g.conns {
		out = append(out, token)
	}
	return out
}

func (g *Gateway) unregister(c *conn) {
	var drops []drop
	g.mu.Lock()
	if g.conns[c.token] == c {
		delete(g.conns, c.token)
		drops = g.queue.dropNowOnly(c.token, true)
	}
	g.mu.Unlock()
	g.report(drops)
	g.log.Debug("push: phone disconnected", "token", redact(c.token), "addr", c.addr)
}

// Send queues msg for its token and writes it at once if the phone is
// connected. It returns an error only for messages that can never be
// delivered (wrapping ErrInvalidMessage) and after Shutdown (ErrClosed);
// capacity and expiry outcomes are reported through OnDrop.
func (g *Gateway) Send(msg Message) error {
	frame, err := encodeFrame(msg)
	if err != nil {
		return err
	}
	now := g.cfg.Now()
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return ErrClosed
	}
	c := g.conns[msg.Token]
	if msg.NowOnly && c == nil {
		g.mu.Unlock()
		g.report([]drop{{msg.ID, msg.Token, DropOffline}})
		return nil
	}
	added, drops := g.queue.add(msg, frame, now)
	g.mu.Unlock()

	g.report(drops)
	if added && c != nil {
		c.wakeWriter()
	}
	return nil
}

// pending hands connection c the frames it has not written yet, provided it
// is still the token's current connection.
func (g *Gateway) pending(c *conn) []outgoing {
	g.mu.Lock()
	if g.conns[c.token] != c {
		g.mu.Unlock()
		return nil
	}
	out, drops := g.queue.take(c.token, c.id, g.cfg.Now())
	g.mu.Unlock()
	g.report(drops)
	return out
}

func (g *Gateway) ack(token, id string) {
	g.mu.Lock()
	removed := g.queue.ack(token, id)
	g.mu.Unlock()
	if !removed {
		// A duplicate ack, or one for a message that expired meanwhile.
		return
	}
	g.acked.Add(1)
	if g.cfg.OnAck != nil {
		g.cfg.OnAck(id, token)
	}
}

func (g *Gateway) report(drops []drop) {
	for _, d := range drops {
		g.dropped.Add(1)
		g.log.Debug("push: message dropped", "id", d.id, "token", redact(d.token), "reason", string(d.reason))
		if g.cfg.OnDrop != nil {
			g.cfg.OnDrop(d.id, d.token, d.reason)
		}
	}
}

func (g *Gateway) sweepLoop() {
	defer g.wg.Done()
	t := time.NewTicker(g.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-g.stopSweeper:
			return
		case <-t.C:
			g.mu.Lock()
			drops := g.queue.sweep(g.cfg.Now(), nil)
			g.mu.Unlock()
			g.report(drops)
		}
	}
}

// Stats returns current counts.
func (g *Gateway) Stats() Stats {
	g.mu.Lock()
	s := Stats{Connected: len(g.conns), Queued: g.queue.len()}
	g.mu.Unlock()
	s.Sent = g.sent.Load()
	s.Acked = g.acked.Load()
	s.Dropped = g.dropped.Load()
	return s
}

// Shutdown refuses new connections and Sends, closes every socket with 1001
// (going away) and waits for all connection goroutines to end. If ctx ends
// first the sockets are cut without waiting for the closing handshake and
// ctx's error is returned. http.Server.Shutdown does not close hijacked
// connections, so the server must call this itself (for example from
// RegisterOnShutdown).
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.mu.Lock()
	if !g.closed {
		g.closed = true
		close(g.stopSweeper)
	}
	live := make([]*conn, 0, len(g.conns))
	for _, c := range g.conns {
		live = append(live, c)
	}
	g.mu.Unlock()

	for _, c := range live {
		c.beginClose(websocket.CloseGoingAway, "server shutting down")
	}
	done := make(chan struct{})
	go func() {
		g.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		for _, c := range live {
			c.ws.Close()
		}
		return ctx.Err()
	}
}

// bearerSecret extracts a well-formed registration secret from
// "Authorization: Bearer <secret>". Secrets have the shape of tokens (32 to
// 255 printable characters), which is what a header carries unchanged.
func bearerSecret(r *http.Request) (string, bool) {
	scheme, secret, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || !ValidToken(secret) {
		return "", false
	}
	return secret, true
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// redact keeps logs useful for telling phones apart without writing out
// whole tokens. A token does not open a socket, but it is the factor's
// notification_token, and logs are read by more people than the account.
// The prefix every derived token shares tells phones nothing, so it does not
// count towards what is kept.
func redact(token string) string {
	keep := 8
	if strings.HasPrefix(token, tokenPrefix) {
		keep += len(tokenPrefix)
	}
	if len(token) <= keep {
		return "…"
	}
	return token[:keep] + "…"
}
