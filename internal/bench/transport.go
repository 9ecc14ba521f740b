package bench

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// leanTransport is the bench's HTTP/1.1 client for plain http: a request
// borrows a kept-alive connection, is written, and has its whole answer
// read on the caller's goroutine. net/http's Transport runs two goroutines
// per connection and hands every request and answer between them; on the
// two cores a load test shares with the server under test, that is CPU the
// server does not get. A load generator such as wrk spends none of it.
type leanTransport struct {
	// fallback carries what this one does not (https, and anything else
	// but http).
	fallback http.RoundTripper
	dialer   net.Dialer

	mu   sync.Mutex
	idle map[string][]*leanConn // by host:port
}

type leanConn struct {
	net.Conn
	r *bufio.Reader
	w *bufio.Writer
}

// maxAnswer bounds an answer read whole: far above anything the Verify API
// or a mock sends.
const maxAnswer = 4 << 20

func newLeanTransport(fallback http.RoundTripper) *leanTransport {
	return &leanTransport{fallback: fallback, dialer: net.Dialer{Timeout: 10 * time.Second}, idle: map[string][]*leanConn{}}
}

func (t *leanTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" {
		return t.fallback.RoundTrip(req)
	}
	host := req.URL.Host
	if req.URL.Port() == "" {
		host = net.JoinHostPort(req.URL.Hostname(), "80")
	}
	c, reused, err := t.conn(req.Context(), host)
	if err != nil {
		return nil, err
	}
	resp, err := c.exchange(req)
	if err != nil && reused && req.Context().Err() == nil && (req.Body == nil || req.GetBody != nil) {
		// The server may have closed a connection kept idle: once more
		// on a new one, as net/http does.
		c.Close()
		if req.GetBody != nil {
			if req.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
		if c, err = t.dial(req.Context(), host); err != nil {
			return nil, err
		}
		resp, err = c.exchange(req)
	}
	if err != nil || resp.Close {
		c.Close()
	} else {
		t.put(host, c)
	}
	if err != nil && req.Context().Err() != nil {
		return nil, req.Context().Err() // what ended the exchange, not the deadline it set
	}
	return resp, err
}

// exchange writes req and reads its answer whole, so that the connection
// is free again when it returns. A context that ends meanwhile ends the
// exchange through the connection's deadline.
func (c *leanConn) exchange(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if deadline, ok := ctx.Deadline(); ok {
		c.SetDeadline(deadline)
	} else {
		c.SetDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if req.Body != nil {
		defer req.Body.Close()
	}
	if err := req.Write(c.w); err != nil {
		return nil, err
	}
	if err := c.w.Flush(); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(c.r, req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	resp.Body.Close()
	if err == nil && len(body) > maxAnswer {
		err = io.ErrShortBuffer
	}
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// conn is an idle connection to host, or a new one.
func (t *leanTransport) conn(ctx context.Context, host string) (c *leanConn, reused bool, err error) {
	t.mu.Lock()
	if idle := t.idle[host]; len(idle) > 0 {
		c := idle[len(idle)-1]
		t.idle[host] = idle[:len(idle)-1]
		t.mu.Unlock()
		return c, true, nil
	}
	t.mu.Unlock()
	c, err = t.dial(ctx, host)
	return c, false, err
}

func (t *leanTransport) dial(ctx context.Context, host string) (*leanConn, error) {
	nc, err := t.dialer.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, err
	}
	return &leanConn{Conn: nc, r: bufio.NewReader(nc), w: bufio.NewWriter(nc)}, nil
}

func (t *leanTransport) put(host string, c *leanConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.idle[host] = append(t.idle[host], c)
}

// CloseIdleConnections closes the kept-alive connections (http.Client's
// method of the same name calls it).
func (t *leanTransport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = map[string][]*leanConn{}
	t.mu.Unlock()
	for _, conns := range idle {
		for _, c := range conns {
			c.Close()
		}
	}
	if f, ok := t.fallback.(interface{ CloseIdleConnections() }); ok {
		f.CloseIdleConnections()
	}
}
