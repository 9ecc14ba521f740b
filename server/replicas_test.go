package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/pushsim/pushsim/device/pushclient"
	"github.com/pushsim/pushsim/server"
	"github.com/pushsim/pushsim/server/store"
	"github.com/pushsim/pushsim/server/store/storetest"
)

// TestThreeReplicasShareOneDatabase runs three servers on one PostgreSQL
// schema, a phone connected to one of them through a front that, like a
// load balancer, forwards to the first that answers, and a webhook
// receiver counting deliveries by event uuid:
//
//   - a challenge created through A reaches the phone connected to C;
//   - approve and deny sent at once through B and C: one succeeds, the
//     other is 60322;
//   - with C closed, the phone reconnects through the front to B and
//     receives the challenge created while it was away;
//   - every webhook event, whichever replica committed it and whichever
//     delivered it, reaches the receiver once.
func TestThreeReplicasShareOneDatabase(t *testing.T) {
	db := storetest.PostgresURL(t)
	clock := newClock()
	var replicas []*harness
	for range 3 {
		h := newHarnessWith(t, server.Config{Database: db}, clock)
		h.run()
		replicas = append(replicas, h)
	}
	a, b, c := replicas[0], replicas[1], replicas[2]

	hooks := newEventCounter(t)
	svc, alice := setup(a, aliceID)
	// An access token minted by A enrolls a phone through B, which
	// verifies it through C: the sealing key is shared through the
	// database, not held by a replica.
	bob := newPhone(b, svc, "bob-0001")
	if status, body := bob.enroll(a.accessToken(svc, "bob-0001")); status != http.StatusCreated {
		t.Fatalf("enroll through B with A's access token: %d %s", status, body)
	}
	bob.h = c
	if status, body := bob.verifyFactor(); status != http.StatusOK {
		t.Fatalf("verify through C: %d %s", status, body)
	}

	a.account(http.MethodPost, "/v2/Services/"+svc+"/Webhooks", url.Values{
		"FriendlyName": {"audit"}, "EventTypes": {"*"}, "WebhookUrl": {hooks.url}}, http.StatusCreated, nil)
	through := func(h *harness) *phone { p := *alice; p.h = h; return &p }

	front := newFront(t, c.host(), b.host())
	push := connectPushAt(t, "ws://"+front.addr()+"/push/connect", alice.pushSecret(), clock)
	waitUntil(t, "the phone connected to C", func() bool { return c.srv.PushStats().Connected == 1 })

	// A challenge created through A reaches the phone on C.
	first := a.challenge(alice, nil)
	if m, ok := push.next(t, 10*time.Second); !ok || m.Data["challenge_sid"] != first {
		t.Fatalf("the phone on C got %+v (ok %v), want the push of %s created through A", m.Data, ok, first)
	}

	// Approve through B and deny through C at once: one answer wins.
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	bodies := make([][]byte, 2)
	start := make(chan struct{})
	for i, answer := range []struct {
		via    *harness
		status string
	}{{b, "approved"}, {c, "denied"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses[i], bodies[i] = through(answer.via).answer(first, answer.status, nil)
		}()
	}
	close(start)
	wg.Wait()
	won, lost := 0, 1
	if statuses[0] != http.StatusOK {
		won, lost = 1, 0
	}
	if statuses[won] != http.StatusOK {
		t.Fatalf("neither answer succeeded: %d %s; %d %s", statuses[0], bodies[0], statuses[1], bodies[1])
	}
	expectError(t, statuses[lost], bodies[lost], http.StatusForbidden, 60322)

	// More events, each committed through one replica and answered through
	// another, so that every replica's dispatcher finds some due.
	for i := range 6 {
		p := through(replicas[(i+1)%3])
		sid := replicas[i%3].challenge(p, nil)
		if m, ok := push.next(t, 10*time.Second); !ok || m.Data["challenge_sid"] != sid {
			t.Fatalf("challenge %d: the phone got %+v (ok %v), want the push of %s", i, m.Data, ok, sid)
		}
		if status, body := p.answer(sid, "approved", nil); status != http.StatusOK {
			t.Fatalf("answer %s: %d %s", sid, status, body)
		}
	}

	// A replica that closes cuts its webhook attempts short and gives them
	// back, to be made again under the same uuid: let those in flight
	// land first, since this test counts deliveries, not events.
	waitUntil(t, "the events so far delivered", func() bool { return outboxDone(t, a, hooks.url) == 1+6 })

	// C goes away while the front lets nobody through; a challenge is
	// created meanwhile; the phone then reconnects, to B, and gets it.
	front.hold()
	c.close()
	waitUntil(t, "the phone to notice C closed", func() bool { return !push.client.Connected() })
	missed := a.challenge(alice, nil)
	front.release()
	if m, ok := push.next(t, 10*time.Second); !ok || m.Data["challenge_sid"] != missed {
		t.Fatalf("after C closed the phone got %+v (ok %v), want the push of %s", m.Data, ok, missed)
	}
	if got := b.srv.PushStats().Connected; got != 1 {
		t.Errorf("B holds %d phones, want the one that was on C", got)
	}
	if status, body := through(b).answer(missed, "denied", nil); status != http.StatusOK {
		t.Fatalf("answer %s: %d %s", missed, status, body)
	}

	// Once every event for the receiver is delivered and the replicas are
	// closed (which waits for their attempts in flight), nothing more can
	// arrive: each event must have arrived once.
	const events = 1 + 6 + 1
	waitUntil(t, "every event delivered", func() bool { return outboxDone(t, a, hooks.url) == events })
	for _, h := range replicas {
		h.close()
	}
	hooks.checkOnce(t, events)
}

// outboxDone counts the webhook deliveries to target that are done.
func outboxDone(t *testing.T, h *harness, target string) int {
	t.Helper()
	var n int
	err := h.srv.Store().Read(context.Background(), func(tx store.Tx) error {
		items, err := tx.RecentOutbox(store.OutboxWebhook, 1000)
		for _, o := range items {
			if o.Target == target && o.State == store.OutboxDone {
				n++
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// eventCounter is a webhook receiver counting deliveries by event uuid.
type eventCounter struct {
	url string
	mu  sync.Mutex
	got map[string]int
}

func newEventCounter(t *testing.T) *eventCounter {
	e := &eventCounter{got: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		e.mu.Lock()
		e.got[r.PostForm.Get("uuid")]++
		e.mu.Unlock()
		// Answering slower than the dispatchers poll (each second) leaves
		// every delivery due in the table's eyes while it is attempted, but
		// for its claim: without one another replica would attempt it too.
		select {
		case <-time.After(1500 * time.Millisecond):
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	e.url = srv.URL + "/events"
	return e
}

func (e *eventCounter) checkOnce(t *testing.T, events int) {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.got) != events {
		t.Errorf("%d events delivered, want %d", len(e.got), events)
	}
	for uuid, n := range e.got {
		if n != 1 {
			t.Errorf("event %s delivered %d times", uuid, n)
		}
	}
}

// pushAt is a phone's push connection to a given address.
type pushAt struct {
	*receiver
	client *pushclient.Client
}

func connectPushAt(t *testing.T, wsURL, secret string, clock *testClock) pushAt {
	t.Helper()
	r := &receiver{seen: make(chan pushclient.Message, 100)}
	c, _ := startPushClient(t, pushclient.Config{URL: wsURL, Secret: secret, Now: clock.Now, OnMessage: r.add})
	return pushAt{receiver: r, client: c}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// front plays a load balancer without sticky sessions: each connection
// goes to the first of its backends that accepts it. While held it
// turns connections away, so a test can choose when a phone comes back.
type front struct {
	ln       net.Listener
	backends []string
	mu       sync.Mutex
	held     bool
	conns    sync.WaitGroup
}

func newFront(t *testing.T, backends ...string) *front {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &front{ln: ln, backends: backends}
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			f.conns.Add(1)
			go func() { defer f.conns.Done(); f.forward(conn) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-accepted; f.conns.Wait() })
	return f
}

func (f *front) addr() string { return f.ln.Addr().String() }
func (f *front) hold()        { f.mu.Lock(); f.held = true; f.mu.Unlock() }
func (f *front) release()     { f.mu.Lock(); f.held = false; f.mu.Unlock() }

func (f *front) forward(conn net.Conn) {
	defer conn.Close()
	f.mu.Lock()
	held := f.held
	f.mu.Unlock()
	if held {
		return
	}
	var backend net.Conn
	for _, addr := range f.backends {
		var err error
		if backend, err = net.Dial("tcp", addr); err == nil {
			break
		}
	}
	if backend == nil {
		return
	}
	defer backend.Close()
	done := make(chan struct{})
	go func() {
		io.Copy(backend, conn)
		backend.(*net.TCPConn).CloseWrite()
		close(done)
	}()
	io.Copy(conn, backend)
	conn.(*net.TCPConn).CloseWrite()
	<-done
}
