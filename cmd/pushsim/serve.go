package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pushsim/pushsim/internal/conncap"
	"github.com/pushsim/pushsim/server"
	"github.com/pushsim/pushsim/server/backend"
	"github.com/pushsim/pushsim/server/push"
	"github.com/pushsim/pushsim/server/store"
	"github.com/pushsim/pushsim/server/verify"
	"github.com/pushsim/pushsim/server/webhook"
	"github.com/pushsim/pushsim/workshop"
	"github.com/pushsim/pushsim/workshop/pollsummary"
	"github.com/pushsim/pushsim/workshop/reach"
)

const serveUsage = `Usage: pushsim serve [flags]

Runs the Verify v2 server. On loopback it accepts the test credentials
AC00000000000000000000000000000000 / pushsimtesttoken.

Examples:
  pushsim serve                          # 127.0.0.1:4010, state in ~/.pushsim/server
  pushsim serve --memory                 # nothing kept after exit
  pushsim serve --database postgres://pushsim@db/pushsim
                                         # one of several servers sharing a database (docs/deploy.md)
  pushsim serve --addr 0.0.0.0:4010 --public-url http://laptop.local:4010
  pushsim serve --addr 0.0.0.0:4010 --ssh :2222 --quiet
                                         # a phone for every "ssh -p 2222 name@host"

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
	database := fs.String("database", os.Getenv("PUSHSIM_DATABASE"), "keep state in this PostgreSQL database (a postgres:// `URL`), which any number of servers may share, instead of SQLite in --data (env PUSHSIM_DATABASE)")
	accountSid := fs.String("account-sid", os.Getenv("PUSHSIM_ACCOUNT_SID"), "account SID (env PUSHSIM_ACCOUNT_SID)")
	authToken := fs.String("auth-token", os.Getenv("PUSHSIM_AUTH_TOKEN"), "auth token (env PUSHSIM_AUTH_TOKEN)")
	policy := fs.String("webhook-policy", os.Getenv("PUSHSIM_WEBHOOK_POLICY"), "dev (loopback and private webhook URLs allowed) or strict (public addresses only); default dev on loopback, strict otherwise")
	sshAddr := fs.String("ssh", os.Getenv("PUSHSIM_SSH"), "also serve a phone to every SSH connection on this `ADDR` (e.g. :2222: the port on --addr's host), enrolled under the SSH user name, which then belongs to the SSH key that used it first (env PUSHSIM_SSH)")
	logLevel := fs.String("log-level", envDefault("PUSHSIM_LOG_LEVEL", "info"), "debug (every request, every poll), info (polls summed up every 30s), warn or error (env PUSHSIM_LOG_LEVEL)")
	quiet := fs.Bool("quiet", false, "log only warnings and errors: --log-level warn")
	publicURL := fs.String("public-url", os.Getenv("PUSHSIM_PUBLIC_URL"), "base URL used in url, links and meta (default http://<addr>; env PUSHSIM_PUBLIC_URL)")
	walLimit := fs.Int("wal-limit-mb", store.DefaultWALLimit>>20, "bound of the database's write-ahead log on disk, in MB: nearing it the server copies the log into the database before taking more writes, and warns when a reader keeps it from doing so")
	maxPending := fs.Int("max-pending-per-factor", verify.DefaultMaxPendingPerFactor, "pending challenges a factor may have before creates are refused with 429 (code 20429, against push bombing); 0 turns the cap off, for load tests")
	socketsPerAddr := fs.Int("push-sockets-per-addr", 32, "push sockets one client address may hold open; raise it when many simulated phones share one address (load tests, NAT)")
	connsPerAddr := fs.Int("conns-per-addr", 256, "connections one client address other than loopback may hold open: HTTP, push sockets among them (so never fewer than --push-sockets-per-addr + 224), and with --ssh as many SSH connections again; 0 turns the cap off (behind a load balancer that does not pass the client's address)")
	identities := fs.String("identity-processing", envDefault("PUSHSIM_IDENTITY_PROCESSING", os.Getenv("IDENTITY_PROCESSING")), "what the sample backend sends Verify for a user name: hash (SHA-256, the default) or raw, as the template's IDENTITY_PROCESSING (env PUSHSIM_IDENTITY_PROCESSING or IDENTITY_PROCESSING)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dir := *data
	where := ""
	switch {
	case *database != "":
		if *memory || *data != "" {
			return errors.New("--database keeps the state in PostgreSQL: --data, PUSHSIM_DATA and --memory are SQLite's and do not apply")
		}
		u, err := url.Parse(*database)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return fmt.Errorf("--database must be a postgres:// URL, not %q", *database)
		}
		where = u.Redacted()
	case *memory:
		dir = ""
	case dir == "":
		home, err := stateDir()
		if err != nil {
			return err
		}
		dir = filepath.Join(home, "server")
	}
	levelFlagGiven := false
	fs.Visit(func(f *flag.Flag) { levelFlagGiven = levelFlagGiven || f.Name == "log-level" })
	level, err := parseLogLevel(*logLevel, *quiet, levelFlagGiven)
	if err != nil {
		return err
	}
	processing, err := backend.ParseIdentityProcessing(*identities)
	if err != nil {
		return err
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
	// The server's calls to itself and the workshop's phones go over
	// loopback, never to an address like [::] that names no host.
	internal := "http://" + loopbackAddr(*addr, ln.Addr())
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
	logs := pollsummary.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}), pollsummary.Options{})
	defer logs.Every(30 * time.Second)()
	log := slog.New(logs)
	if *walLimit < 1 {
		return fmt.Errorf("--wal-limit-mb must be at least 1, not %d", *walLimit)
	}
	if *maxPending < 0 {
		return fmt.Errorf("--max-pending-per-factor must be 0 (no cap) or more, not %d", *maxPending)
	}
	if *socketsPerAddr < 1 {
		return fmt.Errorf("--push-sockets-per-addr must be at least 1, not %d", *socketsPerAddr)
	}
	if *connsPerAddr < 0 {
		return fmt.Errorf("--conns-per-addr must be 0 (no cap) or more, not %d", *connsPerAddr)
	}
	connCap := *connsPerAddr
	if connCap == 0 {
		connCap = -1 // the server's "no cap"
	}
	pendingCap := *maxPending
	if pendingCap == 0 {
		pendingCap = -1 // the server's "no cap"
	}
	pushCfg := push.Config{MaxConnsPerAddr: *socketsPerAddr}
	if *sshAddr != "" {
		// Every workshop phone dials the push service from loopback; phones
		// elsewhere keep the usual per-address cap.
		pushCfg.MaxConnsPerLoopbackAddr = 10000
	}
	srv, err := server.New(ctx, server.Config{
		WebhookPolicy: webhooks, Push: pushCfg,
		DataDir: dir, Database: *database, AccountSid: *accountSid, AuthToken: *authToken,
		TestCredentials: loopback, Exposed: !loopback, IdentityProcessing: *identities, PublicURL: base, Logger: log,
		InternalURL: internal, MaxPendingPerFactor: pendingCap, WALLimit: int64(*walLimit) << 20,
		MaxConnsPerAddr: connCap,
	})
	if err != nil {
		return err
	}
	defer srv.Close()
	sid, token := srv.Credentials()
	if srv.GeneratedCredentials() {
		kept := "kept in " + dir
		switch {
		case where != "":
			kept = "kept in the database"
		case dir == "":
			kept = "forgotten at exit: --memory"
		}
		fmt.Fprintf(stdout, "Generated credentials (shown once, %s):\n  Account SID: %s\n  Auth token:  %s\n", kept, sid, token)
	}
	if where == "" {
		where = dir
	}
	if where == "" {
		where = "memory"
	}
	// A listener bound everywhere reports [::], which nobody can type: the
	// banner names the machine's addresses instead.
	urls := []string{base}
	if *publicURL == "" {
		urls = reach.Listener(ln.Addr(), "").URLs()
	}
	shown := urls[0]
	fmt.Fprintf(stdout, "pushsim %s serving Verify v2 at %s/v2 (account %s, state in %s)\n", version, shown, sid, where)
	if len(urls) > 1 {
		fmt.Fprintf(stdout, "  also at %s/v2\n", strings.Join(urls[1:], "/v2, "))
	}
	if !loopback {
		fmt.Fprintf(stdout, "Reachable from the network: the sample backend's calls need the account's credentials (curl -u %s:…), and a second phone for a user needs a code from\n  curl -u %s:… %s/backend/enrollment-code -d identity=<name>\n", sid, sid, shown)
	}
	if *sshAddr == "" {
		return srv.Serve(ctx, ln)
	}
	stop, err := serveWorkshop(workshopListenAddr(*sshAddr, *addr), dir, internal, processing == backend.IdentityRaw, *publicURL, connCap, log, stdout)
	if err != nil {
		return err
	}
	defer stop()
	// Attendees are told the server stopped while the server their phones
	// talk to still answers; only then does it shut down.
	serving, stopServing := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServing()
	go func() {
		select {
		case <-ctx.Done():
			stop()
			stopServing()
		case <-serving.Done():
		}
	}()
	return srv.Serve(serving, ln)
}

// listen opens the listen address, and says what to do when it is taken.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("%s is already in use (another pushsim?): choose another address with --addr, e.g. --addr 127.0.0.1:0 for any free port: %w", addr, err)
	}
	return ln, err
}

// serveWorkshop starts the SSH phone server beside the Verify server and
// prints how attendees connect; stop tells every attendee the server
// stopped and ends their sessions. It may be called more than once.
func serveWorkshop(addr, dataDir, serverURL string, rawIdentities bool, publicURL string, connsPerAddr int, log *slog.Logger, stdout io.Writer) (stop func(), err error) {
	kept := filepath.Join(dataDir, "workshop-phones")
	cleanup := func() {}
	if dataDir == "" {
		if dataDir, err = os.MkdirTemp("", "pushsim-workshop-"); err != nil {
			return nil, err
		}
		cleanup = func() { os.RemoveAll(dataDir) }
		kept = ""
	}
	ws, err := workshop.New(workshop.Config{
		ServerURL: serverURL, RawIdentities: rawIdentities, HostKeyPath: filepath.Join(dataDir, "ssh_host_ed25519"),
		PhonesDir: filepath.Join(dataDir, "workshop-phones"), AppVersion: version, Logger: log,
	})
	if err != nil {
		cleanup()
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		err = fmt.Errorf("%s is already in use: choose another port with --ssh: %w", addr, err)
	}
	if err != nil {
		cleanup()
		return nil, err
	}
	r := reach.Listener(ln.Addr(), publicURL)
	if connsPerAddr > 0 {
		// An SSH client over the cap is cut before the handshake: there is
		// no session yet to say why in.
		ln = conncap.Listen(ln, connsPerAddr, func(c net.Conn) { c.Close() })
	}
	fmt.Fprintf(stdout, "Workshop phones: ssh -p %s <your-name>@%s\n", r.Port, r.Hosts[0])
	for _, h := range r.Hosts[1:] {
		fmt.Fprintf(stdout, "  or             ssh -p %s <your-name>@%s\n", r.Port, h)
	}
	if r.ThisMachineOnly {
		fmt.Fprintf(stdout, "  (this machine only: --ssh 0.0.0.0:%s lets the room connect)\n", r.Port)
	}
	if kept != "" {
		fmt.Fprintf(stdout, "  A name belongs to the first SSH key that uses it; kept in %s\n", kept)
	} else {
		fmt.Fprintln(stdout, "  A name belongs to the first SSH key that uses it, until the server stops (--memory)")
	}
	done := make(chan struct{})
	go func() {
		if err := ws.Serve(ln); err != nil {
			log.Error("ssh server", "err", err)
		}
		close(done)
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := ws.Shutdown(ctx); err != nil {
				log.Warn("ssh server shutdown", "err", err)
			}
			<-done
			cleanup()
		})
	}, nil
}

// workshopListenAddr is where --ssh listens: a bare port or an address
// without a host takes --addr's host, so a server kept on loopback keeps
// its workshop there too.
func workshopListenAddr(ssh, httpAddr string) string {
	if _, err := strconv.Atoi(ssh); err == nil {
		ssh = ":" + ssh
	}
	host, port, err := net.SplitHostPort(ssh)
	if err != nil || host != "" {
		return ssh // net.Listen says what is wrong with it
	}
	httpHost, _, _ := net.SplitHostPort(httpAddr)
	return net.JoinHostPort(httpHost, port)
}

// loopbackAddr is how this machine reaches a listener: its own address,
// or loopback when it is bound to every interface.
func loopbackAddr(flagAddr string, ln net.Addr) string {
	host, port, err := net.SplitHostPort(ln.String())
	if err != nil {
		return ln.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if flagHost, _, _ := net.SplitHostPort(flagAddr); flagHost == "::" {
			host = "::1" // an IPv6-only listener may not take IPv4
		}
	}
	return net.JoinHostPort(host, port)
}

// parseLogLevel reads --log-level and --quiet; --quiet is warn, and wins
// over PUSHSIM_LOG_LEVEL but not over a --log-level that says otherwise.
func parseLogLevel(name string, quiet, levelFlagGiven bool) (slog.Level, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(name)); err != nil {
		return 0, fmt.Errorf("--log-level %q: use debug, info, warn or error", name)
	}
	if !quiet {
		return level, nil
	}
	if levelFlagGiven && level != slog.LevelWarn {
		return 0, fmt.Errorf("--quiet is --log-level warn, and --log-level says %s: use one", name)
	}
	return slog.LevelWarn, nil
}
