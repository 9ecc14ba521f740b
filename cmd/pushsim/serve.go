package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/pushsim/pushsim/server"
	"github.com/pushsim/pushsim/server/push"
	"github.com/pushsim/pushsim/server/webhook"
	"github.com/pushsim/pushsim/workshop"
)

const serveUsage = `Usage: pushsim serve [flags]

Runs the Verify v2 server. On loopback it accepts the test credentials
AC00000000000000000000000000000000 / pushsimtesttoken.

Examples:
  pushsim serve                          # 127.0.0.1:4010, state in ~/.pushsim/server
  pushsim serve --memory                 # nothing kept after exit
  pushsim serve --addr 0.0.0.0:4010 --public-url http://laptop.local:4010
  pushsim serve --ssh :2222              # a phone for every "ssh -p 2222 name@host"

Flags:
`

// stateDir is pushsim's one state directory: $PUSHSIM_HOME, else ~/.pushsim.
func stateDir() (string, error) {
	if d := os.Getenv("PUSHSIM_HOME"); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find a home directory; set PUSHSIM_HOME: %w", err)
	}
	return filepath.Join(home, ".pushsim"), nil
}

// envDefault returns the environment variable's value or def.
func envDefault(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, serveUsage); fs.PrintDefaults() }
	addr := fs.String("addr", envDefault("PUSHSIM_ADDR", "127.0.0.1:4010"), "listen address (env PUSHSIM_ADDR)")
	data := fs.String("data", os.Getenv("PUSHSIM_DATA"), "data directory (default $PUSHSIM_HOME/server or ~/.pushsim/server; env PUSHSIM_DATA)")
	memory := fs.Bool("memory", false, "keep state in memory only")
	accountSid := fs.String("account-sid", os.Getenv("PUSHSIM_ACCOUNT_SID"), "account SID (env PUSHSIM_ACCOUNT_SID)")
	authToken := fs.String("auth-token", os.Getenv("PUSHSIM_AUTH_TOKEN"), "auth token (env PUSHSIM_AUTH_TOKEN)")
	policy := fs.String("webhook-policy", os.Getenv("PUSHSIM_WEBHOOK_POLICY"), "dev (loopback and private webhook URLs allowed) or strict (public addresses only); default dev on loopback, strict otherwise")
	sshAddr := fs.String("ssh", os.Getenv("PUSHSIM_SSH"), "also serve a phone to every SSH connection on this `ADDR` (e.g. :2222), enrolled under the SSH user name (env PUSHSIM_SSH)")
	publicURL := fs.String("public-url", os.Getenv("PUSHSIM_PUBLIC_URL"), "base URL used in url, links and meta (default http://<addr>; env PUSHSIM_PUBLIC_URL)")
	identities := fs.String("identity-processing", envDefault("PUSHSIM_IDENTITY_PROCESSING", os.Getenv("IDENTITY_PROCESSING")), "what the sample backend sends Verify for a user name: hash (SHA-256, the default) or raw, as the template's IDENTITY_PROCESSING (env PUSHSIM_IDENTITY_PROCESSING or IDENTITY_PROCESSING)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dir := *data
	if *memory {
		dir = ""
	} else if dir == "" {
		home, err := stateDir()
		if err != nil {
			return err
		}
		dir = filepath.Join(home, "server")
	}
	ln, err := listen(*addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	base := *publicURL
	if base == "" {
		base = "http://" + ln.Addr().String()
	}
	loopback := isLoopback(ln.Addr().String())
	webhooks := webhook.Dev
	if !loopback {
		webhooks = webhook.Strict
	}
	if *policy != "" {
		if webhooks, err = webhook.ParsePolicy(*policy); err != nil {
			return err
		}
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	var pushCfg push.Config
	if *sshAddr != "" {
		// Every workshop phone dials the push service from loopback.
		pushCfg.MaxConnsPerAddr = 10000
	}
	srv, err := server.New(ctx, server.Config{
		WebhookPolicy: webhooks, Push: pushCfg,
		DataDir: dir, AccountSid: *accountSid, AuthToken: *authToken,
		TestCredentials: loopback, Exposed: !loopback, IdentityProcessing: *identities, PublicURL: base, Logger: log,
		InternalURL: "http://" + ln.Addr().String(),
	})
	if err != nil {
		return err
	}
	defer srv.Close()
	sid, token := srv.Credentials()
	if srv.GeneratedCredentials() {
		fmt.Fprintf(stdout, "Generated credentials (shown once, kept in %s):\n  Account SID: %s\n  Auth token:  %s\n", dir, sid, token)
	}
	where := dir
	if where == "" {
		where = "memory"
	}
	fmt.Fprintf(stdout, "pushsim %s serving Verify v2 at %s/v2 (account %s, state in %s)\n", version, base, sid, where)
	if !loopback {
		fmt.Fprintf(stdout, "Reachable from the network: the sample backend's calls need the account's credentials (curl -u %s:…), and a second phone for a user needs a code from\n  curl -u %s:… %s/backend/enrollment-code -d identity=<name>\n", sid, sid, base)
	}
	if *sshAddr != "" {
		stop, err := serveWorkshop(*sshAddr, dir, "http://"+ln.Addr().String(), log, stdout)
		if err != nil {
			return err
		}
		defer stop()
	}
	return srv.Serve(ctx, ln)
}

// listen opens the listen address, and says what to do when it is taken.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("%s is already in use (another pushsim?): choose another address with --addr, e.g. --addr 127.0.0.1:0 for any free port: %w", addr, err)
	}
	return ln, err
}

// serveWorkshop starts the SSH phone server beside the Verify server; stop
// ends its sessions.
func serveWorkshop(addr, dataDir, serverURL string, log *slog.Logger, stdout io.Writer) (stop func(), err error) {
	cleanup := func() {}
	if dataDir == "" {
		if dataDir, err = os.MkdirTemp("", "pushsim-workshop-"); err != nil {
			return nil, err
		}
		cleanup = func() { os.RemoveAll(dataDir) }
	}
	ws, err := workshop.New(workshop.Config{
		ServerURL: serverURL, HostKeyPath: filepath.Join(dataDir, "ssh_host_ed25519"),
		PhonesDir: filepath.Join(dataDir, "workshop-phones"), AppVersion: version, Logger: log,
	})
	if err != nil {
		cleanup()
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		cleanup()
		return nil, err
	}
	fmt.Fprintf(stdout, "Workshop phones: ssh -p %s <your-name>@<this host>\n", portOf(ln.Addr()))
	done := make(chan struct{})
	go func() {
		if err := ws.Serve(ln); err != nil {
			log.Error("ssh server", "err", err)
		}
		close(done)
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ws.Shutdown(ctx)
		<-done
		cleanup()
	}, nil
}

func portOf(a net.Addr) string {
	_, port, _ := net.SplitHostPort(a.String())
	return port
}
