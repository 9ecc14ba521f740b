package push

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func msg(id, token string, ttl time.Duration) Message {
	return Message{ID: id, Token: token, ExpiresAt: t0.Add(ttl)}
}

func add(t *testing.T, q *queues, m Message, now time.Time) (bool, []drop) {
	t.Helper()
	return q.add(m, []byte(m.ID), now)
}

func takeIDs(q *queues, token string, conn uint64, now time.Time) []string {
	out, _ := q.take(token, conn, now)
	ids := make([]string, len(out))
	for i, o := range out {
		ids[i] = o.id
	}
	return ids
}

func TestQueueFullTokenDropsExpiredBeforeOldest(t *testing.T) {
	q := newQueues(3, 100)
	tok := tokenFor(1)
	add(t, q, msg("a", tok, time.Hour), t0)
	add(t, q, msg("b", tok, time.Minute), t0)
	add(t, q, msg("c", tok, time.Hour), t0)

	now := t0.Add(2 * time.Minute) // b has expired
	added, drops := add(t, q, msg("d", tok, time.Hour), now)
	if !added || !slices.Equal(drops, []drop{{"b", tok, DropExpired}}) {
		t.Fatalf("added %v, drops %v; want b dropped as expired", added, drops)
	}
	added, drops = add(t, q, msg("e", tok, time.Hour), now)
	if !added || !slices.Equal(drops, []drop{{"a", tok, DropEvicted}}) {
		t.Fatalf("added %v, drops %v; want oldest (a) evicted", added, drops)
	}
	if got := takeIDs(q, tok, 1, now); !slices.Equal(got, []string{"c", "d", "e"}) {
		t.Fatalf("queue %v", got)
	}
}

func TestQueueGlobalBoundRefusesNewMessage(t *testing.T) {
	q := newQueues(10, 2)
	add(t, q, msg("a", tokenFor(1), time.Hour), t0)
	add(t, q, msg("b", tokenFor(2), time.Minute), t0)
	added, drops := add(t, q, msg("c", tokenFor(3), time.Hour), t0)
	if added || !slices.Equal(drops, []drop{{"c", tokenFor(3), DropOverloaded}}) {
		t.Fatalf("added %v, drops %v", added, drops)
	}
	// Once something has expired there is room again.
	later := t0.Add(2 * time.Minute)
	added, drops = add(t, q, msg("c", tokenFor(3), time.Hour), later)
	if !added || !slices.Equal(drops, []drop{{"b", tokenFor(2), DropExpired}}) {
		t.Fatalf("added %v, drops %v", added, drops)
	}
	if q.len() != 2 {
		t.Fatalf("len %d", q.len())
	}
}

func TestQueueDuplicateAndExpiredOnArrival(t *testing.T) {
	q := newQueues(10, 10)
	tok := tokenFor(1)
	if added, _ := add(t, q, msg("a", tok, time.Minute), t0); !added {
		t.Fatal("first add refused")
	}
	// A duplicate is ignored even when it is stale: the original is the one
	// that will be reported.
	if added, drops := add(t, q, msg("a", tok, time.Hour), t0.Add(time.Hour)); added || drops != nil {
		t.Fatalf("duplicate: added %v drops %v", added, drops)
	}
	if added, drops := add(t, q, msg("b", tok, 0), t0); added || !slices.Equal(drops, []drop{{"b", tok, DropExpired}}) {
		t.Fatalf("expired on arrival: added %v drops %v", added, drops)
	}
	// The same id under another token is another message.
	if added, _ := add(t, q, msg("a", tokenFor(2), time.Minute), t0); !added {
		t.Fatal("same id for another token refused")
	}
}

func TestQueueTakeIsPerConnection(t *testing.T) {
	q := newQueues(10, 10)
	tok := tokenFor(1)
	add(t, q, msg("a", tok, time.Hour), t0)
	add(t, q, msg("b", tok, time.Hour), t0)
	if got := takeIDs(q, tok, 1, t0); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("first take %v", got)
	}
	if got := takeIDs(q, tok, 1, t0); len(got) != 0 {
		t.Fatalf("same connection got %v again", got)
	}
	q.ack(tok, "a")
	if got := takeIDs(q, tok, 2, t0); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("new connection got %v, want unacked [b]", got)
	}
	if q.ack(tok, "a") {
		t.Fatal("second ack of a reported a removal")
	}
}

func TestQueueDropNowOnly(t *testing.T) {
	q := newQueues(10, 10)
	tok := tokenFor(1)
	q.add(Message{ID: "written", Token: tok, ExpiresAt: t0.Add(time.Hour), NowOnly: true}, nil, t0)
	q.take(tok, 1, t0)
	q.add(Message{ID: "unwritten", Token: tok, ExpiresAt: t0.Add(time.Hour), NowOnly: true}, nil, t0)
	q.add(msg("durable", tok, time.Hour), nil, t0)

	if got := q.dropNowOnly(tok, false); !slices.Equal(got, []drop{{"written", tok, DropOffline}}) {
		t.Fatalf("replacement drops %v", got)
	}
	if got := q.dropNowOnly(tok, true); !slices.Equal(got, []drop{{"unwritten", tok, DropOffline}}) {
		t.Fatalf("disconnect drops %v", got)
	}
	if got := takeIDs(q, tok, 2, t0); !slices.Equal(got, []string{"durable"}) {
		t.Fatalf("left %v", got)
	}
}

func TestValidToken(t *testing.T) {
	for tok, want := range map[string]bool{
		strings.Repeat("a", 31):                       false,
		strings.Repeat("a", 32):                       true,
		strings.Repeat("a", 255):                      true,
		strings.Repeat("a", 256):                      false,
		strings.Repeat("a", 32) + " ":                 false,
		strings.Repeat("a", 32) + "\x00":              false,
		strings.Repeat("a", 32) + "\x7f":              false,
		"dGVzdA:APA91b-_~!" + strings.Repeat("Z", 20): true,
	} {
		if got := ValidToken(tok); got != want {
			t.Errorf("ValidToken(%q) = %v", tok, got)
		}
	}
}

func TestFrameEncoding(t *testing.T) {
	frame, err := encodeFrame(Message{
		ID:        "m1",
		Token:     tokenFor(1),
		Data:      map[string]string{"type": "verify_push_challenge", "challenge_sid": "YC1"},
		ExpiresAt: time.Date(2026, 3, 1, 12, 5, 0, 0, time.FixedZone("CET", 3600)),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"m1","data":{"challenge_sid":"YC1","type":"verify_push_challenge"},"expires_at":"2026-03-01T11:05:00Z"}`
	if string(frame) != want {
		t.Fatalf("frame\n got %s\nwant %s", frame, want)
	}

	// Fractions round up so the phone never sees a live message as expired.
	for in, want := range map[time.Time]string{
		time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC):      "2026-03-01T12:00:00Z",
		time.Date(2026, 3, 1, 12, 0, 0, 1, time.UTC):      "2026-03-01T12:00:01Z",
		time.Date(2026, 3, 1, 12, 0, 59, 999e6, time.UTC): "2026-03-01T12:01:00Z",
	} {
		if got := formatExpiry(in); got != want {
			t.Errorf("formatExpiry(%v) = %s, want %s", in, got, want)
		}
	}
}

// The expiry heap stays in step with the per-token lists through any mix
// of adds, acks, takes and sweeps: a sweep drops exactly the expired
// messages, and nothing else disappears.
func TestSweepDropsExactlyTheExpired(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	q := newQueues(8, 1<<20)
	base := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	now := base
	live := map[string]time.Time{} // id -> expiry, the model
	for i := 0; i < 5000; i++ {
		switch op := rng.IntN(10); {
		case op < 6:
			id := fmt.Sprint("m", i)
			token := fmt.Sprint("t", rng.IntN(20))
			exp := now.Add(time.Duration(1+rng.IntN(120)) * time.Second)
			added, drops := q.add(Message{ID: id, Token: token, ExpiresAt: exp}, nil, now)
			for _, d := range drops {
				delete(live, d.id)
			}
			if added {
				live[id] = exp
			}
		case op < 8:
			for id := range live {
				token := ""
				for tk, list := range q.byToken {
					for _, e := range list {
						if e.id == id {
							token = tk
						}
					}
				}
				if !q.ack(token, id) {
					t.Fatalf("step %d: %s is live but could not be acked", i, id)
				}
				delete(live, id)
				break
			}
		default:
			now = now.Add(time.Duration(rng.IntN(20)) * time.Second)
			for _, d := range q.sweep(now, nil) {
				if exp, ok := live[d.id]; !ok || now.Before(exp) {
					t.Fatalf("step %d: swept %s, expiring %v at %v", i, d.id, exp, now)
				}
				delete(live, d.id)
			}
			for id, exp := range live {
				if !now.Before(exp) {
					t.Fatalf("step %d: %s expired at %v and was kept at %v", i, id, exp, now)
				}
			}
		}
		if q.len() != len(live) || len(q.byExpiry) != len(live) {
			t.Fatalf("step %d: queued %d, heap %d, model %d", i, q.len(), len(q.byExpiry), len(live))
		}
	}
}
