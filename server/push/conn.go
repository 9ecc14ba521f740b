package push

import (
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// closeGrace bounds how long a socket waits for the phone to answer our
// close frame before it is cut.
const closeGrace = 2 * time.Second

// conn is one phone's websocket. gorilla allows one reader and one writer at
// a time, plus Close and WriteControl from anywhere; serve is the reader and
// writeLoop the only writer of data frames.
type conn struct {
	g     *Gateway
	ws    *websocket.Conn
	id    uint64
	token string
	addr  string

	wake       chan struct{} // capacity 1: "the queue may have frames for you"
	done       chan struct{} // closed to stop the writer
	stopOnce   sync.Once
	writerDone chan struct{}

	// mu orders read-deadline changes so that a late pong cannot undo the
	// short deadline set when closing.
	mu      sync.Mutex
	closing bool
}

func newConn(g *Gateway, ws *websocket.Conn, id uint64, token, addr string) *conn {
	return &conn{
		g: g, ws: ws, id: id, token: token, addr: addr,
		wake:       make(chan struct{}, 1),
		done:       make(chan struct{}),
		writerDone: make(chan struct{}),
	}
}

// serve runs the reader on the calling goroutine and the writer on one more,
// and returns when both have ended and the socket is closed.
func (c *conn) serve() {
	c.ws.SetReadLimit(MaxFrameSize)
	c.extendReadDeadline()
	c.ws.SetPongHandler(func(string) error {
		c.extendReadDeadline()
		return nil
	})
	go c.writeLoop()
	c.readLoop()
	c.stopWriter()
	<-c.writerDone
	c.ws.Close()
}

func (c *conn) readLoop() {
	for {
		kind, data, err := c.ws.ReadMessage()
		if err != nil {
			// gorilla has already sent 1009 if the frame was too big.
			c.g.log.Debug("push: read ended", "token", redact(c.token), "err", err)
			return
		}
		c.extendReadDeadline()
		if kind != websocket.TextMessage {
			c.beginClose(websocket.CloseUnsupportedData, "text frames only")
			continue
		}
		id, ok := parseAck(data)
		if !ok {
			c.beginClose(websocket.ClosePolicyViolation, `expected {"ack":"<id>"}`)
			continue
		}
		// Acks that arrive during the closing handshake still count: the
		// phone did receive the message.
		c.g.ack(c.token, id)
	}
}

func (c *conn) writeLoop() {
	defer close(c.writerDone)
	ping := time.NewTicker(c.g.cfg.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-c.wake:
			if err := c.flush(); err != nil {
				c.abort(err)
				return
			}
		case <-ping.C:
			deadline := time.Now().Add(c.g.cfg.WriteWait)
			if err := c.ws.WriteControl(websocket.PingMessage, nil, deadline); err != nil {
				c.abort(err)
				return
			}
		}
	}
}

// flush writes every frame this connection has not written yet.
func (c *conn) flush() error {
	for _, o := range c.g.pending(c) {
		if !c.g.cfg.Now().Before(o.expiresAt) {
			// Expired while waiting for the socket; the sweep reports it.
			continue
		}
		// Counted before the write: the phone may ack, and a test or a
		// health check read Stats, before WriteMessage returns here.
		c.g.sent.Add(1)
		c.ws.SetWriteDeadline(time.Now().Add(c.g.cfg.WriteWait))
		if err := c.ws.WriteMessage(websocket.TextMessage, o.frame); err != nil {
			return err
		}
	}
	return nil
}

func (c *conn) wakeWriter() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *conn) stopWriter() {
	c.stopOnce.Do(func() { close(c.done) })
}

// abort cuts a socket the writer can no longer use, which also ends the
// reader. During a closing handshake the reader is left to finish it.
func (c *conn) abort(err error) {
	c.mu.Lock()
	closing := c.closing
	c.mu.Unlock()
	if !closing {
		c.g.log.Debug("push: write failed", "token", redact(c.token), "err", err)
		c.ws.Close()
	}
}

// beginClose starts the closing handshake: it stops the writer, sends the
// close frame and gives the phone closeGrace to answer, after which the
// reader's deadline ends the connection anyway. Safe from any goroutine.
func (c *conn) beginClose(code int, text string) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.closing = true
	c.ws.SetReadDeadline(time.Now().Add(closeGrace))
	c.mu.Unlock()

	c.stopWriter()
	msg := websocket.FormatCloseMessage(code, text)
	c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(c.g.cfg.WriteWait))
}

func (c *conn) extendReadDeadline() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closing {
		c.ws.SetReadDeadline(time.Now().Add(c.g.cfg.PongWait))
	}
}
