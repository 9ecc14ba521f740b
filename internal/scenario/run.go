package scenario

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/pushsim/pushsim/internal/backendclient"
	"github.com/pushsim/pushsim/server"
)

// DefaultWithin is how long an expectation waits for what it expects when
// neither the step (within=) nor the runner says otherwise.
const DefaultWithin = 10 * time.Second

// Runner runs scenarios.
type Runner struct {
	// ServerURL is a running pushsim server to use; empty starts one server
	// per scenario in this process.
	ServerURL string
	// AccountSid and AuthToken are ServerURL's account credentials.
	AccountSid, AuthToken string
	// Parallel bounds how many scenarios run at once; default GOMAXPROCS.
	Parallel int
	// Within is how long expectations wait by default; default
	// DefaultWithin.
	Within time.Duration
	// Version names the phones' app version in their User-Agent.
	Version string
	// TempDir holds the servers' data and the phones' homes while they
	// run; default the system's temporary directory.
	TempDir string
	// Database, when set, is a PostgreSQL database (a postgres:// URL)
	// that the servers this runner starts keep their data in, instead of
	// SQLite in TempDir. Scenarios that run at once share it, and a
	// reset wipes it for all of them: give each scenario a runner, and a
	// database (or schema) of its own.
	Database string
}

// Result is how one scenario went.
type Result struct {
	Scenario *Scenario
	// Failure says which step failed and why; empty when the scenario
	// passed.
	Failure string
	// Log is the scenario's step log: every step, what it did and what the
	// phones reported, timed from the scenario's start.
	Log      string
	Started  time.Time
	Duration time.Duration
}

// Passed reports whether every step of the scenario did what it said.
func (r Result) Passed() bool { return r.Failure == "" }

// Run runs the scenarios, in parallel as far as Parallel and the server
// allow, and returns their results in the scenarios' order. done, when not
// nil, hears each result as it comes (one call at a time).
//
// Against a shared server (ServerURL) a scenario that changes what every
// scenario sees (Scenario.Exclusive) runs alone; scenarios are otherwise
// kept apart by their users, whose names get a suffix unique to the run.
func (rn *Runner) Run(ctx context.Context, scenarios []*Scenario, done func(i int, r Result)) []Result {
	parallel := rn.Parallel
	if parallel <= 0 {
		parallel = runtime.GOMAXPROCS(0)
	}
	slots := make(chan struct{}, parallel)
	var server sync.RWMutex // held for writing by a scenario that must run alone
	results := make([]Result, len(scenarios))
	var doneMu sync.Mutex
	var wg sync.WaitGroup
	for i, sc := range scenarios {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if rn.ServerURL != "" && sc.Exclusive {
				server.Lock()
				defer server.Unlock()
			} else {
				server.RLock()
				defer server.RUnlock()
			}
			var res Result
			select {
			case slots <- struct{}{}:
				res = rn.runOne(ctx, sc)
				<-slots
			case <-ctx.Done():
				res = Result{Scenario: sc, Started: time.Now(), Failure: "interrupted before it started"}
			}
			results[i] = res
			if done != nil {
				doneMu.Lock()
				done(i, res)
				doneMu.Unlock()
			}
		}()
	}
	wg.Wait()
	return results
}

// run is one scenario being run: its server, phones and what its steps
// have named.
type run struct {
	sc        *Scenario
	base      string // the server's base URL
	client    *backendclient.Client
	transport *http.Transport
	log       *stepLog
	within    time.Duration
	version   string
	tmp       string
	// alone is set when nothing but this scenario uses the server, so
	// that what cannot be traced to its users (a webhook that never
	// reached the sink) is still its own.
	alone bool
	// suffix is added to user names on a shared server.
	suffix string
	// started is the server's clock when the scenario began: on a shared
	// server, older records are another run's.
	started time.Time

	phones map[string]*phone
	users  map[string]*user

	mu    sync.Mutex // guards named and bySid, read by phone recorders
	named map[string][]*challenge
	bySid map[string]*challenge

	// lastErr is the failure of the action before, for expect error.
	lastErr error
	// faults are the push faults the scenario set ("" for every phone's)
	// and whether it set the webhook's, to be switched off on a shared
	// server when it ends.
	pushFaults   map[string]bool
	webhookFault bool
	// database is Runner.Database.
	database string
}

// user is a user of the scenario: the name steps use, the name the
// server knows, and where Verify keeps them once a phone enrolled.
type user struct {
	name, real           string
	identity, serviceSid string
}

// challenge is one challenge a step created.
type challenge struct {
	name       string // the scenario's name for it, with @phone when its sign-in reached several
	sid        string
	serviceSid string
	identity   string
	factorSid  string
	phone      string // the phone whose factor it was created for; "" when no phone of the scenario has it
	code       string // the number the sign-in shows, for number matching
}

func (rn *Runner) runOne(ctx context.Context, sc *Scenario) Result {
	started := time.Now()
	res := Result{Scenario: sc, Started: started}
	r := &run{
		sc: sc, log: newStepLog(started), version: rn.Version,
		within: rn.Within, alone: rn.ServerURL == "" || sc.Exclusive,
		phones: map[string]*phone{}, users: map[string]*user{},
		named: map[string][]*challenge{}, bySid: map[string]*challenge{},
		pushFaults: map[string]bool{}, database: rn.Database,
	}
	r.log.names = r.nameOf
	if r.within <= 0 {
		r.within = DefaultWithin
	}
	if r.version == "" {
		r.version = "dev"
	}
	base := defaultTransport()
	r.transport = base
	defer base.CloseIdleConnections()
	tmp, err := os.MkdirTemp(rn.TempDir, "pushsim-run-*")
	if err != nil {
		res.Failure = "cannot make a temporary directory: " + err.Error()
		return res
	}
	r.tmp = tmp
	defer os.RemoveAll(tmp)

	failure := func() string {
		if rn.ServerURL == "" {
			stop, err := r.startServer(ctx)
			if err != nil {
				return "cannot start a server for the scenario: " + err.Error()
			}
			defer stop()
		} else {
			r.base = strings.TrimRight(rn.ServerURL, "/")
			r.client = backendclient.New(r.base, rn.AccountSid, rn.AuthToken, &http.Client{Transport: base, Timeout: 30 * time.Second}, nil)
			r.suffix = "-" + randomSuffix()
		}
		defer r.stopPhones()
		defer r.clearFaults()
		if clock, err := r.client.ServerClock(ctx); err == nil {
			r.started = clock.Now
		}
		return r.steps(ctx)
	}()
	res.Failure = failure
	res.Log = r.log.String()
	res.Duration = time.Since(started)
	return res
}

// steps runs the scenario's steps until one fails, and returns why.
func (r *run) steps(ctx context.Context) string {
	for _, st := range r.sc.Steps {
		r.log.printf("step %d (%s:%d) %s", st.Number, r.sc.File, st.Line, st.Text)
		err := st.do.run(ctx, r)
		if ctx.Err() != nil {
			err = errors.New("interrupted")
		}
		if st.mayFail {
			r.lastErr = err
			if err != nil {
				r.log.note("failed: %v", err)
			}
			continue
		}
		if err != nil {
			r.log.note("FAILED: %v", err)
			return fmt.Sprintf("step %d (%s:%d) %s: %v", st.Number, r.sc.File, st.Line, st.Text, err)
		}
	}
	return ""
}

// startServer starts the scenario's own server on a loopback port, with
// its data in the scenario's temporary directory so that restart has
// something to reopen.
func (r *run) startServer(ctx context.Context) (stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	url := "http://" + ln.Addr().String()
	dataDir := filepath.Join(r.tmp, "server")
	if r.database != "" {
		dataDir = ""
	}
	srv, err := server.New(ctx, server.Config{
		DataDir: dataDir, Database: r.database, TestCredentials: true, PublicURL: url,
		// A webhook timeout fault holds each attempt this long: a
		// scenario's second, not a real server's ten.
		WebhookTimeout: time.Second,
		// What is still in flight when a scenario ends or restarts its
		// server is the scenario's to lose; a restart should not wait.
		ShutdownGrace: 500 * time.Millisecond,
		Logger:        slog.New(slog.DiscardHandler),
	})
	if err != nil {
		ln.Close()
		return nil, err
	}
	serveCtx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(serveCtx, ln) }()
	stop = func() {
		cancel()
		<-served
		srv.Close()
	}
	r.base = url
	sid, token := srv.Credentials()
	r.client = backendclient.New(url, sid, token, &http.Client{Transport: r.transport, Timeout: 30 * time.Second}, nil)
	if err := r.waitHealthy(ctx, 0); err != nil {
		stop()
		return nil, err
	}
	return stop, nil
}

// waitHealthy waits until the server answers health with at least the
// given generation.
func (r *run) waitHealthy(ctx context.Context, generation int) error {
	err := r.await(ctx, within(30*time.Second), func(ctx context.Context) (bool, string, error) {
		h, err := r.client.Health(ctx)
		if err != nil {
			return false, err.Error(), nil
		}
		if h.Generation < generation {
			return false, fmt.Sprintf("generation %d", h.Generation), nil
		}
		return true, "", nil
	})
	if err != nil {
		return fmt.Errorf("the server did not answer health: %w", err)
	}
	return nil
}

// clearFaults switches off, on a shared server, the faults the scenario
// switched on, so that the scenarios after it do not inherit them.
func (r *run) clearFaults() {
	if r.suffix == "" {
		return // the scenario's own server goes with it
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for factor, on := range r.pushFaults {
		if !on {
			continue
		}
		if _, err := r.client.SetPushFault(ctx, backendclient.PushFault{FactorSid: factor, Mode: backendclient.FaultOff}); err != nil {
			r.log.printf("could not switch off a push fault: %v", err)
		}
	}
	if r.webhookFault {
		if _, err := r.client.SetWebhookFault(ctx, backendclient.WebhookFault{Mode: backendclient.FaultOff}); err != nil {
			r.log.printf("could not switch off the webhook fault: %v", err)
		}
	}
}

func (r *run) stopPhones() {
	var wg sync.WaitGroup
	for _, p := range r.phones {
		wg.Add(1)
		go func() { defer wg.Done(); p.shutdown() }()
	}
	wg.Wait()
}

// user is the scenario's user name, with what the server knows of it.
func (r *run) user(name string) *user {
	u := r.users[name]
	if u == nil {
		u = &user{name: name, real: name + r.suffix}
		r.users[name] = u
	}
	return u
}

// name records the challenges a step created under the name as= gave.
func (r *run) name(as string, created []*challenge) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range created {
		switch {
		case as == "":
		case len(created) == 1:
			c.name = as
		case c.phone != "":
			c.name = as + "@" + c.phone
		}
		r.bySid[c.sid] = c
	}
	if as != "" {
		r.named[as] = created
	}
}

// nameOf is how the log calls a challenge: its scenario name, or its SID.
func (r *run) nameOf(sid string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.bySid[sid]; c != nil && c.name != "" {
		return c.name
	}
	return sid
}

// challengeBySid is the challenge a step created with that SID, if any.
func (r *run) challengeBySid(sid string) *challenge {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bySid[sid]
}

// resolve finds the challenge a step names.
// optionalSid is the SID of the challenge ref names, or "" without one.
func (r *run) optionalSid(ref *chRef) (string, error) {
	if ref == nil {
		return "", nil
	}
	c, err := r.resolve(*ref)
	if err != nil {
		return "", err
	}
	return c.sid, nil
}

func (r *run) resolve(ref chRef) (*challenge, error) {
	r.mu.Lock()
	list, ok := r.named[ref.name]
	r.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%s was never created: the step that names it failed", ref.name)
	}
	if ref.phone != "" {
		for _, c := range list {
			if c.phone == ref.phone {
				return c, nil
			}
		}
		return nil, fmt.Errorf("%s did not reach %s (it reached %s)", ref.name, ref.phone, reached(list))
	}
	if len(list) == 1 {
		return list[0], nil
	}
	example := ref.name + "@" + list[0].phone
	if list[0].phone == "" {
		example = ref.name + "@PHONE"
	}
	return nil, fmt.Errorf("%s reached %d phones (%s): name one, as in %s", ref.name, len(list), reached(list), example)
}

// reached lists the phones a sign-in reached.
func reached(list []*challenge) string {
	var out []string
	for _, c := range list {
		out = append(out, c.reachedPhone())
	}
	if len(out) == 0 {
		return "no phone"
	}
	return strings.Join(out, ", ")
}

func (c *challenge) reachedPhone() string {
	if c.phone == "" {
		return "a factor no phone has (" + c.factorSid + ")"
	}
	return c.phone
}

// phoneOfFactor is the phone whose current factor is factorSid, or "".
func (r *run) phoneOfFactor(factorSid string) string {
	for name, p := range r.phones {
		if p.factor() == factorSid {
			return name
		}
	}
	return ""
}

// An expectation looks again after firstLook, then less and less often up
// to lastLook: what happens at once is seen at once, and what takes
// seconds does not cost the server a request every few milliseconds.
const (
	firstLook = 25 * time.Millisecond
	lastLook  = 250 * time.Millisecond
)

// await checks until check holds, fails for good, or limit (or the
// runner's default) passes; then it says what it saw last.
func (r *run) await(ctx context.Context, limit within, check func(context.Context) (held bool, seen string, err error)) error {
	wait := time.Duration(limit)
	if wait <= 0 {
		wait = r.within
	}
	deadline := time.Now().Add(wait)
	seen := "nothing"
	pause := firstLook
	for {
		// One look may not outlast the wait by much, whatever the network
		// does.
		lookCtx, cancel := context.WithTimeout(ctx, max(time.Until(deadline), time.Second))
		held, s, err := check(lookCtx)
		cancel()
		if err != nil || held {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if s != "" {
			seen = s
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("saw %s after %s", seen, wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(pause, time.Until(deadline))):
		}
		pause = min(pause*3/2, lastLook)
	}
}

// defaultTransport is a transport of the scenario's own, so that its
// connections end with it.
func defaultTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	return t
}

// randomSuffix tells this run's users from every other run's on a shared
// server.
func randomSuffix() string {
	const letters = "abcdefghjkmnpqrstuvwxyz23456789"
	b := make([]byte, 6)
	rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b)
}

// stepLog is a scenario's running account, timed from its start.
type stepLog struct {
	mu    sync.Mutex
	start time.Time
	b     strings.Builder
	// names names a challenge SID when the log is read: a phone may
	// report a challenge before the step that created it has its answer.
	names func(sid string) string
}

func newStepLog(start time.Time) *stepLog { return &stepLog{start: start} }

// Marks around a challenge SID in the log, named when the log is read.
const (
	sidOpen  = "\x1e"
	sidClose = "\x1f"
)

// sidRef writes a challenge SID into the log, to be named when it is read.
func sidRef(sid string) string { return sidOpen + sid + sidClose }

// printf adds a line.
func (l *stepLog) printf(format string, v ...any) { l.add("", fmt.Sprintf(format, v...)) }

// note adds a line about the step above it.
func (l *stepLog) note(format string, v ...any) { l.add("    ", fmt.Sprintf(format, v...)) }

func (l *stepLog) add(indent, line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(&l.b, "%7.3fs %s%s\n", time.Since(l.start).Seconds(), indent, line)
}

func (l *stepLog) String() string {
	l.mu.Lock()
	text := l.b.String()
	l.mu.Unlock()
	var out strings.Builder
	for {
		before, rest, ok := strings.Cut(text, sidOpen)
		out.WriteString(before)
		if !ok {
			return out.String()
		}
		sid, after, _ := strings.Cut(rest, sidClose)
		if l.names != nil {
			sid = l.names(sid)
		}
		out.WriteString(sid)
		text = after
	}
}
