package server

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// tooManyConns is what a connection over its address's cap reads before
// it is closed: Verify's error for too many requests, so that the client
// learns why rather than seeing the connection reset.
var tooManyConns = func() []byte {
	body, _ := json.Marshal(map[string]any{
		"code": 20429, "status": http.StatusTooManyRequests, "more_info": "https://www.twilio.com/docs/errors/20429",
		"message": "Too many connections from this address: close some, or start the server with a higher --conns-per-addr",
	})
	return fmt.Appendf(nil, "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
}()

// capConnsPerAddr lets each remote address hold at most max of ln's
// connections at once; loopback is not capped.
func capConnsPerAddr(ln net.Listener, max int) net.Listener {
	return &cappedListener{Listener: ln, max: max, exempt: net.IP.IsLoopback, open: map[string]int{}}
}

type cappedListener struct {
	net.Listener
	max    int
	exempt func(net.IP) bool

	mu   sync.Mutex
	open map[string]int
}

func (l *cappedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr := remoteIP(c)
		if addr == nil || l.exempt(addr) {
			return c, nil
		}
		key := addr.String()
		l.mu.Lock()
		over := l.open[key] >= l.max
		if !over {
			l.open[key]++
		}
		l.mu.Unlock()
		if !over {
			return &cappedConn{Conn: c, release: sync.OnceFunc(func() { l.release(key) })}, nil
		}
		// Answered off the accepting goroutine: a client that does not
		// read must not hold up the next connection.
		go refuse(c)
	}
}

func (l *cappedListener) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key]--; l.open[key] <= 0 {
		delete(l.open, key)
	}
}

func refuse(c net.Conn) {
	c.SetWriteDeadline(time.Now().Add(time.Second))
	c.Write(tooManyConns)
	c.Close()
}

func remoteIP(c net.Conn) net.IP {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP
	}
	return nil
}

// cappedConn gives its address's place back when closed, once.
type cappedConn struct {
	net.Conn
	release func()
}

func (c *cappedConn) Close() error {
	c.release()
	return c.Conn.Close()
}
