package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// readmeHost is where the README's curl examples expect pushsim serve.
const readmeHost = "http://127.0.0.1:4010"

// minREADMECurls is how many curl commands the README's sh blocks held
// when this test was written: finding fewer means the extraction broke
// (or examples were dropped), not that there is less to check.
const minREADMECurls = 5

// readmeShell is what the README's fenced sh blocks ask a reader to type,
// in order.
type readmeShell struct {
	commands []readmeCommand
	skipped  []string // lines this test does not run (go run, go test, ...)
}

// readmeCommand is one curl line, with the shell variable assignments the
// README made before it.
type readmeCommand struct {
	assignments []string
	curl        string
}

var (
	shellAssignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
	anyURL          = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s'"]*`)
)

// readREADMEShell extracts the README's sh blocks, joining backslash-
// continued lines as the shell does.
func readREADMEShell(t *testing.T, path string) readmeShell {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var sh readmeShell
	var assignments []string
	inSh, pending := false, ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !inSh {
			inSh = strings.TrimSpace(line) == "```sh"
			continue
		}
		if strings.TrimSpace(line) == "```" {
			if pending != "" {
				t.Fatalf("README: sh block ends inside a continued line: %q", pending)
			}
			inSh = false
			continue
		}
		if strings.HasSuffix(line, `\`) {
			pending += strings.TrimSuffix(line, `\`)
			continue
		}
		line, pending = strings.TrimSpace(pending+line), ""
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "curl "):
			sh.commands = append(sh.commands, readmeCommand{assignments: append([]string(nil), assignments...), curl: line})
		case shellAssignment.MatchString(line):
			assignments = append(assignments, line)
		default:
			sh.skipped = append(sh.skipped, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if inSh {
		t.Fatal("README: an sh block is never closed")
	}
	return sh
}

// shellWords is how bash splits line into words (after the assignments
// before it), without running it: what curl would get as its arguments.
func shellWords(t *testing.T, assignments []string, line string) []string {
	t.Helper()
	script := strings.Join(append(assignments, "printf '%s\\0' "+strings.TrimPrefix(line, "curl ")), "\n")
	out, err := exec.Command("bash", "-c", script).Output()
	if err != nil {
		t.Fatalf("bash cannot parse %q: %v", line, err)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
}

// curlTarget is the URL among curl's arguments and its -d fields.
func curlTarget(t *testing.T, args []string) (*url.URL, url.Values) {
	t.Helper()
	var target *url.URL
	data := url.Values{}
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-d" || a == "--data":
			i++
			if i == len(args) {
				t.Fatalf("curl %q: -d without a value", args)
			}
			k, v, _ := strings.Cut(args[i], "=")
			data.Add(k, v)
		case strings.HasPrefix(a, "http://"):
			u, err := url.Parse(a)
			if err != nil {
				t.Fatalf("curl %q: %v", args, err)
			}
			target = u
		}
	}
	if target == nil {
		t.Fatalf("curl %q: no URL", args)
	}
	return target, data
}

// waitApproved waits for the phone's "approved" line for sid.
func (h *headless) waitApproved(sid string) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if e := h.expect("approved"); e["challenge_sid"] == sid {
			return
		}
	}
	h.t.Fatalf("the phone never approved %s", sid)
}

// TestREADMECurlExamples runs every curl command of the README's sh
// blocks, as written, against pushsim serve and the headless phone the
// README starts beside it (device --headless --identity alice --auto
// approve). Only the address changes (the test's free port for
// 127.0.0.1:4010) and the YC… placeholder (the sid create-challenge just
// answered); -sS -w '\n%{http_code}' is appended to read the status.
func TestREADMECurlExamples(t *testing.T) {
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not on PATH: the README's curl examples need bash and curl (.ci/run installs curl)", tool)
		}
	}
	sh := readREADMEShell(t, "../../README.md")
	if len(sh.commands) < minREADMECurls {
		t.Fatalf("found %d curl commands in the README's sh blocks, want at least %d: %+v", len(sh.commands), minREADMECurls, sh.commands)
	}
	for _, line := range sh.skipped {
		if !strings.HasPrefix(line, "go ") { // go run / go test: the test is both
			t.Logf("README: not run: %s", line)
		}
	}
	var creates, statuses int
	for _, c := range sh.commands {
		urls := anyURL.FindAllString(c.curl, -1)
		if len(urls) == 0 {
			t.Errorf("README: curl without a URL: %s", c.curl)
		}
		for _, u := range urls {
			if u != readmeHost && !strings.HasPrefix(u, readmeHost+"/") {
				t.Errorf("README: curl to %s, not %s: %s", u, readmeHost, c.curl)
			}
		}
		creates += strings.Count(c.curl, "/backend/create-challenge")
		statuses += strings.Count(c.curl, "/backend/challenge-status")
	}
	if creates == 0 || statuses == 0 {
		t.Errorf("README: %d create-challenge and %d challenge-status examples, want some of each", creates, statuses)
	}
	if t.Failed() {
		t.FailNow()
	}

	base := startServe(t)
	phone := startHeadless(t, "--server", base, "--identity", "alice", "--auto", "approve")
	phone.expect("enrolled")
	phone.expect("push_connected")

	// curl reads no ~/.curlrc and goes through no proxy.
	env := append(os.Environ(), "CURL_HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir(),
		"NO_PROXY=127.0.0.1", "no_proxy=127.0.0.1")
	var last struct{ Sid, Identity string }
	for i, c := range sh.commands {
		curl := strings.ReplaceAll(c.curl, readmeHost, base)
		if strings.Contains(curl, "YC…") {
			if last.Sid == "" {
				t.Fatalf("README curl %d uses YC… before any create-challenge: %s", i+1, c.curl)
			}
			curl = strings.ReplaceAll(curl, "YC…", last.Sid)
		}
		target, data := curlTarget(t, shellWords(t, c.assignments, curl))
		if target.Path == "/backend/challenge-status" {
			if got := target.Query().Get("identity"); got != last.Identity {
				t.Errorf("README curl %d reads identity %s; create-challenge answered identity %s", i+1, got, last.Identity)
			}
			phone.waitApproved(last.Sid)
		}

		script := strings.Join(append(c.assignments, curl+` -sS -w '\n%{http_code}'`), "\n")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, "bash", "-c", script)
		cmd.Env = env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		cancel()
		if err != nil {
			t.Fatalf("README curl %d: %s\n%v: %s", i+1, c.curl, err, stderr.String())
		}
		cut := bytes.LastIndexByte(stdout.Bytes(), '\n')
		if cut < 0 {
			t.Fatalf("README curl %d: no status code in its output (a trailing comment?): %q", i+1, stdout.String())
		}
		body, code := stdout.Bytes()[:cut], string(stdout.Bytes()[cut+1:])
		t.Logf("README curl %d: %s → %s", i+1, c.curl, code)
		if len(code) != 3 || code[0] != '2' {
			t.Fatalf("README curl %d: %s\nanswered %s: %s", i+1, c.curl, code, body)
		}

		switch target.Path {
		case "/backend/create-challenge":
			var got struct {
				Sid, Identity, Status string
				Details               struct {
					Message string
					Fields  []map[string]string
				}
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("README curl %d: create-challenge answered %s: %v", i+1, body, err)
			}
			fields := got.Details.Fields // whatever the server makes of no details
			if data.Has("details") {
				if err := json.Unmarshal([]byte(data.Get("details")), &fields); err != nil {
					t.Fatalf("README curl %d: details=%q is not a JSON array of label/value objects: %v", i+1, data.Get("details"), err)
				}
			}
			if got.Status != "pending" || !strings.HasPrefix(got.Sid, "YC") ||
				got.Details.Message != data.Get("message") || !reflect.DeepEqual(got.Details.Fields, fields) {
				t.Fatalf("README curl %d: create-challenge answered %s; want a pending challenge with message %q and fields %v",
					i+1, body, data.Get("message"), fields)
			}
			last.Sid, last.Identity = got.Sid, got.Identity
		case "/backend/challenge-status":
			var got struct{ Sid, Status string }
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("README curl %d: challenge-status answered %s: %v", i+1, body, err)
			}
			if got.Sid != last.Sid || got.Status != "approved" {
				t.Fatalf("README curl %d: challenge-status answered %s; want %s approved", i+1, body, last.Sid)
			}
		}
	}
}
