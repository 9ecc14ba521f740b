package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pushsim/pushsim/internal/termtext"
)

// nobodyAt is the URL of a loopback port nothing listens on.
func nobodyAt(t *testing.T) string {
	t.Helper()
	return "http://" + freeAddr(t)
}

// runLine runs pushsim with args and returns its exit code and its stderr,
// which must be one line.
func runLine(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var stderr strings.Builder
	code := run(context.Background(), args, io.Discard, &stderr)
	msg := strings.TrimSpace(stderr.String())
	if strings.Contains(msg, "\n") {
		t.Errorf("%v: stderr is not one line:\n%s", args, msg)
	}
	return code, msg
}

// TestPhoneWithNoServerSaysWhatToDo: a phone started against an address
// where nothing listens, drawn or headless, exits non-zero saying how to
// start a server, with the network's reason intact, and leaves no home
// behind.
func TestPhoneWithNoServerSaysWhatToDo(t *testing.T) {
	t.Setenv("PUSHSIM_HOME", t.TempDir())
	server := nobodyAt(t)
	for _, mode := range [][]string{{"--headless"}, {}} {
		home := filepath.Join(t.TempDir(), "phone")
		args := append([]string{"device", "--server", server + "/", "--identity", "alice", "--home", home}, mode...)
		code, msg := runLine(t, args...)
		want := `pushsim device: no pushsim server at ` + server + `: start one with "pushsim serve" (or pass --server): dial tcp `
		if code != 1 || !strings.HasPrefix(msg, want) || !strings.HasSuffix(msg, "connection refused") {
			t.Errorf("%v: exit %d\n got %s\nwant %s…connection refused", args, code, msg, want)
		}
		if _, err := os.Stat(home); !os.IsNotExist(err) {
			t.Errorf("%v: the phone's home was created (%v)", args, err)
		}
	}
}

// TestDemoWithNoServerExits: demo --server with nothing there, or with
// something that is not a pushsim server, is an error, not a console
// loading forever.
func TestDemoWithNoServerExits(t *testing.T) {
	t.Setenv("PUSHSIM_HOME", t.TempDir())
	server := nobodyAt(t)
	code, msg := runLine(t, "demo", "--server", server)
	want := `pushsim demo: no pushsim server at ` + server + `: start one with "pushsim serve", or leave out --server and the demo starts its own: dial tcp `
	if code != 1 || !strings.HasPrefix(msg, want) || !strings.HasSuffix(msg, "connection refused") {
		t.Errorf("exit %d\n got %s\nwant %s…connection refused", code, msg, want)
	}

	other := httptest.NewServer(http.NotFoundHandler())
	defer other.Close()
	code, msg = runLine(t, "demo", "--server", other.URL)
	if code != 1 || !strings.Contains(msg, other.URL+" is not a pushsim server") || !strings.Contains(msg, "404") {
		t.Errorf("a server that is not pushsim: exit %d, %s", code, msg)
	}
}

// TestDeviceHelpShowsTheIdentityItPrints: the help's example line carries
// the identity a headless phone for alice really prints, the SHA-256 the
// sample backend sends Verify.
func TestDeviceHelpShowsTheIdentityItPrints(t *testing.T) {
	var stderr strings.Builder
	if code := run(context.Background(), []string{"device", "--help"}, io.Discard, &stderr); code != 0 {
		t.Fatalf("--help exited %d", code)
	}
	sum := sha256.Sum256([]byte("alice"))
	hashed := hex.EncodeToString(sum[:])
	help := stderr.String()
	if !strings.Contains(help, `"identity":"`+hashed+`"`) || strings.Contains(help, `"identity":"alice"`) {
		t.Fatalf("help does not show the hashed identity:\n%s", help)
	}

	base := startServe(t)
	phone := startHeadless(t, "--server", base, "--identity", "alice", "--home", filepath.Join(t.TempDir(), "phone"))
	if got := phone.expect("enrolled")["identity"]; got != hashed {
		t.Fatalf("the phone printed identity %v, the help shows %s", got, hashed)
	}
}

// TestHeadlessLinesAreTerminalSafe: a message carrying bidi overrides is
// printed with them escaped, and the line still decodes to the message.
func TestHeadlessLinesAreTerminalSafe(t *testing.T) {
	base := startServe(t)
	ctx, cancel := context.WithCancel(context.Background())
	out, lines := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"device", "--headless", "--server", base, "--identity", "alice", "--home", filepath.Join(t.TempDir(), "phone")}, lines, io.Discard)
		lines.Close()
	}()
	t.Cleanup(func() { cancel(); <-done })
	raw := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			raw <- sc.Text()
		}
		close(raw)
	}()
	next := func(kind string) string {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case l, ok := <-raw:
				if !ok {
					t.Fatalf("the phone stopped before %q", kind)
				}
				if strings.Contains(l, `"event":"`+kind+`"`) {
					return l
				}
			case <-timeout:
				t.Fatalf("no %q line", kind)
			}
		}
	}
	next("enrolled")

	message := "Pay \u202e0001 EUR\u202c to \u2066Bob\u2069?"
	resp, err := http.PostForm(base+"/backend/create-challenge", url.Values{"identity": {"alice"}, "message": {message}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create-challenge: %d", resp.StatusCode)
	}
	line := next("challenge")
	if strings.ContainsFunc(line, termtext.Unsafe) {
		t.Fatalf("the line carries code points a terminal acts on: %q", line)
	}
	var e struct{ Message string }
	if err := json.Unmarshal([]byte(line), &e); err != nil || e.Message != message {
		t.Fatalf("line %s decodes to %q (%v), want %q", line, e.Message, err, message)
	}
}

// TestHeadlessPhoneThatCannotStartSaysSoOnStdout: a script reading the
// event stream learns why a headless phone never started, as the last JSON
// line, with the same reason stderr gives.
func TestHeadlessPhoneThatCannotStartSaysSoOnStdout(t *testing.T) {
	server := nobodyAt(t)
	var stdout, stderr strings.Builder
	code := run(context.Background(), []string{"device", "--headless", "--server", server, "--identity", "alice", "--home", filepath.Join(t.TempDir(), "phone")}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d, stderr %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var last struct{ Event, Op, Error string }
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatalf("last line is not JSON: %q", stdout.String())
	}
	if last.Event != "error" || last.Op != "launch" || !strings.Contains(last.Error, "no pushsim server at "+server) ||
		!strings.Contains(stderr.String(), last.Error) {
		t.Fatalf("last line %+v\nstderr %s", last, stderr.String())
	}
}
