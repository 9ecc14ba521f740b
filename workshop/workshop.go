// Package workshop gives every SSH connection its own phone: a simulated
// device with its own keystore, enrolled under the SSH user name against a
// pushsim server, drawn by the tui phone in the attendee's terminal. A room
// can follow a push-MFA workshop with nothing but an SSH client.
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
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
	bm "charm.land/wish/v2/bubbletea"

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
	// HostKeyPath is where the SSH host key lives; created on first start.
	HostKeyPath string
	// PhonesDir holds one phone home per user name.
	PhonesDir string
	// AppVersion names pushsim in the phones' User-Agent.
	AppVersion string
	// PollInterval is how often the phones poll to start with; default
	// device.DefaultPollInterval.
	PollInterval time.Duration
	Theme        style.Theme
	Logger       *slog.Logger
}

// Server serves phones over SSH.
type Server struct {
	cfg  Config
	ssh  *ssh.Server
	mu   sync.Mutex
	busy map[string]bool // phone homes in use by a session
}

// New prepares the server; Serve starts it.
func New(cfg Config) (*Server, error) {
	if cfg.ServerURL == "" || cfg.HostKeyPath == "" || cfg.PhonesDir == "" {
		return nil, errors.New("workshop: ServerURL, HostKeyPath and PhonesDir are required")
	}
	if _, err := device.PushURL(cfg.ServerURL); err != nil {
		return nil, fmt.Errorf("workshop: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Dir(cfg.HostKeyPath), 0o700); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.PhonesDir, 0o700); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, busy: map[string]bool{}}
	var err error
	s.ssh, err = wish.NewServer(
		wish.WithHostKeyPath(cfg.HostKeyPath),
		// No auth handler: anyone may connect, and the user name is who
		// they enroll as. A workshop phone guards nothing but itself.
		wish.WithIdleTimeout(30*time.Minute),
		wish.WithMiddleware(bm.MiddlewareWithProgramHandler(s.program), s.logSessions),
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

// Shutdown stops accepting connections and ends the sessions.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.ssh.Shutdown(ctx)
	if errors.Is(err, ssh.ErrServerClosed) {
		return nil
	}
	return err
}

func (s *Server) logSessions(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		start := time.Now()
		s.cfg.Logger.Info("workshop phone connected", "user", sess.User(), "remote", sess.RemoteAddr().String())
		next(sess)
		s.cfg.Logger.Info("workshop phone left", "user", sess.User(), "duration", time.Since(start).Round(time.Second))
	}
}

// Identity turns an SSH user name into the identity a phone enrolls as:
// letters, digits and dashes, at most 32 characters.
func Identity(user string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(user) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '-' || r == '_' || r == '.':
			b.WriteByte('-')
		}
		if b.Len() == 32 {
			break
		}
	}
	id := strings.Trim(b.String(), "-")
	if id == "" {
		return "attendee"
	}
	return id
}

// claimHome returns a phone home for identity no other session is using:
// the same user reconnecting gets their phone back, a second concurrent
// session under one name gets a phone of its own.
func (s *Server) claimHome(identity string) (home string, release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := identity
	for n := 2; s.busy[name]; n++ {
		name = fmt.Sprintf("%s-%d", identity, n)
	}
	s.busy[name] = true
	return filepath.Join(s.cfg.PhonesDir, name), func() {
		s.mu.Lock()
		delete(s.busy, name)
		s.mu.Unlock()
	}
}

// program builds one session's phone; nil refuses the session with a line
// on its terminal.
func (s *Server) program(sess ssh.Session) *tea.Program {
	identity := Identity(sess.User())
	home, release := s.claimHome(identity)
	fail := func(err error) *tea.Program {
		release()
		s.cfg.Logger.Error("workshop phone", "user", sess.User(), "err", err)
		wish.Fatalln(sess, "pushsim: cannot start your phone: "+err.Error())
		return nil
	}
	d, err := device.New(device.Config{
		ServerURL: s.cfg.ServerURL, AccessTokenURL: s.cfg.AccessTokenURL, Home: home,
		App: verifyclient.DefaultApp(s.cfg.AppVersion), PollInterval: s.cfg.PollInterval,
	})
	if err != nil {
		return fail(err)
	}
	p, err := phone.New(d, phone.Options{Identity: identity, Theme: s.cfg.Theme, Context: sess.Context()})
	if err != nil {
		return fail(err)
	}
	go func() {
		<-sess.Context().Done()
		p.Close()
		release()
	}()
	return tea.NewProgram(phone.NewModel(p), append(bm.MakeOptions(sess), tea.WithContext(sess.Context()))...)
}
