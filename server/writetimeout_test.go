package server_test

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/pushsim/pushsim/server"
)

// A client that never reads the answer it asked for is cut off once the
// answer has taken WriteTimeout, instead of holding the connection and
// the bytes queued for it.
func TestClientThatNeverReadsIsCutOff(t *testing.T) {
	written := make(chan error, 1)
	cfg := server.Config{WriteTimeout: 200 * time.Millisecond, WrapHandler: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/big" {
				next.ServeHTTP(w, r)
				return
			}
			chunk := make([]byte, 1<<20)
			for range 256 {
				if _, err := w.Write(chunk); err != nil {
					written <- err
					return
				}
			}
			written <- nil
		})
	}}
	h := newHarnessWith(t, cfg, newClock())
	defer h.close()
	c, err := net.Dial("tcp", h.host())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-written:
		if err == nil {
			t.Fatal("256 MB written to a client that reads nothing")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("still writing to a client that never reads, 30 s on")
	}
}
