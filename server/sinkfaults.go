package server

import (
	"net/http"
	"time"

	"github.com/pushsim/pushsim/server/faults"
)

// maxSinkHold bounds how long a timeout fault holds a webhook: far longer
// than any sender waits, short enough that a forgotten fault does not pin
// connections for good.
const maxSinkHold = 5 * time.Minute

// sinkFaults makes the sample backend's webhook sink misbehave as the
// faults say, in front of it, so that the sink itself stays the template's.
// Only Verify's deliveries to the sink are touched; the sink's event log and
// every other backend route answer as usual.
func (s *Server) sinkFaults(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rule, on := s.faults.Webhook()
		if !on || r.Method != http.MethodPost || r.URL.Path != "/backend/webhook" {
			next.ServeHTTP(w, r)
			return
		}
		switch rule.Mode {
		case faults.WebhookStatus:
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(rule.Status)
			w.Write([]byte("pushsim webhook fault: answering " + http.StatusText(rule.Status) + "\n"))
		case faults.WebhookTimeout:
			t := time.NewTimer(maxSinkHold)
			defer t.Stop()
			select {
			case <-r.Context().Done():
			case <-t.C:
			}
		case faults.WebhookClose:
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				panic(http.ErrAbortHandler) // closes the connection without an answer
			}
			conn.Close()
		}
	})
}
