package push

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/pushsim/pushsim/device/pushclient"
)

// TestChaosEveryMessageShownExactlyOnce cuts sockets from the server side at
// random while messages are being sent. Redelivery must bring every message
// to its phone, and de-duplication must show it exactly once.
func TestChaosEveryMessageShownExactlyOnce(t *testing.T) {
	const (
		phones   = 50
		messages = 200
	)
	base := runtime.NumGoroutine()
	tg := startGateway(t, Config{MaxConnsPerAddr: phones})
	rng := rand.New(rand.NewPCG(2026, 3))

	var mu sync.Mutex
	shown := map[string][]int{} // message id -> phones that showed it
	ps := make([]*phone, phones)
	for i := range ps {
		ps[i] = startPhone(t, tg.url, secretFor(i), phoneOptions{
			seed: uint64(i),
			onMsg: func(m pushclient.Message) {
				mu.Lock()
				shown[m.ID] = append(shown[m.ID], i)
				mu.Unlock()
			},
		})
	}
	waitFor(t, "all phones connected", func() bool { return tg.Stats().Connected == phones })

	target := make(map[string]int, messages)
	kills := 0
	for n := range messages {
		id := fmt.Sprintf("m%03d", n)
		to := rng.IntN(phones)
		target[id] = to
		if err := tg.Send(Message{ID: id, Token: tokenFor(to), Data: challengeData(id), ExpiresAt: time.Now().Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		// Cut about one socket in three sends, sometimes the very one just
		// written to, so frames are lost in flight and acks never arrive.
		if rng.IntN(3) == 0 {
			victim := rng.IntN(phones)
			if rng.IntN(2) == 0 {
				victim = to
			}
			if tg.kill(tokenFor(victim)) {
				kills++
			}
		}
		if n%10 == 0 {
			time.Sleep(time.Millisecond) // let reconnects interleave with sends
		}
	}

	waitFor(t, "every message acked", func() bool { return tg.Stats().Acked == messages })
	mu.Lock()
	for id, to := range target {
		if got := shown[id]; len(got) != 1 || got[0] != to {
			t.Errorf("%s shown by phones %v, want exactly [%d]", id, got, to)
		}
	}
	if len(shown) != messages {
		t.Errorf("%d distinct messages shown, want %d", len(shown), messages)
	}
	mu.Unlock()
	for id := range target {
		if n := tg.outs.ackCount(id); n != 1 {
			t.Errorf("OnAck for %s ran %d times", id, n)
		}
	}
	s := tg.Stats()
	t.Logf("%d sockets cut, %d frames written for %d messages, %d dropped", kills, s.Sent, messages, s.Dropped)
	if s.Dropped != 0 || s.Queued != 0 {
		t.Errorf("stats %+v, want nothing dropped or left queued", s)
	}

	for _, p := range ps {
		p.stop()
	}
	tg.stop()
	waitGoroutines(t, base)
}
