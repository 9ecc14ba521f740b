package server

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/pushsim/pushsim/server/push"
)

// A connection over its address's cap reads Verify's 429, then the end.
func TestRefusedConnectionReadsA429(t *testing.T) {
	client, server := net.Pipe()
	go refuseConn(server)
	resp, err := http.ReadResponse(bufio.NewReader(client), nil)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests || !resp.Close {
		t.Fatalf("%v %v", resp, err)
	}
	body, err := io.ReadAll(resp.Body)
	var e struct{ Code, Status int }
	if err != nil || json.Unmarshal(body, &e) != nil || e.Code != 20429 || e.Status != 429 {
		t.Fatalf("body %q: %v", body, err)
	}
}

// The cap on an address's connections leaves room for every push socket
// the push cap lets in, and for requests beside them.
func TestConnectionCapMakesRoomForPushSockets(t *testing.T) {
	for _, c := range []struct{ conns, sockets, want int }{
		{0, 0, 256}, {0, 1000, 1224}, {300, 32, 300}, {10, 32, 256}, {-1, 1000, -1},
	} {
		s, err := New(context.Background(), Config{TestCredentials: true, MaxConnsPerAddr: c.conns, Push: push.Config{MaxConnsPerAddr: c.sockets}})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.cfg.MaxConnsPerAddr; got != c.want {
			t.Errorf("conns %d, push sockets %d: cap %d, want %d", c.conns, c.sockets, got, c.want)
		}
		s.Close()
	}
}
