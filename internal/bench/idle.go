package bench

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"time"

	"github.com/pushsim/pushsim/server"
)

// weighIdleConns opens cfg.IdleConns push connections that then say
// nothing, and reports the server's memory per connection: heap and
// goroutine stacks in use, after garbage collection, before and after.
func weighIdleConns(ctx context.Context, srv *server.Server, base string, cfg Config, res *Result) error {
	before := inUse()
	hold := cfg.Holder
	if hold == nil {
		hold = HoldIdleConns
	}
	stop, err := hold(ctx, base, cfg.IdleConns)
	if err != nil {
		return err
	}
	defer stop()
	// The server's side of a connection is set up once its upgrade is
	// answered, which the holder waited for.
	want := cfg.IdleConns
	deadline := time.Now().Add(30 * time.Second)
	for srv.PushStats().Connected < want {
		if time.Now().After(deadline) {
			return fmt.Errorf("bench: %d of %d idle connections registered", srv.PushStats().Connected, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	after := inUse()
	res.IdleConns = want
	res.BytesPerIdleConn = float64(int64(after)-int64(before)) / float64(want)
	return nil
}

func inUse() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// HoldIdleConns opens n push connections to the server at base and keeps
// them open, idle, until stop is called. Each client end is a bare socket
// after the upgrade, so that the client's own memory stays small.
func HoldIdleConns(ctx context.Context, base string, n int) (stop func(), err error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	conns := make([]net.Conn, 0, n)
	stop = func() {
		for _, c := range conns {
			c.Close()
		}
	}
	for i := 0; i < n; i++ {
		if ctx.Err() != nil {
			stop()
			return nil, ctx.Err()
		}
		c, err := upgrade(ctx, u.Host)
		if err != nil {
			stop()
			return nil, fmt.Errorf("idle connection %d: %w", i+1, err)
		}
		conns = append(conns, c)
	}
	return stop, nil
}

// upgrade opens one push socket with a fresh registration secret.
func upgrade(ctx context.Context, host string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, err
	}
	secret, key := make([]byte, 32), make([]byte, 16)
	rand.Read(secret)
	rand.Read(key)
	req := "GET /push/connect HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key) + "\r\nSec-WebSocket-Version: 13\r\n" +
		"Authorization: Bearer " + hex.EncodeToString(secret) + "\r\n\r\n"
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte(req)); err != nil {
		c.Close()
		return nil, err
	}
	// The answer is a status line and headers; nothing follows until the
	// server has something to say, so a small reader cannot swallow a frame.
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 512), nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		c.Close()
		return nil, fmt.Errorf("upgrade answered %s", resp.Status)
	}
	c.SetDeadline(time.Time{})
	return c, nil
}
