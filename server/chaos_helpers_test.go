package server_test

import (
	"context"
	"math/rand/v2"
	"net"
	"runtime"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pushsim/pushsim/server"
	"github.com/pushsim/pushsim/server/push"
)

func goroutines() int {
	runtime.GC()
	return runtime.NumGoroutine()
}

func serverConfigForChaos() server.Config {
	// Fifty phones dial from one address.
	return server.Config{Push: push.Config{MaxConnsPerAddr: 1000}}
}

// connCutter hands out a websocket dialer whose connections the test can
// cut at random, as a flaky mobile network would.
type connCutter struct {
	mu    sync.Mutex
	conns []net.Conn
	rng   *rand.Rand
	n     int
}

func newConnCutter() *connCutter {
	return &connCutter{rng: rand.New(rand.NewPCG(1, 2))}
}

func (c *connCutter) dialer() *websocket.Dialer {
	return &websocket.Dialer{
		HandshakeTimeout: 5 * time.Second,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil {
				c.mu.Lock()
				c.conns = append(c.conns, conn)
				c.mu.Unlock()
			}
			return conn, err
		},
	}
}

// cutRandom closes one live connection.
func (c *connCutter) cutRandom() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.conns) == 0 {
		return
	}
	i := c.rng.IntN(len(c.conns))
	c.conns[i].Close()
	c.conns = append(c.conns[:i], c.conns[i+1:]...)
	c.n++
}

func (c *connCutter) cuts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
