// Package pushclient is the phone's push receiver: it keeps a websocket open
// to the push service, hands each new message to the app once, acks every
// message it receives, and reconnects with exponential backoff and jitter.
//
// The phone connects with a secret, never with the token it registered:
// Verify shows that token to the account, so it only addresses the phone.
// The app registers RegistrationToken(secret) and keeps the secret to itself.
//
// Pushes can be lost while the phone is away, so the app should poll for
// pending challenges from Config.OnConnect, which runs after every
// successful (re)connect. The wire format is described in
// docs/push-protocol.md; this package shares no code with the server.
package pushclient

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Message is one push as the app sees it.
type Message struct {
	ID        string
	Data      map[string]string
	ExpiresAt time.Time // zero if the frame carried none
}

// Backoff bounds the wait between connection attempts. The wait doubles
// from Min after every failure up to Max, and each wait is drawn at random
// from its upper half so phones dropped together do not return together.
type Backoff struct {
	Min time.Duration // default 1s
	Max time.Duration // default 30s
}

// Config describes one phone's receiver. URL, Secret and OnMessage are required.
type Config struct {
	URL string // ws:// or wss:// …/push/connect
	// Secret is the phone's registration secret, 32 to 255 printable
	// characters: the client receives what is sent to
	// RegistrationToken(Secret).
	Secret string

	// OnMessage gets each unexpired message once; the ack is sent after it
	// returns. It runs on the reader, so it should return quickly.
	OnMessage func(Message)
	// OnDuplicate, when set, hears a message delivered again with an id
	// already handed to OnMessage (it is acked, not handed over). Push
	// services do deliver twice now and then; a tester wants to see it.
	OnDuplicate func(Message)
	// OnConnect runs after every successful (re)connect, on the reader, so
	// pushes wait until it returns; a slow poll belongs in a goroutine.
	OnConnect func()
	// OnDisconnect runs when an established connection ends, with the reason.
	OnDisconnect func(error)

	Dialer  *websocket.Dialer // default: 10s handshake timeout
	Backoff Backoff
	Rand    *rand.Rand       // jitter source; default the shared generator
	Now     func() time.Time // for expiry checks; default time.Now
	Logger  *slog.Logger     // default discards

	// ReadTimeout ends a connection on which nothing, not even a ping, has
	// arrived for this long. Default 90s, longer than the server's ping
	// interval plus slack.
	ReadTimeout  time.Duration
	WriteTimeout time.Duration // per ack; default 10s
}

const (
	// maxFrame is generous next to the server's 4 KiB so a server change
	// there does not silently break phones.
	maxFrame = 64 << 10
	// rememberedIDs bounds de-duplication memory; redeliveries happen within
	// a phone's few pending messages, far below this.
	rememberedIDs = 1024
)

// Client receives pushes for one registration. Run it once.
type Client struct {
	cfg       Config
	recent    *recentIDs
	connected atomic.Bool
}

// New checks cfg and fills in defaults.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return nil, fmt.Errorf("pushclient: URL must be ws:// or wss:// with a host, got %q", cfg.URL)
	}
	if !validSecret(cfg.Secret) {
		return nil, errors.New("pushclient: secret must be 32 to 255 printable characters without spaces")
	}
	if cfg.OnMessage == nil {
		return nil, errors.New("pushclient: OnMessage is required")
	}
	if cfg.Dialer == nil {
		d := *websocket.DefaultDialer
		d.HandshakeTimeout = 10 * time.Second
		cfg.Dialer = &d
	}
	if cfg.Backoff.Min <= 0 {
		cfg.Backoff.Min = time.Second
	}
	if cfg.Backoff.Max <= 0 {
		cfg.Backoff.Max = 30 * time.Second
	}
	cfg.Backoff.Max = max(cfg.Backoff.Max, cfg.Backoff.Min)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 90 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	return &Client{cfg: cfg, recent: newRecentIDs(rememberedIDs)}, nil
}

// Connected reports whether a connection is established right now.
func (c *Client) Connected() bool { return c.connected.Load() }

// Run connects and receives until ctx ends, reconnecting after every failure
// or disconnect, and returns ctx's error.
func (c *Client) Run(ctx context.Context) error {
	failures := 0
	for {
		upFor, err := c.session(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// A connection that lasted is evidence the server is healthy again;
		// one that dropped quickly (or never came up) must not make us hammer
		// a server that accepts and then closes.
		if upFor >= c.cfg.Backoff.Max {
			failures = 0
		}
		failures++
		wait := c.backoff(failures)
		c.cfg.Logger.Debug("pushclient: reconnecting", "in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// backoff is the wait before attempt n+1 after n consecutive failures.
func (c *Client) backoff(n int) time.Duration {
	d := c.cfg.Backoff.Min
	for i := 1; i < n && d < c.cfg.Backoff.Max; i++ {
		d *= 2
	}
	d = min(d, c.cfg.Backoff.Max)
	half := int64(d / 2)
	var r int64
	if c.cfg.Rand != nil {
		r = c.cfg.Rand.Int64N(half + 1)
	} else {
		r = rand.Int64N(half + 1)
	}
	return time.Duration(int64(d) - half + r)
}

// session runs one connection and returns how long it was established.
func (c *Client) session(ctx context.Context) (time.Duration, error) {
	header := http.Header{"Authorization": {"Bearer " + c.cfg.Secret}}
	ws, resp, err := c.cfg.Dialer.DialContext(ctx, c.cfg.URL, header)
	if err != nil {
		if resp != nil {
			return 0, fmt.Errorf("pushclient: server refused connection: %s", resp.Status)
		}
		return 0, fmt.Errorf("pushclient: %w", err)
	}
	defer ws.Close()
	// Closing from ctx is the one thing that can interrupt the blocking read.
	stop := context.AfterFunc(ctx, func() {
		msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
		ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(c.cfg.WriteTimeout))
		ws.Close()
	})
	defer stop()

	ws.SetReadLimit(maxFrame)
	ws.SetReadDeadline(time.Now().Add(c.cfg.ReadTimeout))
	ws.SetPingHandler(func(data string) error {
		ws.SetReadDeadline(time.Now().Add(c.cfg.ReadTimeout))
		err := ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(c.cfg.WriteTimeout))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})

	start := time.Now()
	c.connected.Store(true)
	if c.cfg.OnConnect != nil {
		c.cfg.OnConnect()
	}
	err = c.receive(ws)
	c.connected.Store(false)
	if c.cfg.OnDisconnect != nil && ctx.Err() == nil {
		c.cfg.OnDisconnect(err)
	}
	return time.Since(start), err
}

// frame is the server-to-phone message, as parseFrame reads it.
type frame struct {
	ID        string
	Data      map[string]string
	ExpiresAt string
}

// parseFrame reads a server-to-phone frame. Keys match exactly, as the
// protocol spells them: encoding/json alone would also take {"ID":…},
// which the protocol calls an unknown key. A known key whose value has
// the wrong type makes the whole frame malformed.
func parseFrame(data []byte) (frame, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return frame{}, err
	}
	var f frame
	for _, field := range []struct {
		key  string
		into any
	}{{"id", &f.ID}, {"data", &f.Data}, {"expires_at", &f.ExpiresAt}} {
		if raw, ok := fields[field.key]; ok {
			if err := json.Unmarshal(raw, field.into); err != nil {
				return frame{}, fmt.Errorf("%s: %w", field.key, err)
			}
		}
	}
	return f, nil
}

func (c *Client) receive(ws *websocket.Conn) error {
	for {
		kind, data, err := ws.ReadMessage()
		if err != nil {
			return err
		}
		ws.SetReadDeadline(time.Now().Add(c.cfg.ReadTimeout))
		if kind != websocket.TextMessage {
			continue
		}
		f, err := parseFrame(data)
		if err != nil || f.ID == "" {
			// Without an id there is nothing to ack.
			c.cfg.Logger.Warn("pushclient: ignoring malformed frame", "err", err)
			continue
		}
		c.deliver(f)
		if err := c.ack(ws, f.ID); err != nil {
			return err
		}
	}
}

// deliver hands f to the app unless it is a repeat or stale. Either way the
// caller acks it, so the server stops resending.
func (c *Client) deliver(f frame) {
	var expires time.Time
	if f.ExpiresAt != "" {
		t, err := time.Parse(time.RFC3339, f.ExpiresAt)
		if err != nil {
			c.cfg.Logger.Warn("pushclient: dropping message with bad expires_at", "id", f.ID, "expires_at", f.ExpiresAt)
			return
		}
		expires = t
	}
	// Expiry first: a message never shown is not remembered, so its
	// redelivery is not reported as a duplicate of something shown.
	if !expires.IsZero() && c.cfg.Now().After(expires) {
		c.cfg.Logger.Debug("pushclient: expired on arrival", "id", f.ID, "expires_at", f.ExpiresAt)
		return
	}
	if !c.recent.add(f.ID) {
		c.cfg.Logger.Debug("pushclient: duplicate", "id", f.ID)
		if c.cfg.OnDuplicate != nil {
			c.cfg.OnDuplicate(Message{ID: f.ID, Data: f.Data, ExpiresAt: expires})
		}
		return
	}
	c.cfg.OnMessage(Message{ID: f.ID, Data: f.Data, ExpiresAt: expires})
}

func (c *Client) ack(ws *websocket.Conn, id string) error {
	body, err := json.Marshal(struct {
		Ack string `json:"ack"`
	}{id})
	if err != nil {
		return err
	}
	ws.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout))
	return ws.WriteMessage(websocket.TextMessage, body)
}

// validSecret is the server's rule for a bearer: what an Authorization
// header carries unchanged.
func validSecret(s string) bool {
	if len(s) < 32 || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// RegistrationToken is the token to register with Verify
// (Config.NotificationToken, platform fcm) for a phone that connects with
// secret: "pushsim:" + unpadded base64url of SHA-256("pushsim push
// registration v1" NUL secret), 51 characters. The server derives the same
// token from the bearer and delivers what was sent to it; the rule is in
// docs/push-protocol.md.
func RegistrationToken(secret string) string {
	sum := sha256.Sum256([]byte("pushsim push registration v1\x00" + secret))
	return "pushsim:" + base64.RawURLEncoding.EncodeToString(sum[:])
}
