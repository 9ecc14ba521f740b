package bench

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pushsim/pushsim/device/pushclient"
	"github.com/pushsim/pushsim/device/verifyclient"
)

// lab is the bench's side: the account's HTTP client, the service, and
// the enrolled phones.
type lab struct {
	// bases are the servers' base URLs: one, or several replicas sharing a
	// database, which requests and phones are spread over in turn.
	bases      []string
	next       atomic.Uint64
	accountSid string
	authToken  string
	http       *http.Client
	service    string
	phones     []*benchPhone
	pool       []pending // created, not yet approved
	pushes     []*pushclient.Client
	stopPushes context.CancelFunc
	pushesDone sync.WaitGroup
}

type benchPhone struct {
	cred   verifyclient.Credentials
	secret string
	// timed is the challenge being timed to this phone, if any.
	timed atomic.Pointer[timedPush]
}

// timedPush is a challenge on its way to a phone: its message tells its
// push apart from pushes queued for the phone earlier.
type timedPush struct {
	message string
	sent    time.Time
}

func newLab(ctx context.Context, base string, cfg Config) (*lab, error) {
	l := newPeerLab(base, cfg)
	l.phones = nil
	var svc struct{ Sid string }
	if err := l.account(ctx, http.MethodPost, "/v2/Services", url.Values{"FriendlyName": {"pushsim bench"}}, &svc); err != nil {
		return nil, fmt.Errorf("create the bench's service: %w", err)
	}
	l.service = svc.Sid
	return l, nil
}

// newPeerLab is a lab whose phones are made up: well-formed SIDs that only
// a mock answers for.
func newPeerLab(base string, cfg Config) *lab {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 4 * cfg.Clients
	var bases []string
	for _, b := range strings.Split(base, ",") {
		bases = append(bases, strings.TrimRight(strings.TrimSpace(b), "/"))
	}
	l := &lab{bases: bases, accountSid: cfg.AccountSid, authToken: cfg.AuthToken,
		http: &http.Client{Transport: newLeanTransport(transport), Timeout: 30 * time.Second}, service: "VA" + strings.Repeat("0", 32)}
	for i := 0; i < cfg.Phones; i++ {
		l.phones = append(l.phones, &benchPhone{cred: verifyclient.Credentials{
			Identity: fmt.Sprintf("bench-%06d", i), FactorSid: fmt.Sprintf("YF%032x", i), ServiceSid: l.service}})
	}
	return l
}

// account calls the Verify API as the account.
func (l *lab) account(ctx context.Context, method, path string, form url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, l.base()+path, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(l.accountSid, l.authToken)
	resp, err := l.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return &errStatus{status: resp.StatusCode, body: strings.TrimSpace(string(body))}
	}
	if out != nil {
		return json.Unmarshal(body, out)
	}
	return nil
}

// base is the next server in turn.
func (l *lab) base() string { return l.bases[int(l.next.Add(1)%uint64(len(l.bases)))] }

func (l *lab) verifyClient(observe func(verifyclient.Exchange)) (*verifyclient.Client, error) {
	return verifyclient.New(verifyclient.Config{BaseURL: l.base() + "/v2/", App: verifyclient.DefaultApp("bench"), HTTPClient: l.http, Observer: observe})
}

// enroll enrolls n phones as the SDK does: an access token from the
// account, the factor created with it, then verified with the phone's key.
func (l *lab) enroll(ctx context.Context, n, workers int) error {
	client, err := l.verifyClient(nil)
	if err != nil {
		return err
	}
	l.phones = make([]*benchPhone, n)
	return parallel(ctx, n, workers, func(i int) error {
		identity := fmt.Sprintf("bench-%06d", i)
		var at struct{ Token string }
		if err := l.account(ctx, http.MethodPost, "/v2/Services/"+l.service+"/AccessTokens",
			url.Values{"Identity": {identity}, "FactorType": {"push"}}, &at); err != nil {
			return fmt.Errorf("access token: %w", err)
		}
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		secret := make([]byte, 32)
		rand.Read(secret)
		p := &benchPhone{secret: hex.EncodeToString(secret)}
		f, err := client.CreateFactor(ctx, verifyclient.CreateFactorParams{
			ServiceSid: l.service, Identity: identity, FriendlyName: identity, AccessToken: at.Token,
			PushToken: pushclient.RegistrationToken(p.secret), PublicKey: &key.PublicKey,
		})
		if err != nil {
			return fmt.Errorf("create factor: %w", err)
		}
		p.cred = verifyclient.Credentials{FactorSid: f.Sid, AccountSid: f.AccountSid, ServiceSid: l.service,
			Identity: identity, CredentialSid: f.CredentialSid, Key: key}
		if _, err := client.VerifyFactor(ctx, p.cred); err != nil {
			return fmt.Errorf("verify factor: %w", err)
		}
		l.phones[i] = p
		return nil
	})
}

// createChallenge creates a challenge for p as the account; it returns
// the challenge's SID.
func (l *lab) createChallenge(ctx context.Context, p *benchPhone, message string) (string, error) {
	var c struct{ Sid string }
	err := l.account(ctx, http.MethodPost, "/v2/Services/"+l.service+"/Entities/"+p.cred.Identity+"/Challenges",
		url.Values{"FactorSid": {p.cred.FactorSid}, "Details.Message": {message}}, &c)
	return c.Sid, err
}

type pending struct {
	phone *benchPhone
	sid   string
}

// loadTestMessage is the message of every challenge the bench creates
// in its throughput phases.
const loadTestMessage = "Sign in to the load test?"

// creates runs cfg.Clients clients creating challenges flat out for
// cfg.Duration; the challenges wait in l's pool for the approvals.
func (l *lab) creates(ctx context.Context, cfg Config, res *Result) error {
	if len(l.phones) == 0 {
		return errNoPhones
	}
	var next atomic.Int64
	lat := make([][]time.Duration, cfg.Clients)
	made := make([][]pending, cfg.Clients)
	var refused refusals
	deadline := time.Now().Add(cfg.Duration)
	start := time.Now()
	err := parallel(ctx, cfg.Clients, cfg.Clients, func(w int) error {
		for time.Now().Before(deadline) {
			p := l.phones[int(next.Add(1))%len(l.phones)]
			t := time.Now()
			sid, err := l.createChallenge(ctx, p, loadTestMessage)
			if err != nil {
				if refused.add(err) {
					continue
				}
				return err
			}
			lat[w] = append(lat[w], time.Since(t))
			made[w] = append(made[w], pending{p, sid})
		}
		return nil
	})
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	var all []time.Duration
	for w := range lat {
		all = append(all, lat[w]...)
		l.pool = append(l.pool, made[w]...)
	}
	res.CreateRefused = refused.report(cfg.Progress)
	res.Creates = len(all)
	res.CreatesPerS = float64(len(all)) / elapsed.Seconds()
	p := percentiles(all)
	res.CreateP50Ms, res.CreateP99Ms = p.P50Ms, p.P99Ms
	return nil
}

// approvals answers the pooled challenges as the SDK does, from
// cfg.Clients clients for cfg.Duration, timing each of its three requests.
func (l *lab) approvals(ctx context.Context, cfg Config, res *Result) error {
	if len(l.pool) == 0 {
		return fmt.Errorf("bench: no challenge was created to approve")
	}
	// Spread the pool so that no two clients answer one phone's
	// challenges in lockstep.
	var next atomic.Int64
	steps := []string{"get", "answer", "get_after"}
	type worker struct {
		step  int
		steps map[string][]time.Duration
		whole []time.Duration
		fail  int
	}
	workers := make([]*worker, cfg.Clients)
	deadline := time.Now().Add(cfg.Duration)
	start := time.Now()
	err := parallel(ctx, cfg.Clients, cfg.Clients, func(w int) error {
		wk := &worker{steps: map[string][]time.Duration{}}
		workers[w] = wk
		client, err := l.verifyClient(func(e verifyclient.Exchange) {
			if wk.step < len(steps) {
				wk.steps[steps[wk.step]] = append(wk.steps[steps[wk.step]], e.Duration)
			}
			wk.step++
		})
		if err != nil {
			return err
		}
		for time.Now().Before(deadline) {
			i := int(next.Add(1)) - 1
			if i >= len(l.pool) {
				return nil
			}
			c := l.pool[i]
			wk.step = 0
			t := time.Now()
			if _, err := client.UpdateChallenge(ctx, c.phone.cred, c.sid, verifyclient.ChallengeApproved); err != nil {
				wk.fail++
				continue
			}
			wk.whole = append(wk.whole, time.Since(t))
		}
		return nil
	})
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	var whole []time.Duration
	bySteps := map[string][]time.Duration{}
	for _, wk := range workers {
		whole = append(whole, wk.whole...)
		res.ApprovalFailed += wk.fail
		for k, v := range wk.steps {
			bySteps[k] = append(bySteps[k], v...)
		}
	}
	res.Approvals = len(whole)
	res.ApprovalsPerS = float64(len(whole)) / elapsed.Seconds()
	p := percentiles(whole)
	res.ApprovalP50Ms, res.ApprovalP99Ms = p.P50Ms, p.P99Ms
	res.ApprovalSteps = map[string]Latency{}
	for k, v := range bySteps {
		res.ApprovalSteps[k] = percentiles(v)
	}
	return nil
}

// createToPhone connects every phone's push socket, then creates
// challenges at cfg.Rate for cfg.Duration, round robin over the phones,
// and times each from the create request to the push on the phone.
func (l *lab) createToPhone(ctx context.Context, cfg Config, res *Result) error {
	var mu sync.Mutex
	var trips []time.Duration
	var arrived atomic.Int64 // every push, timed or not
	connected := make(chan struct{}, len(l.phones))
	pushCtx, stop := context.WithCancel(ctx)
	l.stopPushes = stop
	for i, p := range l.phones {
		push, err := pushURL(l.bases[i%len(l.bases)])
		if err != nil {
			return err
		}
		var once sync.Once
		c, err := pushclient.New(pushclient.Config{
			URL: push, Secret: p.secret,
			OnConnect: func() { once.Do(func() { connected <- struct{}{} }) },
			OnMessage: func(m pushclient.Message) {
				arrived.Add(1)
				t := p.timed.Load()
				if t == nil || m.Data["message"] != t.message || !p.timed.CompareAndSwap(t, nil) {
					return // queued for the phone before the timing began
				}
				d := time.Since(t.sent)
				mu.Lock()
				trips = append(trips, d)
				mu.Unlock()
			},
		})
		if err != nil {
			return err
		}
		l.pushes = append(l.pushes, c)
		l.pushesDone.Add(1)
		go func() { defer l.pushesDone.Done(); c.Run(pushCtx) }()
	}
	for range l.phones {
		select {
		case <-connected:
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(30 * time.Second):
			return fmt.Errorf("bench: phones' push sockets did not all connect within 30s")
		}
	}
	// The pushes queued for the phones while they were away (the creates
	// phase) arrive now; timing behind that backlog would measure the
	// backlog. Wait until a second passes without a push, then for the
	// server to have written their acks.
	for last, quiet := arrived.Load(), time.Now(); time.Since(quiet) < time.Second; {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if n := arrived.Load(); n != last {
			last, quiet = n, time.Now()
		}
	}
	if err := l.waitBacklogAcked(ctx, cfg.Progress); err != nil {
		return err
	}

	interval := time.Second / time.Duration(cfg.Rate)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	deadline := time.Now().Add(cfg.Duration)
	sent := 0
	var wg sync.WaitGroup
	var refused refusals
	var broken atomic.Pointer[error]
	for i := 0; time.Now().Before(deadline); i++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		p := l.phones[i%len(l.phones)]
		if p.timed.Load() != nil {
			continue // its previous push has not arrived yet
		}
		t := &timedPush{message: fmt.Sprintf("Timed sign-in %d", i), sent: time.Now()}
		p.timed.Store(t)
		sent++
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := l.createChallenge(ctx, p, t.message); err != nil {
				p.timed.CompareAndSwap(t, nil)
				if !refused.add(err) {
					broken.CompareAndSwap(nil, &err)
				}
			}
		}()
	}
	wg.Wait()
	if err := broken.Load(); err != nil {
		return *err
	}
	// Wait for the last pushes, briefly: a push still missing after a
	// second is lost, and reported as such.
	for wait := time.Now().Add(time.Second); time.Now().Before(wait); time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(trips)
		mu.Unlock()
		if n >= sent-int(refused.n.Load()) {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	res.CreateToPhoneRate = cfg.Rate
	res.CreateToPhoneRefused = refused.report(cfg.Progress)
	res.CreateToPhoneLost = sent - int(refused.n.Load()) - len(trips)
	p := percentiles(trips)
	res.CreateToPhoneP50Ms, res.CreateToPhoneP99Ms = p.P50Ms, p.P99Ms
	return nil
}

// waitBacklogAcked waits until the server has recorded the phones' acks of
// the backlog: it writes them after they arrive, thousands at the start of
// this phase, and timing while it writes them would time that instead of
// the trip. The push log lists the newest pushes first and a phone is
// offered its pending pushes oldest first, so once the newest are acked the
// backlog is. A server without the push log (not pushsim) is not waited for.
func (l *lab) waitBacklogAcked(ctx context.Context, progress io.Writer) error {
	deadline := time.Now().Add(time.Minute)
	for {
		var log struct {
			Pushes []struct {
				State string `json:"state"`
			} `json:"pushes"`
		}
		err := l.account(ctx, http.MethodGet, "/_pushsim/pushes?limit=1000", nil, &log)
		if _, ok := err.(*errStatus); ok {
			return nil
		}
		if err != nil {
			return err
		}
		pending := 0
		for _, p := range log.Pushes {
			if p.State == "pending" {
				pending++
			}
		}
		if pending == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(progress, "  %d of the newest pushes still not acked after a minute; timing anyway\n", pending)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// refusals counts the creates a server answered with an error status, and
// keeps the first answer: it says why (the cap on pending challenges, a
// fault), which a bare count does not.
type refusals struct {
	n     atomic.Int64
	first atomic.Pointer[errStatus]
}

// add counts err if it is a refusal, and says whether it was.
func (r *refusals) add(err error) bool {
	refusal, ok := err.(*errStatus)
	if ok {
		r.n.Add(1)
		r.first.CompareAndSwap(nil, refusal)
	}
	return ok
}

// report writes the count and the first refusal to progress, and returns
// the count.
func (r *refusals) report(progress io.Writer) int {
	first := r.first.Load()
	if first == nil {
		return 0
	}
	fmt.Fprintf(progress, "  %d creates refused; the first: %v\n", r.n.Load(), first)
	if first.status == http.StatusTooManyRequests {
		fmt.Fprintf(progress, "  (start the server with --max-pending-per-factor 0 to lift its cap on pending challenges)\n")
	}
	return int(r.n.Load())
}

func (l *lab) close() {
	if l.stopPushes != nil {
		l.stopPushes()
		l.pushesDone.Wait()
		l.stopPushes = nil
	}
	l.http.CloseIdleConnections()
}

// pushURL is the push service's websocket address of a server.
func pushURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	u.Scheme = map[string]string{"http": "ws", "https": "wss"}[u.Scheme]
	if u.Scheme == "" {
		return "", fmt.Errorf("bench: %q is not an http(s) URL", base)
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/push/connect"
	return u.String(), nil
}

// parallel runs fn(0..n-1) on workers goroutines and returns the first
// error.
func parallel(ctx context.Context, n, workers int, fn func(i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for w := 0; w < min(workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}
