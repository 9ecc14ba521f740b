package conncap

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// An address holds at most its cap of connections: the next one is
// refused, and a place given back is taken again.
func TestConnectionsPerAddressAreCapped(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refuse := func(c net.Conn) { io.WriteString(c, "refused\n"); c.Close() }
	ln := Listen(inner, 2, refuse).(*listener)
	ln.exempt = func(net.IP) bool { return false } // loopback is what a test has
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })}
	go hs.Serve(ln)
	defer hs.Close()

	dial := func() net.Conn {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		return c
	}
	// served sends one request on c and says whether it was answered.
	served := func(c net.Conn) bool {
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		return err == nil && resp.StatusCode == http.StatusOK
	}
	held := []net.Conn{dial(), dial()}
	for i, c := range held {
		if !served(c) {
			t.Fatalf("connection %d within the cap was not served", i+1)
		}
	}
	over := dial()
	if got, _ := io.ReadAll(over); string(got) != "refused\n" {
		t.Fatalf("connection over the cap read %q", got)
	}
	over.Close()

	// The place comes back once the server sees the client go.
	held[0].Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := dial()
		ok := served(c)
		c.Close()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no place after a connection closed")
		}
	}
	held[1].Close()
}

// Loopback is not capped.
func TestLoopbackIsNotCapped(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := Listen(inner, 1, func(c net.Conn) { c.Close() })
	defer ln.Close()
	accepted := make(chan error)
	go func() {
		for {
			_, err := ln.Accept()
			accepted <- err
			if err != nil {
				return
			}
		}
	}()
	for i := range 3 {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		select {
		case err := <-accepted:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("loopback connection %d not accepted", i+1)
		}
	}
}
