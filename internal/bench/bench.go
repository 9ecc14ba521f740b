// Package bench is `pushsim bench`: a load generator that measures a
// pushsim server the way a QA lab's load test meets it. It enrolls phones
// through the real flow, creates challenges from many clients at once,
// answers them as the SDK does (fresh device tokens, a signed answer, the
// reads around it), times a challenge's trip to a connected phone and
// weighs an idle push connection. In the same run it measures what this
// machine's ECDSA P-256 allows, because an approval is mostly signatures:
// approvals are reported as a fraction of that bound, a figure that means
// the same on any machine.
//
// Against an in-process server the defaults are the production ones (on
// disk, each acknowledged write fsynced) except the push-bombing cap and the
// per-address socket cap, which a load test from one address must lift.
// Against a URL the server is taken as it is.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/pushsim/pushsim/server"
	"github.com/pushsim/pushsim/server/push"
)

// Config says what to measure and how hard.
type Config struct {
	// URL is a running server's base URL; empty starts one in-process.
	URL        string
	AccountSid string
	AuthToken  string
	// Memory keeps an in-process server's state in memory instead of on disk.
	Memory bool
	// Phones is how many phones are enrolled (default 1000).
	Phones int
	// Clients is how many clients create and approve at once (default 16).
	Clients int
	// Duration is how long each throughput phase runs (default 8 s).
	Duration time.Duration
	// CryptoTime is how long each of the ECDSA signing and verifying
	// measurements runs (default 1 s).
	CryptoTime time.Duration
	// Rate is the create rate, per second, while the trip to the phone is
	// timed (default 500; the trip is timed below saturation, where a
	// queue does not hide it).
	Rate int
	// IdleConns is how many idle push connections are weighed (default
	// 10,000; 0 skips it). Only for an in-process server.
	IdleConns int
	// Holder starts the process that holds the idle connections' client
	// ends, so that both ends need not fit in this process's file limit.
	// Nil holds them in this process.
	Holder func(ctx context.Context, url string, n int) (stop func(), err error)
	// PeerCreates measures creates alone against a Verify mock at URL, with
	// made-up SIDs and no enrollment: the peer comparison of
	// docs/BENCHMARKS.md, where the mock answers any well-formed request.
	PeerCreates bool
	// Sustain, when positive, replaces the timed creates phase with one
	// that runs until this many challenges exist, and compares the rate
	// of its first and last tenth: a store that slows down as it fills
	// shows here. The write-ahead log's largest size is recorded too.
	Sustain int
	// Progress receives one line per phase; nil discards it.
	Progress io.Writer
	// Phase, if set, is called as each phase starts, with its name
	// (enroll, ecdsa, creates, approvals, create-to-phone, idle-conns,
	// peer-creates; a sustained run's sustain-first, sustain-middle and
	// sustain-last tenths, then control), so a caller can profile the
	// phases apart.
	Phase func(name string)
}

// Result is what one run measured. The JSON field names are a contract:
// scripts compare runs with them.
type Result struct {
	Date     string `json:"date"`
	Machine  string `json:"machine"`
	Target   string `json:"target"`
	Phones   int    `json:"phones"`
	Clients  int    `json:"clients"`
	Duration string `json:"phase_duration"`

	Creates       int     `json:"creates"`
	CreatesPerS   float64 `json:"creates_per_s"`
	CreateP50Ms   float64 `json:"create_p50_ms"`
	CreateP99Ms   float64 `json:"create_p99_ms"`
	CreateRefused int     `json:"create_refused"`

	Approvals      int                `json:"approvals"`
	ApprovalsPerS  float64            `json:"approvals_per_s"`
	ApprovalP50Ms  float64            `json:"approval_p50_ms"`
	ApprovalP99Ms  float64            `json:"approval_p99_ms"`
	ApprovalSteps  map[string]Latency `json:"approval_steps"`
	ApprovalFailed int                `json:"approval_failed"`
	// The ECDSA rates are the means of two measurements, right before
	// and right after the approvals, and the bound is the mean of the
	// bounds of each, which say how far the machine's speed moved
	// meanwhile.
	SignsPerS                float64 `json:"ecdsa_signs_per_s"`
	VerifiesPerS             float64 `json:"ecdsa_verifies_per_s"`
	CryptoBoundPerS          float64 `json:"crypto_bound_per_s"`
	CryptoBoundBeforePerS    float64 `json:"crypto_bound_before_per_s"`
	CryptoBoundAfterPerS     float64 `json:"crypto_bound_after_per_s"`
	ApprovalsFractionOfBound float64 `json:"approvals_fraction_of_bound"`

	// What the process, server and load generator together, spent in CPU
	// time per create and per approval, and how busy that kept the CPUs
	// (1 is every CPU the ECDSA rates were measured on, all the time).
	// Measured in-process on Unix only: against a URL the server's CPU is
	// not this process's. An approval's signatures take cpus/bound of it,
	// so the fraction of the bound reached is its busy fraction times the
	// signatures' share.
	CPUPerCreateUs            float64 `json:"cpu_us_per_create,omitempty"`
	CreatesCPUBusy            float64 `json:"creates_cpu_busy,omitempty"`
	CPUPerApprovalUs          float64 `json:"cpu_us_per_approval,omitempty"`
	SignatureCPUPerApprovalUs float64 `json:"signature_cpu_us_per_approval,omitempty"`
	ApprovalsCPUBusy          float64 `json:"approvals_cpu_busy,omitempty"`

	CreateToPhoneRate  int     `json:"create_to_phone_rate_per_s"`
	CreateToPhoneP50Ms float64 `json:"create_to_phone_p50_ms"`
	CreateToPhoneP99Ms float64 `json:"create_to_phone_p99_ms"`
	CreateToPhoneLost  int     `json:"create_to_phone_lost"`
	// CreateToPhoneRefused counts the timed creates the server refused:
	// they are neither timed nor lost.
	CreateToPhoneRefused int `json:"create_to_phone_refused"`

	IdleConns        int     `json:"idle_conns"`
	BytesPerIdleConn float64 `json:"bytes_per_idle_conn"`

	// Set by a sustained run (Config.Sustain).
	SustainCreates     int     `json:"sustain_creates,omitempty"`
	SustainFirstPerS   float64 `json:"sustain_first_tenth_per_s,omitempty"`
	SustainLastPerS    float64 `json:"sustain_last_tenth_per_s,omitempty"`
	SustainWALMaxBytes int64   `json:"sustain_wal_max_bytes,omitempty"`
	SustainWALLimit    int64   `json:"sustain_wal_limit_bytes,omitempty"`
	// SustainControlPerS is an in-process run's control: as many creates
	// as a tenth, on a fresh store right after the last tenth.
	SustainControlPerS float64 `json:"sustain_control_per_s,omitempty"`
	RSSStartBytes      int64   `json:"rss_start_bytes,omitempty"`
	RSSEndBytes        int64   `json:"rss_end_bytes,omitempty"`
}

// Latency is one step's percentiles.
type Latency struct {
	P50Ms float64 `json:"p50_ms"`
	P99Ms float64 `json:"p99_ms"`
}

func (c *Config) defaults() {
	if c.Phones <= 0 {
		c.Phones = 1000
	}
	if c.Clients <= 0 {
		c.Clients = 16
	}
	if c.Duration <= 0 {
		c.Duration = 8 * time.Second
	}
	if c.Rate <= 0 {
		c.Rate = 500
	}
	if c.CryptoTime <= 0 {
		c.CryptoTime = time.Second
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	if c.Phase == nil {
		c.Phase = func(string) {}
	}
	if c.AccountSid == "" {
		c.AccountSid, c.AuthToken = server.TestAccountSid, server.TestAuthToken
	}
}

// Run measures and returns what it saw.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg.defaults()
	res := &Result{
		Date:    time.Now().UTC().Format(time.RFC3339),
		Machine: fmt.Sprintf("%s/%s, %d CPUs, GOMAXPROCS %d, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version()),
		Phones:  cfg.Phones, Clients: cfg.Clients, Duration: cfg.Duration.String(),
	}
	target := cfg.URL
	var srv *server.Server
	stop := func() {}
	if target == "" {
		var err error
		srv, target, stop, err = startServer(ctx, cfg)
		if err != nil {
			return nil, err
		}
		defer stop()
		res.Target = "in-process, on disk (WAL, fsynced before each answer)"
		if cfg.Memory {
			res.Target = "in-process, in memory"
		}
	} else {
		res.Target = target
	}
	if cfg.PeerCreates {
		if cfg.URL == "" {
			return nil, fmt.Errorf("bench: the peer measurement needs the mock's URL")
		}
		lab := newPeerLab(target, cfg)
		defer lab.close()
		cfg.Phase("peer-creates")
		fmt.Fprintf(cfg.Progress, "creating challenges at the mock from %d clients for %s…\n", cfg.Clients, cfg.Duration)
		if err := lab.creates(ctx, cfg, res); err != nil {
			return nil, err
		}
		return res, nil
	}
	lab, err := newLab(ctx, target, cfg)
	if err != nil {
		return nil, err
	}
	defer lab.close()

	cfg.Phase("enroll")
	fmt.Fprintf(cfg.Progress, "enrolling %d phones through the real flow…\n", cfg.Phones)
	if err := lab.enroll(ctx, cfg.Phones, cfg.Clients); err != nil {
		return nil, err
	}
	if cfg.Sustain > 0 {
		cfg.Phase("sustain-first")
		fmt.Fprintf(cfg.Progress, "creating %d challenges from %d clients…\n", cfg.Sustain, cfg.Clients)
		if err := lab.sustain(ctx, cfg, srv, res); err != nil {
			return nil, err
		}
		fmt.Fprintf(cfg.Progress, "  first tenth %.0f/s, last tenth %.0f/s; WAL at most %d bytes\n", res.SustainFirstPerS, res.SustainLastPerS, res.SustainWALMaxBytes)
		if srv == nil {
			return res, nil // a server at a URL cannot be given a fresh store
		}
		lab.close()
		stop()
		cfg.Phase("control")
		fmt.Fprintf(cfg.Progress, "control: %d creates on a fresh store…\n", cfg.sustainTenth())
		if res.SustainControlPerS, err = controlRate(ctx, cfg, cfg.sustainTenth()); err != nil {
			return nil, err
		}
		fmt.Fprintf(cfg.Progress, "  %.0f/s\n", res.SustainControlPerS)
		return res, nil
	}
	cfg.Phase("creates")
	fmt.Fprintf(cfg.Progress, "creating challenges from %d clients for %s…\n", cfg.Clients, cfg.Duration)
	cpu := startCPUMeter(srv != nil)
	if err := lab.creates(ctx, cfg, res); err != nil {
		return nil, err
	}
	res.CPUPerCreateUs, res.CreatesCPUBusy = cpu.per(res.Creates)
	fmt.Fprintf(cfg.Progress, "  %.0f creates/s, p50 %.2f ms, p99 %.2f ms\n", res.CreatesPerS, res.CreateP50Ms, res.CreateP99Ms)
	// The machine's speed drifts over seconds on a shared host: the
	// bound is measured on both sides of the approvals it is set against.
	cfg.Phase("ecdsa")
	fmt.Fprintf(cfg.Progress, "measuring ECDSA P-256 on this machine…\n")
	signsBefore, verifiesBefore := measureECDSA(ctx, cfg.CryptoTime)
	cfg.Phase("approvals")
	fmt.Fprintf(cfg.Progress, "approving as the SDK does from %d clients for %s…\n", cfg.Clients, cfg.Duration)
	cpu = startCPUMeter(srv != nil)
	if err := lab.approvals(ctx, cfg, res); err != nil {
		return nil, err
	}
	res.CPUPerApprovalUs, res.ApprovalsCPUBusy = cpu.per(res.Approvals)
	cfg.Phase("ecdsa-after")
	fmt.Fprintf(cfg.Progress, "measuring ECDSA P-256 again…\n")
	signsAfter, verifiesAfter := measureECDSA(ctx, cfg.CryptoTime)
	res.SignsPerS, res.VerifiesPerS = (signsBefore+signsAfter)/2, (verifiesBefore+verifiesAfter)/2
	res.CryptoBoundBeforePerS = cryptoBound(signsBefore, verifiesBefore)
	res.CryptoBoundAfterPerS = cryptoBound(signsAfter, verifiesAfter)
	// The mean of the two bounds, not the bound of the mean rates: with
	// signing fast in one measurement and verifying in the other, that
	// would be above both.
	res.CryptoBoundPerS = (res.CryptoBoundBeforePerS + res.CryptoBoundAfterPerS) / 2
	if res.CryptoBoundPerS > 0 {
		res.ApprovalsFractionOfBound = res.ApprovalsPerS / res.CryptoBoundPerS
		if res.CPUPerApprovalUs > 0 {
			res.SignatureCPUPerApprovalUs = 1e6 * float64(cpusUsed()) / res.CryptoBoundPerS
		}
	}
	fmt.Fprintf(cfg.Progress, "  %.0f approvals/s, %.0f%% of the crypto bound (%.0f/s: %.0f before, %.0f after)\n",
		res.ApprovalsPerS, 100*res.ApprovalsFractionOfBound, res.CryptoBoundPerS, res.CryptoBoundBeforePerS, res.CryptoBoundAfterPerS)
	cfg.Phase("create-to-phone")
	fmt.Fprintf(cfg.Progress, "timing create → phone at %d/s over %d connected phones…\n", cfg.Rate, cfg.Phones)
	if err := lab.createToPhone(ctx, cfg, res); err != nil {
		return nil, err
	}
	fmt.Fprintf(cfg.Progress, "  p50 %.2f ms, p99 %.2f ms\n", res.CreateToPhoneP50Ms, res.CreateToPhoneP99Ms)
	lab.close()
	if srv != nil && cfg.IdleConns > 0 {
		cfg.Phase("idle-conns")
		fmt.Fprintf(cfg.Progress, "weighing %d idle push connections…\n", cfg.IdleConns)
		if err := weighIdleConns(ctx, srv, target, cfg, res); err != nil {
			return nil, err
		}
		fmt.Fprintf(cfg.Progress, "  %.0f bytes per idle connection\n", res.BytesPerIdleConn)
	}
	return res, nil
}

// cpuMeter measures the process's CPU time over one phase.
type cpuMeter struct {
	cpu   time.Duration
	start time.Time
}

// startCPUMeter starts measuring, if the server runs in this process and
// the platform tells a process's CPU time; otherwise the meter reads 0.
func startCPUMeter(inProcess bool) *cpuMeter {
	cpu := processCPU()
	if !inProcess || cpu == 0 {
		return nil
	}
	return &cpuMeter{cpu: cpu, start: time.Now()}
}

// per is the CPU time since the start in microseconds per operation, and
// the fraction of the CPUs it kept busy.
func (m *cpuMeter) per(ops int) (perOpUs, busy float64) {
	if m == nil || ops == 0 {
		return 0, 0
	}
	used := processCPU() - m.cpu
	wall := time.Since(m.start)
	return float64(used.Microseconds()) / float64(ops), used.Seconds() / (wall.Seconds() * float64(cpusUsed()))
}

// startServer starts a server on a loopback port, with a store in a
// temporary directory (or memory) that is removed when stop returns.
func startServer(ctx context.Context, cfg Config) (*server.Server, string, func(), error) {
	dir := ""
	if !cfg.Memory {
		d, err := os.MkdirTemp("", "pushsim-bench-")
		if err != nil {
			return nil, "", nil, err
		}
		dir = d
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, err
	}
	url := "http://" + ln.Addr().String()
	srv, err := server.New(ctx, server.Config{
		DataDir: dir, TestCredentials: true, PublicURL: url,
		MaxPendingPerFactor: -1,
		Push:                push.Config{MaxConnsPerAddr: 1 << 20},
	})
	if err != nil {
		ln.Close()
		return nil, "", nil, err
	}
	serveCtx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(serveCtx, ln) }()
	stop := sync.OnceFunc(func() {
		cancel()
		<-served
		srv.Close()
		if dir != "" {
			os.RemoveAll(dir)
		}
	})
	return srv, url, stop, nil
}

// percentiles returns the 50th and 99th percentiles in milliseconds.
func percentiles(d []time.Duration) Latency {
	if len(d) == 0 {
		return Latency{}
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	ms := func(q float64) float64 {
		i := int(q * float64(len(d)-1))
		return float64(d[i].Microseconds()) / 1000
	}
	return Latency{P50Ms: ms(0.50), P99Ms: ms(0.99)}
}

// errStatus is a refused request, by status.
type errStatus struct {
	status int
	body   string
}

func (e *errStatus) Error() string {
	return fmt.Sprintf("%d %s: %s", e.status, http.StatusText(e.status), e.body)
}

var errNoPhones = errors.New("bench: no phone enrolled")
