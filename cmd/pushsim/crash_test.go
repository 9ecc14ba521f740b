package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pushsim/pushsim/device/pushclient"
	"github.com/pushsim/pushsim/device/verifyclient"
	"github.com/pushsim/pushsim/server"
	"github.com/pushsim/pushsim/server/webhook"

	_ "modernc.org/sqlite" // the driver server/store uses
)

// The crash test's knobs. Kills come after a random stretch of load drawn
// from [crashMinUp, crashMaxUp).
const (
	crashKills   = 20
	crashPhones  = 6
	crashMinUp   = 150 * time.Millisecond
	crashMaxUp   = 650 * time.Millisecond
	crashSeedEnv = "PUSHSIM_CRASH_SEED"
	// crashChildEnv carries the child's pushsim arguments, one per line.
	crashChildEnv = "PUSHSIM_CRASH_CHILD_ARGS"
)

// TestCrashServeChild is not a test of its own: it is the pushsim process
// TestCrashDurability starts, kills and starts again (this test binary run
// again with the arguments in crashChildEnv). Run directly it skips.
func TestCrashServeChild(t *testing.T) {
	args := os.Getenv(crashChildEnv)
	if args == "" {
		t.Skip("the server process of TestCrashDurability; it runs only as that test's child")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, strings.Split(args, "\n"), io.Discard, os.Stderr)
	stop()
	os.Exit(code)
}

// TestCrashDurability runs pushsim serve on disk as a child process and
// SIGKILLs it crashKills times at random moments (seeded; the seed is
// logged and PUSHSIM_CRASH_SEED repeats it) while phones create and
// approve challenges concurrently, starting it again on the same data
// each time. It checks:
//   - PRAGMA integrity_check is ok after every kill, read with the server
//     down;
//   - every create answered 201 is there, for its factor, and every
//     approval answered 200 is approved;
//   - every delivery of one webhook event, retries after a crash
//     included, carries one uuid, sent as I-Twilio-Idempotency-Token too,
//     and a valid X-Twilio-Signature;
//   - no event is delivered for an approval that is not in the database,
//     and every approved challenge's event has been accepted by the
//     receiver once the last server has run.
//
// Approvals are the SDK's (verifyclient.UpdateChallenge: GET, sign the
// listed fields, POST the JWS, GET); an approval counts as acknowledged
// when its POST was answered 200, whatever happened to the GET after it.
//
// Under -race the child is race-instrumented too: it starts slower and
// serves about a tenth of the load, and a race it detects makes its exit
// on the final SIGTERM non-zero, which fails the test.
func TestCrashDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("SIGKILLs a server 20 times: not in -short")
	}
	if runtime.GOOS == "windows" {
		t.Skip("the crash test kills with SIGKILL")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(crashSeedEnv); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("%s=%q: %v", crashSeedEnv, s, err)
		}
	}
	t.Logf("seed %d (repeat the kill times with %s=%d)", seed, crashSeedEnv, seed)
	rng := mathrand.New(mathrand.NewPCG(seed, 0x5eed))
	start := time.Now()

	hooks := newHookReceiver(t, seed)
	dir := filepath.Join(t.TempDir(), "data")
	srv := &crashServer{t: t, dir: dir, addr: fixedPortAddr(t)}
	srv.start()
	t.Cleanup(srv.cleanup)

	api := newCrashAPI(srv.base())
	svc := api.mustCreate(t, "/v2/Services", url.Values{"FriendlyName": {"crash test"}})
	api.mustCreate(t, "/v2/Services/"+svc+"/Webhooks", url.Values{
		"FriendlyName": {"crash receiver"}, "WebhookUrl": {hooks.url},
		"EventTypes": {"challenge.approved", "challenge.denied"},
	})
	led := newLedger()
	phones := make([]*crashPhone, crashPhones)
	for i := range phones {
		phones[i] = enrollCrashPhone(t, api, svc, fmt.Sprintf("crash-phone-%02d", i+1), led)
	}

	gate := newGate()
	gate.open()
	ctx, cancel := context.WithCancel(context.Background())
	var workers sync.WaitGroup
	for _, p := range phones {
		workers.Add(1)
		go func() {
			defer workers.Done()
			p.work(ctx, api, gate, led)
		}()
	}
	stopWorkers := func() {
		cancel()
		workers.Wait()
	}
	defer stopWorkers()

	for kill := 1; kill <= crashKills; kill++ {
		up := crashMinUp + time.Duration(rng.Int64N(int64(crashMaxUp-crashMinUp)))
		time.Sleep(up) // the load runs meanwhile: this is when the kill lands
		gate.close()
		srv.kill()
		srv.checkIntegrity(fmt.Sprintf("after kill %d", kill))
		c, a := led.counts()
		t.Logf("kill %2d after %v up: %d creates and %d approvals acknowledged so far", kill, up.Round(time.Millisecond), c, a)
		srv.start()
		gate.open()
	}
	stopWorkers()

	// Every acknowledged write, as acknowledged.
	created, approved, unknownSid := led.snapshot()
	if len(created) == 0 || len(approved) == 0 {
		t.Fatalf("the load acknowledged %d creates and %d approvals: nothing to check", len(created), len(approved))
	}
	final := map[string]string{}    // sid -> status, every challenge of the phones
	finalFor := map[string]string{} // sid -> the factor it is listed under
	for _, p := range phones {
		for sid, st := range api.listChallenges(t, p.entity(), p.cred.FactorSid) {
			final[sid], finalFor[sid] = st, p.cred.FactorSid
		}
	}
	for sid, factor := range created {
		st, ok := final[sid]
		switch {
		case !ok:
			t.Errorf("challenge %s was created (201) and is gone", sid)
		case finalFor[sid] != factor:
			t.Errorf("challenge %s was created for %s and is listed under %s", sid, factor, finalFor[sid])
		case approved[sid] && st != "approved":
			t.Errorf("challenge %s was approved (200) and is %s", sid, st)
		case st != "pending" && st != "approved":
			t.Errorf("challenge %s is %s", sid, st)
		}
	}
	for sid := range approved {
		if _, ok := created[sid]; !ok && final[sid] != "approved" {
			t.Errorf("challenge %s was approved (200) and is %q", sid, final[sid])
		}
	}
	var wantEvents []string
	for sid, st := range final {
		if st == "approved" {
			wantEvents = append(wantEvents, sid)
		}
	}

	// Every approved challenge's event, accepted by the receiver.
	hooks.waitAccepted(t, wantEvents, 30*time.Second)
	srv.stop()
	srv.checkIntegrity("after the final shutdown")

	sum := hooks.check(t, final)
	t.Logf("%d kills, %d integrity checks ok; acknowledged: %d creates (%d more answered 201 with an unreadable body), %d approvals; "+
		"%d challenges approved in all; webhooks: %d events, %d deliveries, %d repeated (%d retries of refused attempts, %d again after a 200: crashes); %v",
		crashKills, srv.checks, len(created), unknownSid, len(approved), len(wantEvents),
		sum.events, sum.deliveries, sum.duplicates, sum.afterRefusal, sum.afterCrash, time.Since(start).Round(time.Millisecond))
}

// fixedPortAddr is a free loopback address the server can bind again
// after every kill. Its port lies below the kernel's usual ephemeral range
// (32768 and up on Linux, 49152 and up elsewhere): an outgoing connection,
// the health probe's included, is never given it while the server is
// down, so neither can take the port nor connect to itself on it.
func fixedPortAddr(t *testing.T) string {
	t.Helper()
	var b [8]byte
	rand.Read(b[:])
	r := mathrand.New(mathrand.NewPCG(binary.BigEndian.Uint64(b[:]), 1))
	for range 100 {
		addr := "127.0.0.1:" + strconv.Itoa(20000+r.IntN(12000))
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			return addr
		}
	}
	t.Fatal("no free port from 20000 to 31999 on loopback")
	return ""
}

// crashServer is the pushsim serve child process on one data directory.
type crashServer struct {
	t      *testing.T
	dir    string
	addr   string
	cmd    *exec.Cmd
	exited chan struct{}
	stderr *lockedBuffer
	starts int
	checks int
}

func (s *crashServer) base() string { return "http://" + s.addr }

func (s *crashServer) start() {
	s.t.Helper()
	s.starts++
	args := []string{"serve", "--data", s.dir, "--addr", s.addr, "--log-level", "warn"}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashServeChild$")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PUSHSIM_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, crashChildEnv+"="+strings.Join(args, "\n"))
	s.stderr = &lockedBuffer{}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func() {
		cmd.Wait()
		close(s.exited)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-s.exited:
			s.t.Fatalf("server start %d exited: %v\n%s", s.starts, cmd.ProcessState, s.stderr)
		default:
		}
		resp, err := http.Get(s.base() + "/_pushsim/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("server start %d never became healthy\n%s", s.starts, s.stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// kill SIGKILLs the server and waits for it to be gone; it must not have
// exited on its own before.
func (s *crashServer) kill() {
	s.t.Helper()
	select {
	case <-s.exited:
		s.t.Fatalf("server start %d died by itself: %v\n%s", s.starts, s.cmd.ProcessState, s.stderr)
	default:
	}
	if err := s.cmd.Process.Kill(); err != nil {
		s.t.Fatal(err)
	}
	<-s.exited
	if ws, ok := s.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && (!ws.Signaled() || ws.Signal() != syscall.SIGKILL) {
		s.t.Fatalf("server start %d ended with %v, not SIGKILL\n%s", s.starts, s.cmd.ProcessState, s.stderr)
	}
}

// stop shuts the server down as Ctrl-C does; it must exit 0.
func (s *crashServer) stop() {
	s.t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
		s.t.Fatalf("server did not stop on SIGTERM\n%s", s.stderr)
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		s.t.Fatalf("server exited %d on SIGTERM\n%s", code, s.stderr)
	}
}

func (s *crashServer) cleanup() {
	if s.cmd == nil {
		return
	}
	select {
	case <-s.exited:
	default:
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// checkIntegrity runs PRAGMA integrity_check on the database, opened
// read-only while no server runs: nothing here may repair what the next
// server will find.
func (s *crashServer) checkIntegrity(when string) {
	s.t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(s.dir, "pushsim.db")+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		s.t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("PRAGMA integrity_check")
	if err != nil {
		s.t.Fatalf("integrity check %s: %v", when, err)
	}
	defer rows.Close()
	var result []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			s.t.Fatal(err)
		}
		result = append(result, line)
	}
	if err := rows.Err(); err != nil {
		s.t.Fatalf("integrity check %s: %v", when, err)
	}
	if !slices.Equal(result, []string{"ok"}) {
		s.t.Fatalf("integrity check %s: %q", when, result)
	}
	s.checks++
}

// lockedBuffer collects a child's stderr.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// gate is open while a server runs: workers wait at it instead of
// hammering a port nobody listens on.
type gate struct {
	mu sync.Mutex
	ch chan struct{}
}

func newGate() *gate { return &gate{ch: make(chan struct{})} }

func (g *gate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.ch:
	default:
		close(g.ch)
	}
}

func (g *gate) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.ch:
		g.ch = make(chan struct{})
	default:
	}
}

func (g *gate) wait(ctx context.Context) bool {
	g.mu.Lock()
	ch := g.ch
	g.mu.Unlock()
	select {
	case <-ch:
		return true
	case <-ctx.Done():
		return false
	}
}

// ledger is what the server acknowledged.
type ledger struct {
	mu         sync.Mutex
	created    map[string]string // sid -> factor, answered 201
	approved   map[string]bool   // answered 200
	unknownSid int               // 201 with a body that could not be read
}

func newLedger() *ledger {
	return &ledger{created: map[string]string{}, approved: map[string]bool{}}
}

func (l *ledger) create(sid, factor string) {
	l.mu.Lock()
	l.created[sid] = factor
	l.mu.Unlock()
}

func (l *ledger) approve(sid string) {
	l.mu.Lock()
	l.approved[sid] = true
	l.mu.Unlock()
}

func (l *ledger) counts() (int, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.created), len(l.approved)
}

func (l *ledger) snapshot() (map[string]string, map[string]bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.created, l.approved, l.unknownSid
}

// crashAPI makes the account's calls.
type crashAPI struct {
	base   string
	client *http.Client
}

func newCrashAPI(base string) *crashAPI {
	return &crashAPI{base: base, client: &http.Client{Timeout: 10 * time.Second}}
}

func (a *crashAPI) do(ctx context.Context, method, path string, form url.Values) (int, []byte, error) {
	var body io.Reader
	target := a.base + path
	if method == http.MethodPost {
		body = strings.NewReader(form.Encode())
	} else if form != nil {
		target += "?" + form.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(server.TestAccountSid, server.TestAuthToken)
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// mustCreate POSTs and returns the new resource's sid.
func (a *crashAPI) mustCreate(t *testing.T, path string, form url.Values) string {
	t.Helper()
	status, body, err := a.do(context.Background(), http.MethodPost, path, form)
	var r struct {
		Sid   string
		Token string
	}
	if err != nil || status != http.StatusCreated || json.Unmarshal(body, &r) != nil {
		t.Fatalf("POST %s: %d %v %s", path, status, err, body)
	}
	if r.Token != "" {
		return r.Token
	}
	return r.Sid
}

// listChallenges reads every challenge of a factor, page by page.
func (a *crashAPI) listChallenges(t *testing.T, entity, factorSid string) map[string]string {
	t.Helper()
	out := map[string]string{}
	path := entity + "/Challenges?" + url.Values{"FactorSid": {factorSid}, "PageSize": {"1000"}}.Encode()
	for path != "" {
		status, body, err := a.do(context.Background(), http.MethodGet, path, nil)
		var page struct {
			Challenges []struct {
				Sid       string `json:"sid"`
				Status    string `json:"status"`
				FactorSid string `json:"factor_sid"`
			}
			Meta struct {
				NextPageURL *string `json:"next_page_url"`
			}
		}
		if err != nil || status != http.StatusOK || json.Unmarshal(body, &page) != nil {
			t.Fatalf("list %s: %d %v %s", path, status, err, body)
		}
		for _, c := range page.Challenges {
			if c.FactorSid != factorSid {
				t.Errorf("%s listed under factor %s belongs to %s", c.Sid, factorSid, c.FactorSid)
			}
			out[c.Sid] = c.Status
		}
		path = ""
		if next := page.Meta.NextPageURL; next != nil && *next != "" {
			path = strings.TrimPrefix(*next, a.base)
		}
	}
	return out
}

// crashPhone is one enrolled phone and its worker's state.
type crashPhone struct {
	cred    verifyclient.Credentials
	client  *verifyclient.Client
	pending []string // created, not yet answered
	rng     *mathrand.Rand
}

func (p *crashPhone) entity() string {
	return "/v2/Services/" + p.cred.ServiceSid + "/Entities/" + p.cred.Identity
}

// enrollCrashPhone enrolls and verifies a phone the way the SDK does. Its
// client reports every POST answered 200 on a challenge to led.
func enrollCrashPhone(t *testing.T, api *crashAPI, svc, identity string, led *ledger) *crashPhone {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	secret := make([]byte, 24)
	rand.Read(secret)
	client, err := verifyclient.New(verifyclient.Config{
		BaseURL:    api.base + "/v2/",
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
		Observer: func(ex verifyclient.Exchange) {
			if ex.Method == http.MethodPost && ex.StatusCode == http.StatusOK {
				if _, sid, ok := strings.Cut(ex.URL, "/Challenges/"); ok {
					led.approve(sid)
				}
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	token := api.mustCreate(t, "/v2/Services/"+svc+"/AccessTokens", url.Values{"Identity": {identity}, "FactorType": {"push"}})
	f, err := client.CreateFactor(context.Background(), verifyclient.CreateFactorParams{
		ServiceSid: svc, Identity: identity, FriendlyName: identity, AccessToken: token,
		PushToken: pushclient.RegistrationToken(hex.EncodeToString(secret)), PublicKey: &key.PublicKey,
	})
	if err != nil {
		t.Fatalf("enroll %s: %v", identity, err)
	}
	p := &crashPhone{
		cred: verifyclient.Credentials{FactorSid: f.Sid, AccountSid: server.TestAccountSid, ServiceSid: svc,
			Identity: identity, CredentialSid: f.CredentialSid, Key: key},
		client: client,
		rng:    mathrand.New(mathrand.NewPCG(uint64(len(identity)), binary.BigEndian.Uint64(secret))),
	}
	if status, err := client.VerifyFactor(context.Background(), p.cred); err != nil || status != verifyclient.FactorVerified {
		t.Fatalf("verify %s: %s %v", identity, status, err)
	}
	return p
}

// work creates challenges for the phone and approves them, until ctx
// ends. Failures are expected (the server dies under it); what counts is
// what was answered 201 and 200.
func (p *crashPhone) work(ctx context.Context, api *crashAPI, g *gate, led *ledger) {
	for g.wait(ctx) {
		if len(p.pending) == 0 || (len(p.pending) < 2 && p.rng.IntN(3) == 0) {
			p.create(ctx, api, led)
			continue
		}
		sid := p.pending[0]
		_, err := p.client.UpdateChallenge(ctx, p.cred, sid, "approved")
		switch {
		case err == nil, errors.Is(err, verifyclient.ErrAlreadyUpdatedChallenge), errors.Is(err, verifyclient.ErrExpiredChallenge):
			p.pending = p.pending[1:]
		default:
			pause(ctx)
		}
	}
}

func (p *crashPhone) create(ctx context.Context, api *crashAPI, led *ledger) {
	status, body, err := api.do(ctx, http.MethodPost, p.entity()+"/Challenges", url.Values{
		"FactorSid": {p.cred.FactorSid}, "Details.Message": {"Sign in to the crash test?"},
	})
	switch {
	case status == http.StatusCreated:
		var c struct{ Sid string }
		if err != nil || json.Unmarshal(body, &c) != nil || c.Sid == "" {
			led.mu.Lock()
			led.unknownSid++
			led.mu.Unlock()
			return
		}
		led.create(c.Sid, p.cred.FactorSid)
		p.pending = append(p.pending, c.Sid)
	case status == http.StatusTooManyRequests:
		// Pending challenges whose 201 was lost in a kill count towards the
		// cap: find them and answer them.
		_, body, err := api.do(ctx, http.MethodGet, p.entity()+"/Challenges", url.Values{
			"FactorSid": {p.cred.FactorSid}, "Status": {"pending"}, "PageSize": {"20"},
		})
		var page struct{ Challenges []struct{ Sid string } }
		if err == nil && json.Unmarshal(body, &page) == nil {
			p.pending = p.pending[:0]
			for _, c := range page.Challenges {
				p.pending = append(p.pending, c.Sid)
			}
		}
	default:
		pause(ctx)
	}
}

// pause is the back-off after a failed call, cut short by ctx.
func pause(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Millisecond):
	}
}

// hookReceiver is the webhook's receiver: it records every delivery and
// refuses the first attempt of about one event in eight (chosen from the
// seed), so that retries happen without crashes too.
type hookReceiver struct {
	url  string
	seed uint64

	mu         sync.Mutex
	deliveries []hookDelivery
	attempts   map[string]int // by uuid
	changed    chan struct{}
}

type hookDelivery struct {
	token, uuid, typ, challenge string
	validSig                    bool
	status                      int
	attempt                     int // 1 for the first delivery of its uuid
}

func newHookReceiver(t *testing.T, seed uint64) *hookReceiver {
	h := &hookReceiver{seed: seed, attempts: map[string]int{}, changed: make(chan struct{}, 1)}
	srv := httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(srv.Close)
	h.url = srv.URL + "/hook"
	return h
}

func (h *hookReceiver) refuseFirst(uuid string) bool {
	f := fnv.New64a()
	binary.Write(f, binary.BigEndian, h.seed)
	f.Write([]byte(uuid))
	return f.Sum64()%8 == 0
}

func (h *hookReceiver) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	d := hookDelivery{
		token: r.Header.Get("I-Twilio-Idempotency-Token"), uuid: r.PostForm.Get("uuid"),
		typ: r.PostForm.Get("type"), challenge: r.PostForm.Get("challenge_sid"),
		validSig: r.Header.Get("X-Twilio-Signature") == webhook.Sign(server.TestAuthToken, h.url, r.PostForm),
		status:   http.StatusOK,
	}
	h.mu.Lock()
	h.attempts[d.uuid]++
	d.attempt = h.attempts[d.uuid]
	if d.attempt == 1 && h.refuseFirst(d.uuid) {
		d.status = http.StatusServiceUnavailable
	}
	h.deliveries = append(h.deliveries, d)
	h.mu.Unlock()
	select {
	case h.changed <- struct{}{}:
	default:
	}
	// A receiver that takes a moment widens the window in which a kill
	// finds a delivery made but not yet recorded.
	time.Sleep(2 * time.Millisecond)
	w.WriteHeader(d.status)
}

// waitAccepted waits until each challenge's approved event has been
// answered 2xx at least once.
func (h *hookReceiver) waitAccepted(t *testing.T, sids []string, within time.Duration) {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		h.mu.Lock()
		accepted := map[string]bool{}
		for _, d := range h.deliveries {
			if d.status == http.StatusOK && d.typ == "challenge.approved" {
				accepted[d.challenge] = true
			}
		}
		h.mu.Unlock()
		var missing []string
		for _, sid := range sids {
			if !accepted[sid] {
				missing = append(missing, sid)
			}
		}
		if len(missing) == 0 {
			return
		}
		select {
		case <-h.changed:
		case <-deadline.C:
			t.Fatalf("%d of %d approved challenges never had their webhook accepted, e.g. %q", len(missing), len(sids), missing[:min(len(missing), 5)])
		}
	}
}

type hookSummary struct {
	events, deliveries, duplicates, afterRefusal, afterCrash int
}

// check asserts what every delivery carries and counts them: one uuid per
// event on every delivery, the same as the idempotency token, a valid
// signature, and no event for an approval the database does not hold.
func (h *hookReceiver) check(t *testing.T, final map[string]string) hookSummary {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	var sum hookSummary
	uuidOf := map[string]string{}  // event (type + challenge) -> uuid
	eventOf := map[string]string{} // uuid -> event
	accepted := map[string]bool{}  // uuid -> the receiver answered 200 before
	for _, d := range h.deliveries {
		sum.deliveries++
		event := d.typ + " " + d.challenge
		switch {
		case d.uuid == "" || d.token != d.uuid:
			t.Errorf("delivery of %s: uuid %q, I-Twilio-Idempotency-Token %q", event, d.uuid, d.token)
		case !d.validSig:
			t.Errorf("delivery of %s (uuid %s): X-Twilio-Signature does not verify", event, d.uuid)
		}
		if u, ok := uuidOf[event]; ok && u != d.uuid {
			t.Errorf("%s delivered under two uuids: %s and %s", event, u, d.uuid)
		}
		if e, ok := eventOf[d.uuid]; ok && e != event {
			t.Errorf("uuid %s names two events: %s and %s", d.uuid, e, event)
		}
		if _, seen := uuidOf[event]; !seen {
			sum.events++
			uuidOf[event], eventOf[d.uuid] = d.uuid, event
		} else {
			// Again after a 200: the server died before it wrote down the
			// success. Again after refusals only: an ordinary retry.
			sum.duplicates++
			if accepted[d.uuid] {
				sum.afterCrash++
			} else {
				sum.afterRefusal++
			}
		}
		if d.status == http.StatusOK {
			accepted[d.uuid] = true
		}
		if d.typ != "challenge.approved" || final[d.challenge] != "approved" {
			t.Errorf("delivered %s, but the challenge is %q", event, final[d.challenge])
		}
	}
	return sum
}
