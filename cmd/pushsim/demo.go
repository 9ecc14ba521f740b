package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/verifyclient"
	"github.com/pushsim/pushsim/internal/tourstage"
	"github.com/pushsim/pushsim/server"
	"github.com/pushsim/pushsim/tui/demo"
	"github.com/pushsim/pushsim/tui/style"
)

const demoUsage = `Usage: pushsim demo [flags]

Starts the server with its sample backend, enrolls a phone for a demo user
and splits the terminal: the app backend's console on the left, the phone
on the right. Tab moves between them; ? lists each pane's keys.

Examples:
  pushsim demo                          # state in a temporary directory
  pushsim demo --tour                   # the quickstart, one step per Enter
  pushsim demo --phones 2               # two phones for alice: answer on one
  pushsim demo --server http://127.0.0.1:4010   # a running pushsim serve

Flags:
`

// maxDemoPhones keeps the phones on one screen.
const maxDemoPhones = 4

// demoTerminal replaces the terminal the demo draws on; tests set it.
var demoTerminal []tea.ProgramOption

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, demoUsage); fs.PrintDefaults() }
	tour := fs.Bool("tour", false, "walk through the Verify Push quickstart, one step per Enter")
	phones := fs.Int("phones", 1, fmt.Sprintf("phones for the user (1-%d): side by side, stacked or in tabs, as the terminal allows", maxDemoPhones))
	user := fs.String("user", "alice", "the demo user's `NAME`; Verify sees its SHA-256")
	data := fs.String("data", "", "keep the server's and phones' state in `DIR` (default a temporary directory, removed on exit)")
	serverURL := fs.String("server", "", "use the pushsim server at `URL` instead of starting one")
	addr := fs.String("addr", "127.0.0.1:0", "listen address of the demo's server (loopback only)")
	accountSid := fs.String("account-sid", os.Getenv("PUSHSIM_ACCOUNT_SID"), "account SID, for the console's and the tour's calls to a --server reachable from the network (env PUSHSIM_ACCOUNT_SID)")
	authToken := fs.String("auth-token", os.Getenv("PUSHSIM_AUTH_TOKEN"), "auth token, for the console's and the tour's calls to a --server reachable from the network (env PUSHSIM_AUTH_TOKEN)")
	themeName := fs.String("theme", style.ThemeDefault, "colours: "+strings.Join(style.ThemeNames(), " or "))
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *phones < 1 || *phones > maxDemoPhones {
		return fmt.Errorf("--phones must be between 1 and %d, not %d", maxDemoPhones, *phones)
	}
	if *tour && *phones != 1 {
		return errors.New("the tour registers one phone: drop --phones or --tour")
	}
	theme, err := style.ThemeNamed(*themeName)
	if err != nil {
		return err
	}
	if *serverURL == "" && !isLoopback(*addr) {
		return fmt.Errorf("--addr %s: the demo serves on loopback only; for a shared server run pushsim serve and pass --server", *addr)
	}
	if *serverURL != "" && *tour && (*accountSid == "" || *authToken == "") {
		return errors.New("the tour calls Verify as your backend does: give --account-sid and --auth-token (or PUSHSIM_ACCOUNT_SID and PUSHSIM_AUTH_TOKEN) with --server")
	}

	dir := *data
	if dir == "" {
		if dir, err = os.MkdirTemp("", "pushsim-demo-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	opts := demo.Options{
		ServerURL: strings.TrimRight(*serverURL, "/"), AccountSid: *accountSid, AuthToken: *authToken,
		User: *user, Phones: *phones, Home: dir,
		// Phones whose homes go with the temporary directory leave no
		// orphaned factors on a server that outlives the demo.
		DeleteFactorsOnExit: *serverURL != "" && *data == "",
		TemporaryHome:       *data == "",
		App:                 verifyclient.DefaultApp(version), Theme: theme,
	}
	if *tour {
		stage, err := tourstage.Start()
		if err != nil {
			return err
		}
		defer stage.Close()
		opts.Tour = stage
	}
	if opts.ServerURL != "" {
		// The panes would wait for it forever.
		if err := device.CheckServer(ctx, nil, opts.ServerURL); err != nil {
			if isUnreachable(err) {
				return noServer(opts.ServerURL, `start one with "pushsim serve", or leave out --server and the demo starts its own`, err)
			}
			return err
		}
		return demo.Run(ctx, opts, demoTerminal...)
	}
	stop, err := startDemoServer(ctx, *addr, dir, &opts)
	if err != nil {
		return err
	}
	err = demo.Run(ctx, opts, demoTerminal...)
	return errors.Join(err, stop())
}

// startDemoServer starts a server with its sample backend for the demo,
// keeping its state under dir and its log in dir/server.log (the terminal
// belongs to the demo). It fills in the server's URL and credentials.
func startDemoServer(ctx context.Context, addr, dir string, opts *demo.Options) (stop func() error, err error) {
	logFile, err := os.OpenFile(filepath.Join(dir, "server.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	ln, err := listen(addr)
	if err != nil {
		logFile.Close()
		return nil, err
	}
	base := "http://" + ln.Addr().String()
	log := slog.New(slog.NewTextHandler(logFile, nil))
	srv, err := server.New(ctx, server.Config{
		DataDir: filepath.Join(dir, "server"), AccountSid: opts.AccountSid, AuthToken: opts.AuthToken,
		TestCredentials: true, PublicURL: base, InternalURL: base, Logger: log,
	})
	if err != nil {
		ln.Close()
		logFile.Close()
		return nil, err
	}
	opts.ServerURL = base
	opts.AccountSid, opts.AuthToken = srv.Credentials()
	serving, stopServing := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(serving, ln) }()
	return func() error {
		stopServing()
		return errors.Join(<-served, srv.Close(), logFile.Close())
	}, nil
}
