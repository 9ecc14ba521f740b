package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/pprof"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pushsim/pushsim/internal/bench"
)

const benchUsage = `Usage: pushsim bench [flags]

Measures a pushsim server under load: challenge creates from many clients
at once, approvals answered as the Verify Push SDK answers them, the trip
of a challenge to a connected phone, and the memory of an idle push
connection. The machine's ECDSA P-256 rate is measured in the same run, and
approvals are reported as a fraction of what it allows. With the server in
the process, the summary also gives the CPU time each create and approval
took, server and clients together, and how much of an approval's went to
its signatures: that share, times how busy the CPUs were, is the fraction.

Examples:
  pushsim bench                       # in-process server on disk (fsync per commit), about a minute
  pushsim bench --json > run.json     # the same, one JSON object on stdout
  pushsim bench --memory              # in-process server with its state in memory
  pushsim bench --url http://127.0.0.1:4010 --idle-conns 0
                                      # a running "pushsim serve --max-pending-per-factor 0"

Progress goes to stderr, the summary to stdout. docs/BENCHMARKS.md has the
figures measured so far and how to compare them.

Flags:
`

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), benchUsage)
		fs.PrintDefaults()
	}
	url := fs.String("url", "", "measure the server at `URL` instead of one started in-process (give it --max-pending-per-factor 0 and a --push-sockets-per-addr above --phones); several comma-separated URLs of replicas sharing a database spread the requests and the phones over them in turn")
	accountSid := fs.String("account-sid", os.Getenv("PUSHSIM_ACCOUNT_SID"), "account SID for --url (default the loopback test account; env PUSHSIM_ACCOUNT_SID)")
	authToken := fs.String("auth-token", os.Getenv("PUSHSIM_AUTH_TOKEN"), "auth token for --url (env PUSHSIM_AUTH_TOKEN)")
	memory := fs.Bool("memory", false, "in-process server with its state in memory instead of on disk")
	phones := fs.Int("phones", 1000, "phones to enroll (and connect, for the trip to the phone)")
	clients := fs.Int("clients", 16, "clients creating and approving at once")
	duration := fs.Duration("duration", 8*time.Second, "length of each throughput phase")
	rate := fs.Int("rate", 500, "creates per second while the trip to the phone is timed")
	idle := fs.Int("idle-conns", 10000, "idle push connections to weigh (in-process server only; 0 skips)")
	sustain := fs.Int("sustain", 0, "instead of the timed phases, create `N` challenges and compare the create rate of the first and last tenth, with the write-ahead log's largest size; an in-process run then times a tenth's creates on a fresh store, as a control for the machine's own drift")
	peer := fs.Bool("peer", false, "measure creates alone against a Verify mock at --url (made-up SIDs, no enrollment), for the peer ratio in docs/BENCHMARKS.md")
	asJSON := fs.Bool("json", false, "print the result as one JSON object")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of each phase to `FILE`.<phase> (FILE.creates, FILE.approvals, …) for go tool pprof; an in-process server's profile holds both sides")
	holdIdle := fs.Int("hold-idle", 0, "used by bench itself: a child process holding `N` idle push connections for the parent run to weigh")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *holdIdle > 0 {
		return holdIdleConns(ctx, *url, *holdIdle, stdout)
	}
	for name, v := range map[string]int{"--phones": *phones, "--clients": *clients, "--rate": *rate} {
		if v < 1 {
			return fmt.Errorf("%s must be at least 1, not %d", name, v)
		}
	}
	if *duration < 100*time.Millisecond {
		return fmt.Errorf("--duration must be at least 100ms, not %s", *duration)
	}
	if *idle < 0 {
		return fmt.Errorf("--idle-conns must be 0 (skip) or more, not %d", *idle)
	}
	if *url != "" {
		*idle = 0 // another process's memory cannot be weighed from here
	}
	if (*accountSid == "") != (*authToken == "") {
		return errors.New("give both --account-sid and --auth-token, or neither for the loopback test account")
	}
	var profiles phaseProfiles
	defer profiles.stop()
	res, err := bench.Run(ctx, bench.Config{
		URL: *url, AccountSid: *accountSid, AuthToken: *authToken, Memory: *memory,
		Phones: *phones, Clients: *clients, Duration: *duration, Rate: *rate, IdleConns: *idle,
		Holder: holderProcess, Progress: stderr, Sustain: *sustain, PeerCreates: *peer,
		Phase: profiles.starter(*cpuProfile, stderr),
	})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return printBench(stdout, res)
}

// phaseProfiles writes one CPU profile per bench phase, so each phase's
// costs can be read without the others'.
type phaseProfiles struct{ f *os.File }

// starter returns the bench's Phase hook: nil when no profile was asked for.
// A profile that cannot be written is reported and the run goes on.
func (p *phaseProfiles) starter(prefix string, warn io.Writer) func(string) {
	if prefix == "" {
		return nil
	}
	return func(phase string) {
		p.stop()
		f, err := os.Create(prefix + "." + phase)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(warn, "no CPU profile for %s: %v\n", phase, err)
			if f != nil {
				f.Close()
			}
			return
		}
		p.f = f
	}
}

func (p *phaseProfiles) stop() {
	if p.f != nil {
		pprof.StopCPUProfile()
		p.f.Close()
		p.f = nil
	}
}

func printBench(w io.Writer, r *bench.Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "pushsim bench, %s\n%s; %s\n%d phones, %d clients, %s per phase\n\n", r.Date, r.Machine, r.Target, r.Phones, r.Clients, r.Duration)
	if r.Approvals == 0 && r.SustainCreates == 0 {
		fmt.Fprintf(tw, "creates\t%.0f/s\tp50 %.2f ms\tp99 %.2f ms\t(%d created, %d refused)\n", r.CreatesPerS, r.CreateP50Ms, r.CreateP99Ms, r.Creates, r.CreateRefused)
		return tw.Flush()
	}
	if r.SustainCreates > 0 {
		fmt.Fprintf(tw, "%d creates\tfirst tenth %.0f/s\tlast tenth %.0f/s\t(%+.0f%%)\n", r.SustainCreates, r.SustainFirstPerS, r.SustainLastPerS, 100*(r.SustainLastPerS/r.SustainFirstPerS-1))
		if r.SustainControlPerS > 0 {
			fmt.Fprintf(tw, "control\tfresh store after\t%.0f/s\t(last tenth %+.0f%% of it)\n", r.SustainControlPerS, 100*(r.SustainLastPerS/r.SustainControlPerS-1))
		}
		if r.SustainWALLimit > 0 {
			fmt.Fprintf(tw, "write-ahead log\tat most %.1f MB\tlimit %.0f MB\n", float64(r.SustainWALMaxBytes)/(1<<20), float64(r.SustainWALLimit)/(1<<20))
		}
		if r.RSSEndBytes > 0 {
			fmt.Fprintf(tw, "resident memory\t%.0f MB → %.0f MB\n", float64(r.RSSStartBytes)/(1<<20), float64(r.RSSEndBytes)/(1<<20))
		}
		return tw.Flush()
	}
	fmt.Fprintf(tw, "creates\t%.0f/s\tp50 %.2f ms\tp99 %.2f ms\t(%d created, %d refused)\n", r.CreatesPerS, r.CreateP50Ms, r.CreateP99Ms, r.Creates, r.CreateRefused)
	fmt.Fprintf(tw, "approvals\t%.0f/s\tp50 %.2f ms\tp99 %.2f ms\t(%d approved, %d failed)\n", r.ApprovalsPerS, r.ApprovalP50Ms, r.ApprovalP99Ms, r.Approvals, r.ApprovalFailed)
	for _, step := range []string{"get", "answer", "get_after"} {
		l := r.ApprovalSteps[step]
		fmt.Fprintf(tw, "  %s\t\tp50 %.2f ms\tp99 %.2f ms\n", step, l.P50Ms, l.P99Ms)
	}
	fmt.Fprintf(tw, "crypto bound\t%.0f/s\t%.0f%% reached\t(P-256: %.0f signs/s, %.0f verifies/s, 4 of each per approval; %.0f/s before the approvals, %.0f/s after)\n",
		r.CryptoBoundPerS, 100*r.ApprovalsFractionOfBound, r.SignsPerS, r.VerifiesPerS, r.CryptoBoundBeforePerS, r.CryptoBoundAfterPerS)
	if r.CPUPerApprovalUs > 0 {
		fmt.Fprintf(tw, "cpu per create\t%.0f µs\t\t\t(server and clients; the CPUs %.0f%% busy)\n", r.CPUPerCreateUs, 100*r.CreatesCPUBusy)
		fmt.Fprintf(tw, "cpu per approval\t%.0f µs\tsignatures %.0f µs\t\t(%.0f%% of it; the CPUs %.0f%% busy)\n",
			r.CPUPerApprovalUs, r.SignatureCPUPerApprovalUs, 100*r.SignatureCPUPerApprovalUs/r.CPUPerApprovalUs, 100*r.ApprovalsCPUBusy)
	}
	fmt.Fprintf(tw, "create → phone\t%d/s\tp50 %.2f ms\tp99 %.2f ms\t(%d lost, %d creates refused)\n", r.CreateToPhoneRate, r.CreateToPhoneP50Ms, r.CreateToPhoneP99Ms, r.CreateToPhoneLost, r.CreateToPhoneRefused)
	if r.IdleConns > 0 {
		fmt.Fprintf(tw, "idle push connection\t%.1f KB\t\t\t(%d connections)\n", r.BytesPerIdleConn/1024, r.IdleConns)
	}
	return tw.Flush()
}

// holderProcess holds the idle connections' client ends in a child
// process, so that the server's ends and the clients' together need not
// fit in one process's limit of open files.
func holderProcess(ctx context.Context, url string, n int) (func(), error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, "bench", "--hold-idle", fmt.Sprint(n), "--url", url)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop := func() { stdin.Close(); cmd.Wait() }
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		stop()
		return nil, fmt.Errorf("the process holding the idle connections failed (%q, %v)", line, err)
	}
	return stop, nil
}

// holdIdleConns is the child's side: open, say ready, hold until stdin
// closes.
func holdIdleConns(ctx context.Context, url string, n int, stdout io.Writer) error {
	stop, err := bench.HoldIdleConns(ctx, url, n)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Fprintln(stdout, "ready")
	io.Copy(io.Discard, os.Stdin)
	return nil
}
