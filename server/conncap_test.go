package server

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"testing"
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
