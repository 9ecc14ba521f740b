// Package workshop gives every SSH connection its own phone: a simulated
// device with its own keystore, enrolled under the SSH user name against a
// pushsim server, drawn by the tui phone in the attendee's terminal. A room
// can follow a push-MFA workshop with nothing but an SSH client.
//
// A name belongs to an SSH key: the first public key that connects under a
// name owns it, and the binding is kept beside the phone, in PhonesDir.
// The same key reconnecting opens the same phone (and closes it in any
// older session); another key under that name is refused, and so is a
// client that offers no key. A phone enrolls only under its owner's name.
//
// It is a server, so it lives outside tui/: it listens, holds sessions and
// builds each attendee's device, and uses tui/phone only to draw. The
// Verify server does not import it; `pushsim serve --ssh` runs the two side
// by side, and the phones reach the server over HTTP like any phone.
package workshop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
	bm "charm.land/wish/v2/bubbletea"
	gossh "golang.org/x/crypto/ssh"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/verifyclient"
	"github.com/pushsim/pushsim/tui/phone"
	"github.com/pushsim/pushsim/tui/style"
)

// Config sets up the SSH server.
type Config struct {
	// ServerURL is the pushsim server the phones talk to, e.g.
	// "http://127.0.0.1:4010".
	ServerURL string
	// AccessTokenURL is the app backend's enrollment endpoint; default
	// the server's sample backend's.
	AccessTokenURL string
	// RawIdentities says the backend sends names to Verify as they are
	// (IDENTITY_PROCESSING raw) rather than hashed, so only names that
	// are valid Verify identities are accepted.
	RawIdentities bool
	// HostKeyPath is where the SSH host key lives; created on first start.
	HostKeyPath string
	// PhonesDir holds one directory per name: its owner's key and its
	// phone's home.
	PhonesDir string
	// AppVersion names pushsim in the phones' User-Agent.
	AppVersion string
	// PollInterval is how often the phones poll to start with; default
	// device.DefaultPollInterval.
	PollInterval time.Duration
	// HandshakeTimeout is how long a connection may take to finish its SSH
	// handshake (default 20 s): one that says nothing is closed then,
	// rather than holding a descriptor for the 30-minute idle timeout.
	HandshakeTimeout time.Duration
	Theme            style.Theme
	Logger           *slog.Logger
}

// Server serves phones over SSH.
type Server struct {
	cfg         Config
	ssh         *ssh.Server
	accessToken *url.URL
	claims      sync.Mutex // serialises reading and writing owner files

	mu       sync.Mutex
	closing  bool
	live     map[string]*attendee // the newest session of each name, by directory
	sessions sync.WaitGroup       // admitted sessions, until their last line is written
}

// attendee is one admitted session.
type attendee struct {
	name, dir, fingerprint string
	ctx                    context.Context
	stop                   context.CancelCauseFunc
	// previous is the session this one took the phone over from; done
	// closes once the phone is free again.
	previous *attendee
	done     chan struct{}
	phone    *phone.Phone
}

// farewell is why a session was ended from the server's side: the line
// the attendee reads as the phone closes.
type farewell string

func (f farewell) Error() string { return string(f) }

const (
	serverStopped   farewell = "pushsim: the workshop server stopped; this session has ended."
	serverStopping  farewell = "pushsim: the workshop server is stopping; connect again when it is back."
	openedElsewhere farewell = "pushsim: your phone was opened in another session with your key; this one has ended."
	stillClosing    farewell = "pushsim: your phone is still closing in your other session; connect again in a moment."

	noKey = "pushsim: this workshop knows you by your SSH key, and your ssh client offered none. " +
		"Make one with ssh-keygen -t ed25519, then connect again."
	noTerminal = "pushsim: the phone needs a terminal; connect with ssh -t."
)

// takeOverWait bounds how long a reconnecting attendee waits for their
// phone to close in the session they left.
const takeOverWait = 10 * time.Second

type attendeeKey struct{}

// New prepares the server; Serve starts it.
func New(cfg Config) (*Server, error) {
	if cfg.ServerURL == "" || cfg.HostKeyPath == "" || cfg.PhonesDir == "" {
		return nil, errors.New("workshop: ServerURL, HostKeyPath and PhonesDir are required")
	}
	if _, err := device.PushURL(cfg.ServerURL); err != nil {
		return nil, fmt.Errorf("workshop: %w", err)
	}
	if cfg.AccessTokenURL == "" {
		cfg.AccessTokenURL = strings.TrimRight(cfg.ServerURL, "/") + "/backend/access-token"
	}
	accessToken, err := url.Parse(cfg.AccessTokenURL)
	if err != nil {
		return nil, fmt.Errorf("workshop: access-token URL: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = 20 * time.Second
	}
	if err := os.MkdirAll(filepath.Dir(cfg.HostKeyPath), 0o700); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.PhonesDir, 0o700); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, accessToken: accessToken, live: map[string]*attendee{}}
	s.ssh, err = wish.NewServer(
		wish.WithHostKeyPath(cfg.HostKeyPath),
		// Every key gets in: whether it may use the name it came with is
		// decided in the session, where a refusal can say why.
		wish.WithPublicKeyAuth(func(ssh.Context, ssh.PublicKey) bool { return true }),
		// A client without a key gets in without being asked anything,
		// only to be told to make one.
		wish.WithKeyboardInteractiveAuth(func(ssh.Context, gossh.KeyboardInteractiveChallenge) bool { return true }),
		wish.WithIdleTimeout(30*time.Minute),
		func(srv *ssh.Server) error { srv.HandshakeTimeout = cfg.HandshakeTimeout; return nil },
		wish.WithMiddleware(bm.MiddlewareWithProgramHandler(s.program), s.attend),
	)
	if err != nil {
		return nil, fmt.Errorf("workshop: %w", err)
	}
	return s, nil
}

// Serve accepts SSH connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	err := s.ssh.Serve(ln)
	if errors.Is(err, ssh.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown ends every session with a line saying the server stopped,
// waits (until ctx ends) for those lines to be written, then closes the
// listener and the connections.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for _, a := range s.live {
		a.stop(serverStopped)
	}
	s.mu.Unlock()
	ended := make(chan struct{})
	go func() { s.sessions.Wait(); close(ended) }()
	var err error
	select {
	case <-ended:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if cerr := s.ssh.Close(); cerr != nil && !errors.Is(cerr, ssh.ErrServerClosed) && !errors.Is(cerr, net.ErrClosed) {
		err = errors.Join(err, cerr)
	}
	return err
}

// attend admits a session, runs the rest of the chain (the phone) and
// says goodbye when the server ended it.
func (s *Server) attend(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		a, refusal := s.admit(sess)
		if refusal != "" {
			s.cfg.Logger.Warn("workshop session refused", "user", sess.User(), "remote", sess.RemoteAddr().String(), "why", refusal)
			fmt.Fprintln(sess.Stderr(), refusal)
			sess.Exit(1)
			return
		}
		defer s.sessions.Done()
		defer s.sayGoodbye(sess, a)
		defer s.leave(a)
		if err := a.takeOver(); err != nil {
			a.stop(err)
			return
		}
		start := time.Now()
		s.cfg.Logger.Info("workshop phone connected", "user", a.name, "key", a.fingerprint, "remote", sess.RemoteAddr().String(), "took_over", a.previous != nil)
		defer func() {
			s.cfg.Logger.Info("workshop phone left", "user", a.name, "duration", time.Since(start).Round(time.Second))
		}()
		sess.Context().SetValue(attendeeKey{}, a)
		next(sess)
		if a.phone != nil {
			a.phone.Close()
		}
	}
}

// admit decides whether the session may open a phone and registers it if
// so; refusal is the line the attendee reads otherwise.
func (s *Server) admit(sess ssh.Session) (a *attendee, refusal string) {
	_, port, _ := net.SplitHostPort(sess.LocalAddr().String())
	name := sess.User()
	if why := nameRefusal(name, s.cfg.RawIdentities, port); why != "" {
		return nil, why
	}
	key := sess.PublicKey()
	if key == nil {
		return nil, noKey
	}
	if _, _, ok := sess.Pty(); !ok {
		return nil, noTerminal
	}
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing {
		return nil, string(serverStopping)
	}
	dir, why, err := s.claim(name, key)
	if err != nil {
		s.cfg.Logger.Error("workshop: owner of a name", "user", name, "err", err)
		return nil, "pushsim: cannot open your phone: " + err.Error()
	}
	if why != "" {
		return nil, why
	}
	ctx, stop := context.WithCancelCause(sess.Context())
	a = &attendee{name: name, dir: dir, fingerprint: gossh.FingerprintSHA256(key), ctx: ctx, stop: stop, done: make(chan struct{})}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		stop(nil)
		return nil, string(serverStopping)
	}
	a.previous = s.live[dir]
	s.live[dir] = a
	s.sessions.Add(1)
	return a, ""
}

// takeOver ends the session that still has this attendee's phone open, if
// any, and waits until the phone is free: one phone home never has two
// devices at once.
func (a *attendee) takeOver() error {
	if a.previous == nil {
		return nil
	}
	a.previous.stop(openedElsewhere)
	wait := time.NewTimer(takeOverWait)
	defer wait.Stop()
	select {
	case <-a.previous.done:
		return nil
	case <-a.ctx.Done():
		return context.Cause(a.ctx)
	case <-wait.C:
		return stillClosing
	}
}

// leave frees the phone for the next session of the same name, once the
// session it took the phone over from has freed it too.
func (s *Server) leave(a *attendee) {
	s.mu.Lock()
	if s.live[a.dir] == a {
		delete(s.live, a.dir)
	}
	s.mu.Unlock()
	if a.previous != nil {
		select {
		case <-a.previous.done:
		case <-time.After(takeOverWait):
		}
	}
	close(a.done)
	a.stop(nil)
}

// sayGoodbye tells the attendee why the server ended the session; a
// session the attendee ended needs no explanation.
func (s *Server) sayGoodbye(sess ssh.Session, a *attendee) {
	var why farewell
	if errors.As(context.Cause(a.ctx), &why) {
		fmt.Fprintln(sess.Stderr(), string(why))
		sess.Exit(1)
	}
}

// program builds the admitted session's phone; nil refuses the session
// with a line on its terminal.
func (s *Server) program(sess ssh.Session) *tea.Program {
	a, _ := sess.Context().Value(attendeeKey{}).(*attendee)
	if a == nil {
		return nil // not admitted; attend has said why
	}
	fail := func(err error) *tea.Program {
		s.cfg.Logger.Error("workshop phone", "user", a.name, "err", err)
		fmt.Fprintln(sess.Stderr(), "pushsim: cannot start your phone: "+err.Error())
		sess.Exit(1)
		return nil
	}
	d, err := device.New(device.Config{
		ServerURL: s.cfg.ServerURL, AccessTokenURL: s.cfg.AccessTokenURL, Home: filepath.Join(a.dir, "phone"),
		App: verifyclient.DefaultApp(s.cfg.AppVersion), PollInterval: s.cfg.PollInterval,
		HTTPClient: &http.Client{
			Timeout:   30 * time.Second,
			Transport: enrollOnlyAs{name: a.name, accessToken: s.accessToken, next: http.DefaultTransport},
		},
	})
	if err != nil {
		return fail(err)
	}
	p, err := phone.New(d, phone.Options{Identity: a.name, Theme: s.cfg.Theme, Context: a.ctx})
	if err != nil {
		return fail(err)
	}
	a.phone = p
	program := tea.NewProgram(phone.NewModel(p), bm.MakeOptions(sess)...)
	// Quitting rather than cancelling the program's context lets the phone
	// hand the terminal back in order (and the middleware log nothing);
	// attend cancels a.ctx once the program has ended, if nothing did.
	go func() {
		<-a.ctx.Done()
		program.Quit()
	}()
	return program
}
