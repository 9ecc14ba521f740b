package push

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/pushsim/pushsim/device/pushclient"
)

// phone is a pushclient.Client running against a test gateway, recording
// what the app would have been shown.
type phone struct {
	client *pushclient.Client
	cancel context.CancelFunc
	done   chan error

	mu       sync.Mutex
	shown    []pushclient.Message
	connects int
}

type phoneOptions struct {
	now   func() time.Time
	seed  uint64
	onMsg func(pushclient.Message) // runs before the message is recorded
}

func startPhone(t testing.TB, url, secret string, opt phoneOptions) *phone {
	t.Helper()
	p := &phone{done: make(chan error, 1)}
	c, err := pushclient.New(pushclient.Config{
		URL:    url,
		Secret: secret,
		OnMessage: func(m pushclient.Message) {
			if opt.onMsg != nil {
				opt.onMsg(m)
			}
			p.mu.Lock()
			p.shown = append(p.shown, m)
			p.mu.Unlock()
		},
		OnConnect: func() {
			p.mu.Lock()
			p.connects++
			p.mu.Unlock()
		},
		Backoff: pushclient.Backoff{Min: time.Millisecond, Max: 20 * time.Millisecond},
		Rand:    rand.New(rand.NewPCG(opt.seed, 1)),
		Now:     opt.now,
	})
	if err != nil {
		t.Fatal(err)
	}
	p.client = c
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go func() { p.done <- c.Run(ctx) }()
	t.Cleanup(p.stop)
	return p
}

func (p *phone) stop() {
	p.cancel()
	<-p.done
	p.done <- context.Canceled // let a second stop return too
}

func (p *phone) shownIDs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	ids := make([]string, len(p.shown))
	for i, m := range p.shown {
		ids[i] = m.ID
	}
	return ids
}

func (p *phone) connectCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.connects
}
