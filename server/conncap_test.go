package server

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// An address holds at most its cap of connections: the next one reads
// Verify's 429 and is closed, and a place given back is taken again.
func TestConnectionsPerAddressAreCapped(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &cappedListener{Listener: inner, max: 2, exempt: func(net.IP) bool { return false }, open: map[string]int{}}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })}
	go hs.Serve(ln)
	defer hs.Close()

	// get sends one request on c and reads its answer.
	get := func(c net.Conn) (*http.Response, []byte, error) {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return nil, nil, err
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return nil, nil, err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return resp, body, err
	}
	dial := func() net.Conn {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	held := []net.Conn{dial(), dial()}
	for i, c := range held {
		if resp, _, err := get(c); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("connection %d within the cap: %v %v", i+1, resp, err)
		}
	}
	over := dial()
	resp, body, err := get(over)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("connection over the cap: %v %v", resp, err)
	}
	var e struct {
		Code   int
		Status int
	}
	if json.Unmarshal(body, &e) != nil || e.Code != 20429 || e.Status != 429 {
		t.Fatalf("429 body: %s", body)
	}
	if n, _ := over.Read(make([]byte, 1)); n != 0 {
		t.Fatal("the refused connection stays open")
	}
	over.Close()

	// The server gives a place back once it sees the client go.
	held[0].Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := dial()
		resp, _, err := get(c)
		if err == nil && resp.StatusCode == http.StatusOK {
			c.Close()
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("no place after a connection closed: %v %v", resp, err)
		}
	}
	held[1].Close()
}
