package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pushsim/pushsim/internal/backendclient"
	"github.com/pushsim/pushsim/internal/scenario"
	"github.com/pushsim/pushsim/internal/termtext"
	"github.com/pushsim/pushsim/server"
)

const runUsage = `Usage: pushsim run [flags] FILE...

Runs scenario files (docs/scenarios.md): each starts a Verify server and
simulated phones, acts, and checks what must follow. It prints one line per
scenario, PASS or FAIL, and for a failure the step, what it expected and
what it saw. The exit status is 0 when every scenario passed, 1 when one
failed and 2 when a file cannot be parsed (then nothing runs).

  pushsim run assets/scenarios/*
  pushsim run --junit scenarios.xml assets/scenarios/*
  pushsim run --server http://127.0.0.1:4010 my.scenario

Without --server every scenario gets a server of its own in this process.
With --server the scenarios share that server: their users get a suffix
unique to the run, and a scenario that changes the whole server (faults for
every phone, the webhook sink, the clock, a restart) runs alone.

Flags:
`

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), runUsage)
		fs.PrintDefaults()
	}
	junit := fs.String("junit", "", "also write the results as JUnit XML to `FILE`")
	serverURL := fs.String("server", "", "run against the pushsim server at `URL` instead of one per scenario")
	accountSid := fs.String("account-sid", "", "the --server's account `SID` (default $PUSHSIM_ACCOUNT_SID, else the loopback test account)")
	authToken := fs.String("auth-token", "", "the --server's auth `TOKEN` (default $PUSHSIM_AUTH_TOKEN, else the loopback test token)")
	parallel := fs.Int("parallel", runtime.GOMAXPROCS(0), "how many scenarios run at once")
	within := fs.Duration("within", scenario.DefaultWithin, "how long an expectation waits by default (a step's within= wins)")
	verbose := fs.Bool("v", false, "print every scenario's step log, not only the failures'")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	// Read after parsing, so that help never prints a token from the
	// environment.
	if *accountSid == "" {
		*accountSid = envOr("PUSHSIM_ACCOUNT_SID", server.TestAccountSid)
	}
	if *authToken == "" {
		*authToken = envOr("PUSHSIM_AUTH_TOKEN", server.TestAuthToken)
	}
	if *parallel < 1 {
		fmt.Fprintf(stderr, "--parallel must be at least 1, not %d\n", *parallel)
		return errUsage
	}
	if *within <= 0 {
		fmt.Fprintf(stderr, "--within must be positive, not %s\n", *within)
		return errUsage
	}
	files, err := scenarioFiles(fs.Args())
	if err != nil {
		fmt.Fprintln(stderr, err)
		return errUsage
	}

	var scenarios []*scenario.Scenario
	failedParse := false
	for _, f := range files {
		sc, err := scenario.ParseFile(f)
		if err != nil {
			fmt.Fprintln(stderr, err)
			failedParse = true
			continue
		}
		scenarios = append(scenarios, sc)
	}
	if failedParse {
		fmt.Fprintln(stderr, "no scenario was run: fix the file first")
		return errUsage
	}

	if *serverURL != "" {
		probe := backendclient.New(*serverURL, *accountSid, *authToken, &http.Client{Timeout: 10 * time.Second}, nil)
		if _, err := probe.Health(ctx); err != nil {
			return noServer(*serverURL, `start one with "pushsim serve", or leave out --server to run servers in-process`, err)
		}
		if _, err := probe.Faults(ctx); err != nil {
			return fmt.Errorf("%s refused the account's credentials for its controls (pass --account-sid and --auth-token, or set PUSHSIM_ACCOUNT_SID and PUSHSIM_AUTH_TOKEN): %w", strings.TrimRight(*serverURL, "/"), err)
		}
	}

	width := 0
	for _, sc := range scenarios {
		width = max(width, utf8.RuneCountInString(sc.Name))
	}
	rn := &scenario.Runner{
		ServerURL: *serverURL, AccountSid: *accountSid, AuthToken: *authToken,
		Parallel: *parallel, Within: *within, Version: version,
	}
	start := time.Now()
	// Lines come out in the files' order, each as soon as it and those
	// before it are done.
	finished := make([]*scenario.Result, len(scenarios))
	next := 0
	results := rn.Run(ctx, scenarios, func(i int, r scenario.Result) {
		finished[i] = &r
		for next < len(finished) && finished[next] != nil {
			printResult(stdout, *finished[next], width, *verbose)
			next++
		}
	})
	took := time.Since(start)
	fmt.Fprintln(stdout, scenario.Summary(results, took))

	if *junit != "" {
		if err := writeJUnit(*junit, results, took); err != nil {
			return err
		}
	}
	failed := 0
	for _, r := range results {
		if !r.Passed() {
			failed++
		}
	}
	if ctx.Err() != nil {
		return errors.New("interrupted")
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d scenarios failed", failed, len(results))
	}
	return nil
}

// printResult prints a scenario's line, and its step log when it failed
// or when asked. Both hold what servers said, which a terminal must show
// rather than obey.
func printResult(w io.Writer, r scenario.Result, width int, verbose bool) {
	fmt.Fprintln(w, termtext.Text(scenario.ResultLine(r, width)))
	if verbose || !r.Passed() {
		for _, line := range strings.Split(strings.TrimRight(r.Log, "\n"), "\n") {
			fmt.Fprintln(w, "      | "+termtext.Line(line))
		}
	}
}

// scenarioFiles are the files named, with wildcards expanded for shells
// that leave them alone.
func scenarioFiles(args []string) ([]string, error) {
	if len(args) == 0 {
		return nil, errors.New("name at least one scenario file, e.g. pushsim run assets/scenarios/*")
	}
	var files []string
	for _, a := range args {
		if _, err := os.Stat(a); err == nil || !strings.ContainsAny(a, "*?[") {
			files = append(files, a)
			continue
		}
		matches, err := filepath.Glob(a)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", a, err)
		}
		if len(matches) == 0 {
			return nil, fmt.Errorf("%s matches no file", a)
		}
		files = append(files, matches...)
	}
	return files, nil
}

func writeJUnit(path string, results []scenario.Result, took time.Duration) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("cannot write the JUnit report: %w", err)
	}
	if err := scenario.WriteJUnit(f, results, took); err != nil {
		f.Close()
		return fmt.Errorf("cannot write the JUnit report %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cannot write the JUnit report %s: %w", path, err)
	}
	return nil
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
