package pushclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// frameJob is one fuzz input for the scripted server: the frame to write
// twice (a redelivery) before the sentinel, and where to report the raw
// acks it read.
type frameJob struct {
	frame    []byte
	binary   bool
	sentinel string // an id no fuzzed frame carries
	acks     chan [][]byte
}

// FuzzServerFrame: what the phone reads from the push service. The server
// writes one frame twice, then a sentinel message, and reads acks until
// the sentinel's. Whatever the frame, the connection survives it (the
// sentinel is acked), unless it is over the read limit. A text frame that
// decodes with a non-empty id is acked on each copy with an ack that
// parses back to that id, and is shown at most once: exactly once, with
// the frame's id, data and expiry, when its expires_at is absent or a
// valid time not yet passed, and never otherwise. Frames without an id and
// binary frames are neither acked nor shown.
func FuzzServerFrame(f *testing.F) {
	for _, seed := range []struct {
		frame  string
		binary bool
	}{
		{`{"id":"m1","data":{"type":"verify_push_challenge","challenge_sid":"YC1"},"expires_at":"2026-03-01T12:05:00Z"}`, false},
		{`{"id":"m2","data":{},"expires_at":"2026-03-01T11:59:59Z"}`, false},
		{`{"id":"m3","expires_at":"not a time"}`, false},
		{`{"id":"m4","expires_at":"2026-03-01T12:00:00.5+01:00"}`, false},
		{`{"id":"m5","data":{"n":1}}`, false},
		{`{"id":"sentinel-1"}`, false},
		{`{"ID":"m6","Data":{"k":"v"}}`, false},
		{`{"id":"m7","id":""}`, false},
		{`{"id":"\u00e9\ud800"}`, false},
		{`{"data":{"k":"v"}}`, false},
		{`{"id":"m8"}`, true},
		{`null`, false},
		{``, false},
		{"{\"id\":\"\xff\"}", false},
		{`{"id":"big","pad":"` + strings.Repeat("x", maxFrame) + `"}`, false},
	} {
		f.Add([]byte(seed.frame), seed.binary)
	}

	jobs := make(chan frameJob, 1)
	up := websocket.Upgrader{}
	var wg sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wg.Add(1)
		defer wg.Done()
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		job := <-jobs
		kind := websocket.TextMessage
		if job.binary {
			kind = websocket.BinaryMessage
		}
		var acks [][]byte
		defer func() { job.acks <- acks }()
		for _, frame := range [][]byte{job.frame, job.frame} {
			if err := ws.WriteMessage(kind, frame); err != nil {
				return
			}
		}
		if err := ws.WriteJSON(map[string]string{"id": job.sentinel}); err != nil {
			return
		}
		sentinelAck, _ := json.Marshal(map[string]string{"ack": job.sentinel})
		ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			_, ack, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if bytes.Equal(ack, sentinelAck) {
				ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(5*time.Second))
				return
			}
			acks = append(acks, ack)
		}
	}))
	f.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		wg.Wait()
	})
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	var n atomic.Int64
	f.Fuzz(func(t *testing.T, data []byte, binary bool) {
		sentinel := fmt.Sprintf("sentinel-%d-%x", n.Add(1), sha256.Sum256(data))
		var shown, duplicates []Message
		c, err := New(Config{
			URL: url, Secret: testSecret, Now: func() time.Time { return now }, ReadTimeout: 10 * time.Second,
			OnMessage: func(m Message) {
				if m.ID != sentinel {
					shown = append(shown, m)
				}
			},
			OnDuplicate: func(m Message) { duplicates = append(duplicates, m) },
		})
		if err != nil {
			t.Fatal(err)
		}
		job := frameJob{frame: data, binary: binary, sentinel: sentinel, acks: make(chan [][]byte, 1)}
		jobs <- job
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_, sessionErr := c.session(ctx)
		acks := <-job.acks
		if ctx.Err() != nil {
			t.Fatal("the session outlived the server")
		}

		if len(data) > maxFrame {
			if len(acks) != 0 || len(shown) != 0 {
				t.Fatalf("a frame over the read limit was acked %q or shown %+v", acks, shown)
			}
			if sessionErr == nil {
				t.Fatal("a frame over the read limit did not end the session")
			}
			return
		}
		want, hasID := frameByTheProtocol(data)
		hasID = hasID && !binary
		if !hasID {
			if len(acks) != 0 || len(shown) != 0 || len(duplicates) != 0 {
				t.Fatalf("frame %q (binary %v) without an id: acks %q, shown %+v, duplicates %+v", data, binary, acks, shown, duplicates)
			}
			return
		}
		if len(acks) != 2 {
			t.Fatalf("frame %q sent twice, acked %q", data, acks)
		}
		for _, raw := range acks {
			var a struct {
				Ack string `json:"ack"`
			}
			if err := json.Unmarshal(raw, &a); err != nil || a.Ack != want.ID {
				t.Fatalf("ack %q does not name %q (%v)", raw, want.ID, err)
			}
		}
		var expires time.Time
		valid := true
		if want.ExpiresAt != "" {
			expires, err = time.Parse(time.RFC3339, want.ExpiresAt)
			valid = err == nil
		}
		live := valid && (expires.IsZero() || !now.After(expires))
		if !live {
			if len(shown) != 0 {
				t.Fatalf("frame %q with expires_at %q was shown: %+v", data, want.ExpiresAt, shown)
			}
			return
		}
		if len(shown) != 1 {
			t.Fatalf("frame %q sent twice was shown %d times", data, len(shown))
		}
		m := shown[0]
		if m.ID != want.ID || !maps.Equal(m.Data, want.Data) || !m.ExpiresAt.Equal(expires) {
			t.Fatalf("frame %q shown as %+v", data, m)
		}
		if len(duplicates) != 1 || duplicates[0].ID != want.ID {
			t.Fatalf("the second copy of %q was reported as %+v", data, duplicates)
		}
	})
}

// frameByTheProtocol reads a frame as docs/push-protocol.md describes it:
// a JSON object whose keys, spelled exactly so, hold a string id, an
// object of strings as data and a string expires_at, any of them absent
// or null; a known key holding anything else makes the frame malformed.
// A null inside data reads as an empty string, as Go reads a null into a
// string. It reports whether the frame has an id to ack.
func frameByTheProtocol(data []byte) (frame, bool) {
	var object map[string]any
	if json.Unmarshal(data, &object) != nil {
		return frame{}, false
	}
	text := func(v any) (string, bool) {
		if v == nil {
			return "", true
		}
		s, ok := v.(string)
		return s, ok
	}
	var f frame
	var ok bool
	if f.ID, ok = text(object["id"]); !ok {
		return frame{}, false
	}
	if f.ExpiresAt, ok = text(object["expires_at"]); !ok {
		return frame{}, false
	}
	if v := object["data"]; v != nil {
		fields, isObject := v.(map[string]any)
		if !isObject {
			return frame{}, false
		}
		f.Data = map[string]string{}
		for key, value := range fields {
			if f.Data[key], ok = text(value); !ok {
				return frame{}, false
			}
		}
	}
	return f, f.ID != ""
}
