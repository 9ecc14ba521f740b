package main

import (
	"context"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeScenario writes a scenario file into dir and returns its path.
func writeScenario(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const (
	passingScenario = `scenario "Approves"
phone alice user=alice push=off
sign-in alice as=login
approve alice login
expect login status approved
`
	failingScenario = `scenario "Expects too much"
phone alice user=alice push=off
sign-in alice as=login
expect login status approved within=500ms
`
)

// TestRunExitCodes: 0 when every scenario passes, 1 when one fails (with
// the failure on stdout and one line on stderr), 2 when a file does not
// parse (naming file and line, and running nothing).
func TestRunExitCodes(t *testing.T) {
	dir := t.TempDir()
	pass := writeScenario(t, dir, "pass.scenario", passingScenario)
	fail := writeScenario(t, dir, "fail.scenario", failingScenario)
	typo := writeScenario(t, dir, "typo.scenario", "scenario \"Typo\"\nphone alice user=alice\naprove alice\n")

	var stdout, stderr strings.Builder
	if code := run(context.Background(), []string{"run", pass}, &stdout, &stderr); code != 0 {
		t.Fatalf("a passing scenario exited %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "PASS  Approves  "+pass) || !strings.Contains(stdout.String(), "1 scenario: 1 passed, 0 failed") {
		t.Errorf("stdout:\n%s", stdout.String())
	}

	stdout.Reset()
	stderr.Reset()
	junit := filepath.Join(dir, "out.xml")
	code := run(context.Background(), []string{"run", "--junit", junit, pass, fail}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("a failing scenario exited %d\n%s%s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"PASS  Approves          " + pass,
		"FAIL  Expects too much  " + fail,
		"step 3 (" + fail + ":4) expect login status approved within=500ms: saw pending (responded_reason none) after 500ms",
		"2 scenarios: 1 passed, 1 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "Approves") > strings.Index(out, "Expects too much") {
		t.Errorf("results are not in the files' order:\n%s", out)
	}
	if got := strings.TrimSpace(stderr.String()); got != "pushsim run: 1 of 2 scenarios failed" {
		t.Errorf("stderr %q", got)
	}
	raw, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Cases []struct {
				Name string `xml:"name,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(raw, &doc); err != nil || doc.Failures != 1 || len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 2 {
		t.Errorf("JUnit report (%v): %+v\n%s", err, doc, raw)
	}

	stdout.Reset()
	stderr.Reset()
	if code := run(context.Background(), []string{"run", pass, typo}, &stdout, &stderr); code != 2 {
		t.Fatalf("a parse error exited %d", code)
	}
	if want := typo + `:3: unknown step "aprove": did you mean approve?`; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr %q lacks %q", stderr.String(), want)
	}
	if stdout.Len() != 0 {
		t.Errorf("a scenario ran despite the parse error:\n%s", stdout.String())
	}
}

// TestRunUsageErrors: no file, a pattern matching nothing and bad flags
// say what to do and exit 2.
func TestRunUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run"}, "name at least one scenario file"},
		{[]string{"run", filepath.Join(t.TempDir(), "*.scenario")}, "matches no file"},
		{[]string{"run", "--parallel", "0", "x.scenario"}, "--parallel must be at least 1"},
		{[]string{"run", "--within", "-1s", "x.scenario"}, "--within must be positive"},
	} {
		var stderr strings.Builder
		if code := run(context.Background(), tc.args, &strings.Builder{}, &stderr); code != 2 {
			t.Errorf("%v exited %d", tc.args, code)
		}
		if !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: stderr %q lacks %q", tc.args, stderr.String(), tc.want)
		}
	}
	pass := writeScenario(t, t.TempDir(), "pass.scenario", passingScenario)
	var stderr strings.Builder
	if code := run(context.Background(), []string{"run", "--server", "http://127.0.0.1:1", pass}, &strings.Builder{}, &stderr); code != 1 {
		t.Errorf("an absent server exited %d", code)
	}
	if !strings.Contains(stderr.String(), "no pushsim server at http://127.0.0.1:1") {
		t.Errorf("stderr %q", stderr.String())
	}
}

// TestRunAgainstAServer: with --server two scenarios share a running
// pushsim serve, each with its own users, one of them alone because it
// switches a fault on for every phone; its fault is off again afterwards.
func TestRunAgainstAServer(t *testing.T) {
	base := startServe(t, "--data", filepath.Join(t.TempDir(), "data"))
	dir := t.TempDir()
	pass := writeScenario(t, dir, "pass.scenario", passingScenario)
	faulty := writeScenario(t, dir, "faults.scenario", `scenario "Every push lost"
phone alice user=alice
fault push drop
sign-in alice as=login
expect push login state=dropped
open alice
expect alice event challenge challenge=login via=poll
`)
	var stdout, stderr strings.Builder
	if code := run(context.Background(), []string{"run", "--server", base, pass, faulty}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "2 scenarios: 2 passed") {
		t.Errorf("stdout:\n%s", stdout.String())
	}
	// The same scenario again finds no fault left behind: the push
	// arrives.
	again := writeScenario(t, dir, "again.scenario", `scenario "Pushes arrive"
phone alice user=alice
sign-in alice as=login
expect alice event challenge challenge=login via=push
`)
	stdout.Reset()
	if code := run(context.Background(), []string{"run", "--server", base, again}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d after the fault scenario\n%s%s", code, stdout.String(), stderr.String())
	}
}
