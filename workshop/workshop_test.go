package workshop_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
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

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return ansi.Strip(s.buf.String())
}

func (s *screen) waitFor(t *testing.T, text string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(s.String(), text) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%q never appeared; the screen shows:\n%s", text, s.String())
}

// key is a fixed ed25519 key, so tests do not depend on randomness.
func key(t *testing.T, seed byte) gossh.Signer {
	t.Helper()
	signer, err := gossh.NewSignerFromKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize)))
	if err != nil {
		t.Fatal(err)
	}
	return signer
}

// room is a pushsim server with a workshop beside it.
type room struct {
	t     *testing.T
	base  string
	addr  string
	dir   string
	ws    *workshop.Server
	ended chan error
}

func startRoom(t *testing.T) *room {
	t.Helper()
	r := &room{t: t, base: servertest.Start(t, servertest.Options{}).URL, dir: t.TempDir()}
	r.start()
	return r
}

// start (re)starts the workshop on the room's data directory.
func (r *room) start() {
	r.t.Helper()
	ws, err := workshop.New(workshop.Config{ServerURL: r.base, HostKeyPath: filepath.Join(r.dir, "host_key"), PhonesDir: filepath.Join(r.dir, "phones")})
	if err != nil {
		r.t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		r.t.Fatal(err)
	}
	r.ws, r.addr, r.ended = ws, ln.Addr().String(), make(chan error, 1)
	go func() { r.ended <- ws.Serve(ln) }()
	r.t.Cleanup(func() { r.stop() })
}

func (r *room) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.ws.Shutdown(ctx); err != nil {
		r.t.Errorf("shutdown: %v", err)
	}
	if err := <-r.ended; err != nil {
		r.t.Errorf("serve: %v", err)
	}
	r.ended <- nil // a second stop finds it ended too
}

// attendee is one ssh session with a terminal.
type attendee struct {
	client *gossh.Client
	sess   *gossh.Session
	out    screen
	stdin  io.Writer
	exited chan error
}

// connect opens a session as an attendee's ssh client would: with a key
// (or auth given), a PTY and a shell.
func (r *room) connect(user string, auth gossh.AuthMethod) *attendee {
	r.t.Helper()
	client, err := gossh.Dial("tcp", r.addr, &gossh.ClientConfig{
		User: user, Auth: []gossh.AuthMethod{auth}, HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second,
	})
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { client.Close() })
	sess, err := client.NewSession()
	if err != nil {
		r.t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", 40, 100, gossh.TerminalModes{}); err != nil {
		r.t.Fatal(err)
	}
	a := &attendee{client: client, sess: sess, exited: make(chan error, 1)}
	sess.Stdout, sess.Stderr = &a.out, &a.out
	if a.stdin, err = sess.StdinPipe(); err != nil {
		r.t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		r.t.Fatal(err)
	}
	go func() { a.exited <- sess.Wait() }()
	return a
}

func withKey(signer gossh.Signer) gossh.AuthMethod { return gossh.PublicKeys(signer) }

// waitExit waits for the session to end and returns its exit status.
func (a *attendee) waitExit(t *testing.T) int {
	t.Helper()
	select {
	case err := <-a.exited:
		var exit *gossh.ExitError
		if errors.As(err, &exit) {
			return exit.ExitStatus()
		}
		if err != nil {
			t.Fatalf("session ended with %v; the screen shows:\n%s", err, a.out.String())
		}
		return 0
	case <-time.After(15 * time.Second):
		t.Fatalf("session never ended; the screen shows:\n%s", a.out.String())
		return 0
	}
}

// factors lists the factor SIDs the server holds for a user name, through
// the sample backend.
func (r *room) factors(name string) []string {
	r.t.Helper()
	resp, err := http.Get(r.base + "/backend/list-factors?" + url.Values{"identity": {name}}.Encode())
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil
	}
	var list []struct{ Sid string }
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || resp.StatusCode != http.StatusOK {
		r.t.Fatalf("list-factors for %q: %d %v", name, resp.StatusCode, err)
	}
	var sids []string
	for _, f := range list {
		sids = append(sids, f.Sid)
	}
	return sids
}

// TestPhoneOverSSH connects as an attendee would, with a PTY, sees the
// phone's first screen, then receives a challenge created through the API.
func TestPhoneOverSSH(t *testing.T) {
	r := startRoom(t)
	alice := r.connect("alice", withKey(key(t, 1)))
	alice.out.waitFor(t, "Factors")
	alice.out.waitFor(t, "alice's factor") // enrolled under the SSH user name
	alice.stdin.Write([]byte("\r"))        // open the factor's inbox
	alice.out.waitFor(t, "Challenges")

	resp, err := http.PostForm(r.base+"/backend/create-challenge", url.Values{"identity": {"alice"}, "message": {"Workshop sign-in"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create-challenge: %d", resp.StatusCode)
	}
	alice.out.waitFor(t, "New challenge")
	alice.out.waitFor(t, "Workshop sign-in")
}

// TestNameBelongsToFirstKey is the acceptance over real SSH: the
// first key that uses a name owns it; another key is refused and enrolls
// nothing, also after a restart; the same key reconnecting gets the same
// phone and factor.
func TestNameBelongsToFirstKey(t *testing.T) {
	r := startRoom(t)
	aliceKey, impostorKey := key(t, 1), key(t, 2)

	alice := r.connect("alice", withKey(aliceKey))
	alice.out.waitFor(t, "alice's factor")
	first := r.factors("alice")
	if len(first) != 1 {
		t.Fatalf("alice has factors %v, want one", first)
	}

	impostor := r.connect("alice", withKey(impostorKey))
	if code := impostor.waitExit(t); code != 1 {
		t.Errorf("impostor's session exited %d, want 1", code)
	}
	got := impostor.out.String()
	if !strings.Contains(got, `the name "alice" belongs to another SSH key`) || !strings.Contains(got, gossh.FingerprintSHA256(impostorKey.PublicKey())) {
		t.Errorf("impostor reads %q", got)
	}
	if strings.Contains(got, "factor") {
		t.Errorf("impostor was shown a phone: %q", got)
	}

	// Alice leaves; her name stays hers, across a restart.
	alice.client.Close()
	<-alice.exited
	r.stop()
	r.start()
	impostor = r.connect("alice", withKey(impostorKey))
	impostor.waitExit(t)
	if !strings.Contains(impostor.out.String(), "belongs to another SSH key") {
		t.Errorf("after a restart the impostor reads %q", impostor.out.String())
	}

	again := r.connect("alice", withKey(aliceKey))
	again.out.waitFor(t, "alice's factor")
	again.stdin.Write([]byte("\r"))
	again.out.waitFor(t, "Challenges")
	if now := r.factors("alice"); len(now) != 1 || now[0] != first[0] {
		t.Fatalf("after reconnecting alice has factors %v, want %v", now, first)
	}
}

// TestReconnectTakesThePhoneOver: the same key connecting while its phone
// is open in another session moves the phone to the new session, and the
// old one is told why it ended.
func TestReconnectTakesThePhoneOver(t *testing.T) {
	r := startRoom(t)
	k := key(t, 1)
	old := r.connect("bob", withKey(k))
	old.out.waitFor(t, "bob's factor")
	first := r.factors("bob")

	next := r.connect("bob", withKey(k))
	old.out.waitFor(t, "your phone was opened in another session with your key")
	if code := old.waitExit(t); code != 1 {
		t.Errorf("the old session exited %d, want 1", code)
	}
	next.out.waitFor(t, "bob's factor")
	if strings.Contains(next.out.String(), "bob-2") {
		t.Errorf("the new session got a second phone:\n%s", next.out.String())
	}
	if now := r.factors("bob"); len(now) != 1 || now[0] != first[0] {
		t.Fatalf("bob has factors %v, want %v", now, first)
	}
}

// TestNamesThatDifferGetDifferentPhones: names that differ only in accents
// or that share no ASCII at all are different people.
func TestNamesThatDifferGetDifferentPhones(t *testing.T) {
	r := startRoom(t)
	k := key(t, 3) // one person may hold several names
	seen := map[string]string{}
	for _, name := range []string{"é-ünï-cödé", "e-uni-code", "中文", "日本"} {
		a := r.connect(name, withKey(k))
		a.out.waitFor(t, name+"'s factor")
		sids := r.factors(name)
		if len(sids) != 1 {
			t.Fatalf("%q has factors %v, want one", name, sids)
		}
		if other, ok := seen[sids[0]]; ok {
			t.Fatalf("%q and %q share factor %s", name, other, sids[0])
		}
		seen[sids[0]] = name
	}
}

func TestSessionsRefusedSayWhy(t *testing.T) {
	r := startRoom(t)
	noKey := gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) { return nil, nil })
	for _, c := range []struct {
		name, user string
		auth       gossh.AuthMethod
		want       string
	}{
		{"no key", "carol", noKey, "your ssh client offered none. Make one with ssh-keygen -t ed25519"},
		{"no name", "", withKey(key(t, 4)), "connect with your name: ssh -p "},
		{"control characters", "eve\x1b]0;pwned\a", withKey(key(t, 4)), "no control characters"},
		{"bidi override", "eve\u202egnp.exe", withKey(key(t, 4)), "no control characters"},
		{"too long", strings.Repeat("x", 65), withKey(key(t, 4)), "1 to 64 letters"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := r.connect(c.user, c.auth)
			if code := a.waitExit(t); code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if got := a.out.String(); !strings.Contains(got, c.want) {
				t.Errorf("reads %q, want %q", got, c.want)
			}
		})
	}
	if sids := r.factors("carol"); len(sids) != 0 {
		t.Fatalf("a refused session enrolled %v", sids)
	}
}

// TestShutdownSaysGoodbye: attendees are told the server stopped instead
// of looking at a phone that no longer answers.
func TestShutdownSaysGoodbye(t *testing.T) {
	r := startRoom(t)
	dave := r.connect("dave", withKey(key(t, 5)))
	dave.out.waitFor(t, "dave's factor")
	r.stop()
	dave.out.waitFor(t, "pushsim: the workshop server stopped; this session has ended.")
	if code := dave.waitExit(t); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	// The phone let go of the terminal before the line was written.
	out := dave.out.String()
	if i := strings.LastIndex(out, "dave's factor"); i > strings.Index(out, "server stopped") {
		t.Errorf("the phone drew after the goodbye:\n%s", out)
	}
}

// A connection that never starts its SSH handshake is closed once the
// handshake timeout passes, instead of holding its descriptor for the
// idle timeout.
func TestSilentConnectionIsClosed(t *testing.T) {
	dir := t.TempDir()
	ws, err := workshop.New(workshop.Config{ServerURL: "http://127.0.0.1:1", HostKeyPath: filepath.Join(dir, "host_key"),
		PhonesDir: filepath.Join(dir, "phones"), HandshakeTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go ws.Serve(ln)
	defer ws.Shutdown(context.Background())
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, err = io.Copy(io.Discard, c) // the server's banner, then its close
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("a connection that said nothing is still open 30 s on")
	}
}
