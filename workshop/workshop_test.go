package workshop_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"

	"github.com/pushsim/pushsim/server/servertest"
	"github.com/pushsim/pushsim/workshop"
)

// screen collects what the SSH session prints, without escape sequences.
type screen struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *screen) waitFor(t *testing.T, text string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		got := ansi.Strip(s.buf.String())
		s.mu.Unlock()
		if strings.Contains(got, text) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t.Fatalf("%q never appeared; the screen shows:\n%s", text, ansi.Strip(s.buf.String()))
}

// TestPhoneOverSSH connects as an attendee would, with a PTY, sees the
// phone's first screen, then receives a challenge created through the API.
func TestPhoneOverSSH(t *testing.T) {
	base := servertest.Start(t, servertest.Options{}).URL

	dir := t.TempDir()
	ws, err := workshop.New(workshop.Config{ServerURL: base, HostKeyPath: filepath.Join(dir, "host_key"), PhonesDir: filepath.Join(dir, "phones")})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go ws.Serve(ln)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ws.Shutdown(ctx)
	}()

	client, err := gossh.Dial("tcp", ln.Addr().String(), &gossh.ClientConfig{
		User: "alice", HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if err := sess.RequestPty("xterm-256color", 40, 100, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	var out screen
	sess.Stdout = &out
	stdin, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}

	out.waitFor(t, "Factors")
	out.waitFor(t, "alice's factor") // enrolled under the SSH user name
	stdin.Write([]byte("\r"))        // open the factor's inbox
	out.waitFor(t, "Challenges")

	resp, err := http.PostForm(base+"/backend/create-challenge", url.Values{"identity": {"alice"}, "message": {"Workshop sign-in"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create-challenge: %d", resp.StatusCode)
	}
	out.waitFor(t, "New challenge")
	out.waitFor(t, "Workshop sign-in")
}

func TestIdentityFromUserName(t *testing.T) {
	for user, want := range map[string]string{
		"alice": "alice", "Bob.Smith": "bob-smith", "../../etc": "etc", "": "attendee", "__": "attendee",
		strings.Repeat("x", 50): strings.Repeat("x", 32),
	} {
		if got := workshop.Identity(user); got != want {
			t.Errorf("Identity(%q) = %q, want %q", user, got, want)
		}
	}
}
