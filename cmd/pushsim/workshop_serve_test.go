package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"

	"github.com/pushsim/pushsim/workshop/reach"
)

// output is a writer the test reads while serve writes to it.
type output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return ansi.Strip(o.buf.String())
}

func (o *output) waitFor(t *testing.T, pattern string) []string {
	t.Helper()
	re := regexp.MustCompile(pattern)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(o.String()); m != nil {
			return m
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%q never appeared in:\n%s", pattern, o.String())
	return nil
}

// serving is one pushsim serve run in-process.
type serving struct {
	stdout, stderr output
	stop           context.CancelFunc
	exited         chan int
}

func runServing(t *testing.T, args ...string) *serving {
	t.Helper()
	t.Setenv("PUSHSIM_HOME", filepath.Join(t.TempDir(), "home"))
	ctx, cancel := context.WithCancel(context.Background())
	s := &serving{stop: cancel, exited: make(chan int, 1)}
	go func() { s.exited <- run(ctx, append([]string{"serve"}, args...), &s.stdout, &s.stderr) }()
	t.Cleanup(func() {
		if code := s.end(); code != 0 {
			t.Errorf("serve exited %d: %s", code, s.stderr.String())
		}
	})
	return s
}

// end stops serve and returns its exit code; it may be called again.
func (s *serving) end() int {
	s.stop()
	code := <-s.exited
	s.exited <- code
	return code
}

// sshPhone is an attendee's ssh session with a terminal.
type sshPhone struct {
	screen output
	exited chan error
}

func connectPhone(t *testing.T, addr, user string, seed byte) *sshPhone {
	t.Helper()
	signer, err := gossh.NewSignerFromKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize)))
	if err != nil {
		t.Fatal(err)
	}
	client, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{
		User: user, Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)}, HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", 40, 100, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	p := &sshPhone{exited: make(chan error, 1)}
	sess.Stdout, sess.Stderr = &p.screen, &p.screen
	if _, err := sess.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- sess.Wait() }()
	return p
}

// TestServeWorkshopOnLoopback: --ssh with only a port stays on --addr's
// loopback host, the banner says so with an address that works, and on
// stop the attendee is told the server stopped. The name's owner is kept
// in --data: after a restart another key is still refused, and the owner
// gets the same phone back.
func TestServeWorkshopOnLoopback(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	s := runServing(t, "--data", data, "--addr", "127.0.0.1:0", "--ssh", ":0", "--quiet")
	port := s.stdout.waitFor(t, `Workshop phones: ssh -p (\d+) <your-name>@127\.0\.0\.1\n`)[1]
	s.stdout.waitFor(t, `this machine only: --ssh 0\.0\.0\.0:\d+ lets the room connect`)
	s.stdout.waitFor(t, "A name belongs to the first SSH key that uses it; kept in "+regexp.QuoteMeta(filepath.Join(data, "workshop-phones")))
	if other := otherAddress(t); other != "" {
		if c, err := net.DialTimeout("tcp", net.JoinHostPort(other, port), time.Second); err == nil {
			c.Close()
			t.Fatalf("the workshop answers on %s although --addr is on loopback", other)
		}
	}

	addr := net.JoinHostPort("127.0.0.1", port)
	alice := connectPhone(t, addr, "alice", 1)
	factor := alice.screen.waitFor(t, `Sid (YF[0-9a-f]{32})`)[1]
	if code := s.end(); code != 0 {
		t.Fatalf("serve exited %d: %s", code, s.stderr.String())
	}
	alice.screen.waitFor(t, `pushsim: the workshop server stopped; this session has ended\.`)
	select {
	case <-alice.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("alice's session outlived the server")
	}
	if quiet := s.stderr.String(); strings.Contains(quiet, "level=INFO") {
		t.Errorf("--quiet logged info lines:\n%s", quiet)
	}

	s = runServing(t, "--data", data, "--addr", "127.0.0.1:0", "--ssh", "127.0.0.1:"+port)
	s.stdout.waitFor(t, "Workshop phones: ssh -p "+port)
	impostor := connectPhone(t, addr, "alice", 2)
	impostor.screen.waitFor(t, `the name "alice" belongs to another SSH key`)
	again := connectPhone(t, addr, "alice", 1)
	if got := again.screen.waitFor(t, `Sid (YF[0-9a-f]{32})`)[1]; got != factor {
		t.Errorf("after the restart alice's phone has factor %s, want %s", got, factor)
	}
}

// TestServeBannerNamesReachableAddresses: bound to every interface, the
// banners name addresses others can type, never [::] or 0.0.0.0.
func TestServeBannerNamesReachableAddresses(t *testing.T) {
	s := runServing(t, "--memory", "--addr", "0.0.0.0:0", "--ssh", ":0")
	banner := s.stdout.waitFor(t, `(?s)serving Verify v2 at http://(\S+)/v2.*Workshop phones: ssh -p (\d+) <your-name>@(\S+)\n.*until the server stops \(--memory\)`)
	for _, bad := range []string{"[::]", "0.0.0.0"} {
		if strings.Contains(s.stdout.String(), bad) {
			t.Errorf("the banner names %s:\n%s", bad, s.stdout.String())
		}
	}
	want := reach.Listener(&net.TCPAddr{IP: net.IPv6unspecified}, "")
	if host, _, _ := net.SplitHostPort(banner[1]); host != want.Hosts[0] {
		t.Errorf("HTTP banner names %s, want %s", banner[1], want.Hosts[0])
	}
	if banner[3] != want.Hosts[0] {
		t.Errorf("SSH banner names %s, want %s", banner[3], want.Hosts[0])
	}
	// What the banner names answers.
	resp, err := http.Get("http://" + banner[1] + "/_pushsim/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("health at the banner's address: %d", resp.StatusCode)
	}
}

func TestServeLogLevels(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--log-level", "loud"}, `--log-level "loud": use debug, info, warn or error`},
		{[]string{"--quiet", "--log-level", "debug"}, "--quiet is --log-level warn"},
	} {
		var stderr strings.Builder
		args := append([]string{"serve", "--memory", "--addr", "127.0.0.1:0"}, c.args...)
		if code := run(context.Background(), args, io.Discard, &stderr); code == 0 || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: exit %d, %q", c.args, code, stderr.String())
		}
	}
	// --quiet wins over the environment; a request is an info line.
	t.Setenv("PUSHSIM_LOG_LEVEL", "debug")
	for _, c := range []struct {
		args     []string
		requests bool
	}{{nil, true}, {[]string{"--quiet"}, false}} {
		addr := freeAddr(t)
		s := runServing(t, append([]string{"--memory", "--addr", addr}, c.args...)...)
		waitHealthy(t, "http://"+addr)
		s.end()
		if got := strings.Contains(s.stderr.String(), "msg=request"); got != c.requests {
			t.Errorf("%v: request lines logged = %v, want %v:\n%s", c.args, got, c.requests, s.stderr.String())
		}
	}
}

func TestWorkshopListenAddr(t *testing.T) {
	for _, c := range []struct{ ssh, http, want string }{
		{":2222", "127.0.0.1:4010", "127.0.0.1:2222"},
		{"2222", "127.0.0.1:4010", "127.0.0.1:2222"},
		{":2222", "0.0.0.0:4010", "0.0.0.0:2222"},
		{":2222", "[::1]:4010", "[::1]:2222"},
		{":2222", ":4010", ":2222"},
		{"0.0.0.0:2222", "127.0.0.1:4010", "0.0.0.0:2222"},
		{"192.0.2.1:2222", "127.0.0.1:4010", "192.0.2.1:2222"},
	} {
		if got := workshopListenAddr(c.ssh, c.http); got != c.want {
			t.Errorf("--ssh %s with --addr %s listens on %s, want %s", c.ssh, c.http, got, c.want)
		}
	}
}

func TestLoopbackAddr(t *testing.T) {
	for _, c := range []struct {
		flag string
		ln   net.Addr
		want string
	}{
		{"0.0.0.0:4010", &net.TCPAddr{IP: net.IPv6unspecified, Port: 4010}, "127.0.0.1:4010"},
		{"[::]:4010", &net.TCPAddr{IP: net.IPv6unspecified, Port: 4010}, "[::1]:4010"},
		{"127.0.0.1:4010", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4010}, "127.0.0.1:4010"},
		{"192.0.2.1:4010", &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 4010}, "192.0.2.1:4010"},
	} {
		if got := loopbackAddr(c.flag, c.ln); got != c.want {
			t.Errorf("loopbackAddr(%s, %s) = %s, want %s", c.flag, c.ln, got, c.want)
		}
	}
}

// otherAddress is one of this machine's non-loopback addresses, or "".
func otherAddress(t *testing.T) string {
	r := reach.Listener(&net.TCPAddr{IP: net.IPv6unspecified}, "")
	if r.ThisMachineOnly {
		t.Log("no non-loopback address to check the workshop is not listening on")
		return ""
	}
	return r.Hosts[0]
}
