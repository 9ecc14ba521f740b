package server

import (
	"net"
	"sync"
)

// acceptor shares one listener between the HTTP servers of successive
// generations. An http.Server closes its listener when it shuts down; a
// restart must not, or the port could be lost to another process and
// clients would see "connection refused" rather than a short wait.
type acceptor struct {
	ln      net.Listener
	results chan accepted
	closed  chan struct{}

	mu     sync.Mutex
	held   []net.Conn // accepted for a generation that stopped meanwhile
	failed error      // the listener's final error
}

type accepted struct {
	conn net.Conn
	err  error
}

func newAcceptor(ln net.Listener) *acceptor {
	a := &acceptor{ln: ln, results: make(chan accepted), closed: make(chan struct{})}
	go a.loop()
	return a
}

func (a *acceptor) loop() {
	for {
		c, err := a.ln.Accept()
		select {
		case a.results <- accepted{c, err}:
		case <-a.closed:
			if c != nil {
				c.Close()
			}
			return
		}
		if err != nil && isClosed(err) {
			return
		}
	}
}

// isClosed reports an error after which the listener accepts nothing more;
// other errors (too many open files) are passed on for http.Server to
// retry after a pause, as it does with its own listener.
func isClosed(err error) bool {
	ne, ok := err.(net.Error)
	return !ok || !ne.Timeout() && !isTemporary(ne)
}

func isTemporary(err net.Error) bool {
	t, ok := err.(interface{ Temporary() bool })
	return ok && t.Temporary()
}

func (a *acceptor) close() {
	a.mu.Lock()
	held := a.held
	a.held = nil
	a.mu.Unlock()
	for _, c := range held {
		c.Close()
	}
	select {
	case <-a.closed:
	default:
		close(a.closed)
		a.ln.Close()
	}
}

// listener is one generation's view: closing it stops that generation's
// accepting, not the shared listener.
func (a *acceptor) listener() net.Listener {
	return &generationListener{a: a, done: make(chan struct{})}
}

type generationListener struct {
	a    *acceptor
	done chan struct{}
	once sync.Once
}

func (l *generationListener) Accept() (net.Conn, error) {
	a := l.a
	a.mu.Lock()
	if len(a.held) > 0 {
		c := a.held[0]
		a.held = a.held[1:]
		a.mu.Unlock()
		return c, nil
	}
	failed := a.failed
	a.mu.Unlock()
	if failed != nil {
		return nil, failed
	}
	select {
	case <-l.done:
		return nil, net.ErrClosed
	case r := <-a.results:
		if r.err != nil {
			if isClosed(r.err) {
				a.mu.Lock()
				a.failed = r.err
				a.mu.Unlock()
			}
			return nil, r.err
		}
		select {
		case <-l.done:
			// This generation is stopping: keep the connection for the next.
			a.mu.Lock()
			a.held = append(a.held, r.conn)
			a.mu.Unlock()
			return nil, net.ErrClosed
		default:
			return r.conn, nil
		}
	}
}

func (l *generationListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *generationListener) Addr() net.Addr { return l.a.ln.Addr() }
