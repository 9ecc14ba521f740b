// Package conncap caps how many connections one remote address may hold
// open on a listener, so that one client cannot take every descriptor the
// process has. Loopback is not capped: the machine's own users are trusted
// (docs/security.md), and load tests and the workshop's phones connect
// from there by the thousand.
package conncap

import (
	"net"
	"sync"
)

// Listen wraps ln: a connection from an address that already holds max is
// handed to refuse, on a goroutine of its own, and not returned; refuse
// must close it.
func Listen(ln net.Listener, max int, refuse func(net.Conn)) net.Listener {
	return &listener{Listener: ln, max: max, refuse: refuse, exempt: net.IP.IsLoopback, open: map[string]int{}}
}

type listener struct {
	net.Listener
	max    int
	refuse func(net.Conn)
	exempt func(net.IP) bool

	mu   sync.Mutex
	open map[string]int
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		a, ok := c.RemoteAddr().(*net.TCPAddr)
		if !ok || l.exempt(a.IP) {
			return c, nil
		}
		key := a.IP.String()
		l.mu.Lock()
		over := l.open[key] >= l.max
		if !over {
			l.open[key]++
		}
		l.mu.Unlock()
		if !over {
			return &conn{Conn: c, release: sync.OnceFunc(func() { l.release(key) })}, nil
		}
		// Off the accepting goroutine: a client that does not read what
		// refuse writes must not hold up the next connection.
		go l.refuse(c)
	}
}

func (l *listener) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key]--; l.open[key] <= 0 {
		delete(l.open, key)
	}
}

// conn gives its address's place back when closed, once.
type conn struct {
	net.Conn
	release func()
}

func (c *conn) Close() error {
	c.release()
	return c.Conn.Close()
}
