package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/verifyclient"
	"github.com/pushsim/pushsim/internal/termtext"
	"github.com/pushsim/pushsim/server/backend"
	"github.com/pushsim/pushsim/tui/phone"
	"github.com/pushsim/pushsim/tui/style"
)

// deviceUsage is the help; %s is the identity Verify knows alice as.
const deviceUsage = `Usage: pushsim device --identity ID [flags]

Runs one simulated phone. Without --headless it draws the phone in the
terminal (press ? on any screen for its keys). Either way it enrolls the
identity if its home has no factor yet. With --headless it then prints one
JSON object per line for every event until interrupted. For --identity
alice:

  {"event":"enrolled","factor_sid":"YF...",
   "identity":"%s",...}
  {"event":"challenge","via":"push|poll","challenge_sid":"YC...","message":"...",...}
  {"event":"approved"|"denied"|"expired"|"push_connected"|"push_disconnected"|"push_duplicate"|"error",...}

The identity printed is the one Verify knows: pushsim's sample backend
sends Verify the SHA-256 of the user's name, never the name itself.
A challenge pushed again (resent) prints another "challenge" line, with
"resent":true.

--auto approve never approves a number-matching challenge: approving one
takes the number shown on the sign-in page, which nothing gives the phone.
It prints an "error" line with "op":"auto-approved" for it and leaves it
pending, to be typed on the drawn phone's keypad or denied. --auto deny
denies it like any other.

Flags:
`

func runDevice(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("device", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), deviceUsage, backend.HashIdentity("alice"))
		fs.PrintDefaults()
	}
	server := fs.String("server", "http://127.0.0.1:4010", "base `URL` of the Verify server")
	identity := fs.String("identity", "", "the user `ID` to enroll the phone for (required)")
	name := fs.String("name", "", "friendly `NAME` of the factor (default \"<identity>'s factor\")")
	home := fs.String("home", "", "the phone's data `DIR` (default $PUSHSIM_HOME/device-<identity>, else ~/.pushsim/device-<identity>)")
	tokenURL := fs.String("access-token-url", "", "app backend endpoint that hands out enrollment tokens (default <server>/backend/access-token)")
	enrollmentCode := fs.String("enrollment-code", "", "one-time `CODE` from the host for enrolling a second phone of the identity on a server reachable from the network (sent to the access-token URL as enrollmentCode)")
	noPush := fs.Bool("no-push", false, "register without a push token; challenges arrive by polling only")
	pollInterval := fs.Duration("poll-interval", device.DefaultPollInterval, "time between polls for pending challenges")
	auto := fs.String("auto", "ignore", "answer every challenge: approve (all but number-matching ones), deny or ignore")
	headless := fs.Bool("headless", false, "print events as JSON lines instead of drawing the phone")
	themeName := fs.String("theme", style.ThemeDefault, "colours of the drawn phone: "+strings.Join(style.ThemeNames(), " or "))
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	phoneClock := time.Now
	if *headless {
		// A failure that ends the phone, or keeps it from starting
		// (enrollment, an unreachable server), is an event too, the last
		// line, so a script reading the stream sees why it stopped.
		defer func() {
			if err == nil || ctx.Err() != nil || errors.Is(err, errStdout) {
				return
			}
			line, _ := json.Marshal(device.Event{Kind: device.EventError, Time: phoneClock().UTC().Truncate(time.Second), Op: "launch", Error: err.Error()})
			if _, werr := stdout.Write(append(termtext.JSON(line), '\n')); werr != nil {
				err = errors.Join(err, werr)
			}
		}()
	}

	if *identity == "" {
		return errors.New("--identity is required")
	}
	answer, ok := map[string]string{"approve": verifyclient.ChallengeApproved, "deny": verifyclient.ChallengeDenied, "ignore": ""}[*auto]
	if !ok {
		return fmt.Errorf("--auto must be approve, deny or ignore, not %q", *auto)
	}
	if *pollInterval <= 0 {
		return fmt.Errorf("--poll-interval must be positive, not %s", *pollInterval)
	}
	theme, err := style.ThemeNamed(*themeName)
	if err != nil {
		return err
	}
	if *tokenURL == "" {
		*tokenURL = strings.TrimRight(*server, "/") + "/backend/access-token"
	}
	if *enrollmentCode != "" {
		u, err := url.Parse(*tokenURL)
		if err != nil {
			return fmt.Errorf("--access-token-url %q: %w", *tokenURL, err)
		}
		q := u.Query()
		q.Set("enrollmentCode", *enrollmentCode)
		u.RawQuery = q.Encode()
		*tokenURL = u.String()
	}
	if *home == "" {
		dir, err := defaultDeviceHome(*identity)
		if err != nil {
			return err
		}
		*home = dir
	}
	// Before the phone's home is made: a phone with nowhere to enroll or
	// poll is a mistake to report, not a state to create.
	if err := device.CheckServer(ctx, nil, *server); isUnreachable(err) {
		return noServer(*server, `start one with "pushsim serve" (or pass --server)`, err)
	}

	d, err := device.New(device.Config{
		ServerURL: *server, AccessTokenURL: *tokenURL, Home: *home,
		App: verifyclient.DefaultApp(version), PollInterval: *pollInterval,
	})
	if err != nil {
		return err
	}
	phoneClock = d.Now
	if *headless {
		opts := device.LaunchOptions{Identity: *identity, FriendlyName: *name, AutoAnswer: answer}
		if !*noPush {
			opts.PushURL = d.PushURL()
		}
		return runHeadless(ctx, d, opts, stdout)
	}
	return phone.Run(ctx, d, phone.Options{
		Identity: *identity, FriendlyName: *name, AutoAnswer: answer, NoPush: *noPush, Theme: theme,
	})
}

// runHeadless prints every event as one JSON line while the phone runs.
func runHeadless(parent context.Context, d *device.Device, opts device.LaunchOptions, stdout io.Writer) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	events := d.Subscribe(ctx)
	printed := make(chan error, 1)
	go func() {
		for e := range events {
			line, err := json.Marshal(e)
			if err == nil {
				// Messages and errors come from the server; a terminal
				// must not act on what they hold (the JSON is the same).
				_, err = stdout.Write(append(termtext.JSON(line), '\n'))
			}
			if err != nil {
				printed <- err
				cancel()
				return
			}
		}
		printed <- nil
	}()
	err := d.Launch(ctx, opts)
	cancel()
	if perr := <-printed; perr != nil {
		return errors.Join(err, errStdout, perr)
	}
	return err
}

// errStdout marks a failure to write the event stream, which no further
// line can report.
var errStdout = errors.New("writing events")

// defaultDeviceHome is $PUSHSIM_HOME/device-<identity>, else
// ~/.pushsim/device-<identity>.
func defaultDeviceHome(identity string) (string, error) {
	if identity == "." || identity == ".." || strings.ContainsAny(identity, `/\`+"\x00") {
		return "", fmt.Errorf("--identity %q cannot name a directory; pass --home", identity)
	}
	root := os.Getenv("PUSHSIM_HOME")
	if root == "" {
		userHome, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no home directory for the phone's data (set PUSHSIM_HOME or pass --home): %w", err)
		}
		root = filepath.Join(userHome, ".pushsim")
	}
	return filepath.Join(root, "device-"+identity), nil
}
