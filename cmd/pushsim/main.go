// Command pushsim simulates push-based multi-factor authentication: a Verify
// v2 compatible server, a simulated phone, and a terminal UI that draws it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/pushsim/pushsim/device"
)

// version names the build in User-Agent strings and logs.
const version = "0.1.0"

// command is one subcommand: it parses its own flags from args and returns
// an error to be printed as one line on stderr.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"demo", "backend console and phone in one terminal (--tour: the quickstart)", runDemo},
		{"serve", "run the Verify server alone", runServe},
		{"device", "run one simulated phone (--headless for scripts)", runDevice},
		{"bench", "measure a server under load: creates, approvals, push latency, memory", runBench},
		{"run", "run scenario files: phones, sign-ins, faults and expectations", runRun},
	}
}

const usage = `pushsim simulates push MFA in the style of Twilio Verify Push.

Examples:
  pushsim demo                                # push MFA end to end: backend console and phone
  pushsim demo --tour                         # the Verify Push quickstart, one step per Enter
  pushsim serve                               # server on 127.0.0.1:4010, test credentials
  pushsim device --headless --identity alice  # a phone that prints one JSON line per event
  pushsim bench                               # creates/s, approvals/s and push latency on this machine
  pushsim run assets/scenarios/*              # the scenario library: PASS or FAIL per scenario

Commands:
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		default:
			fmt.Fprintf(stderr, "pushsim %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "pushsim: unknown command %q (try pushsim --help)\n", args[0])
	return 2
}

// noServer says that nothing answers at serverURL, what to do about it,
// and the network's reason, in that order.
func noServer(serverURL, todo string, err error) error {
	var down *device.UnreachableError
	if errors.As(err, &down) {
		err = down.Err
	}
	return fmt.Errorf("no pushsim server at %s: %s: %w", strings.TrimRight(serverURL, "/"), todo, err)
}

func isUnreachable(err error) bool {
	var down *device.UnreachableError
	return errors.As(err, &down)
}

// errUsage reports a flag error the flag package has already printed.
var errUsage = errors.New("usage error")

func printUsage(w io.Writer) {
	fmt.Fprint(w, usage)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun 'pushsim <command> --help' for a command's flags.\n")
}

// parseFlags parses args into fs and maps flag errors to errUsage so run
// does not print them twice.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	return nil
}
