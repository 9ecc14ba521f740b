package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// freeWildcardAddr is a free port on every interface, as 0.0.0.0:<port>.
func freeWildcardAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// backendCall calls the sample backend, as the account when account is
// not empty.
func backendCall(t *testing.T, method, u string, form url.Values, account, token string) (int, []byte) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if account != "" {
		req.SetBasicAuth(account, token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, data
}

// TestGuardedServerEnrollmentCode: pushsim serve bound beyond loopback lets
// the first phone of a name enroll freely, refuses a second one without a
// one-time code from the host (device exits 1 saying so), enrolls it with
// --enrollment-code, and answers the sample backend's other calls to the
// account only.
func TestGuardedServerEnrollmentCode(t *testing.T) {
	const account, token = "AC0123456789abcdef0123456789abcdef", "guardedToken42"
	base := startServeAt(t, freeWildcardAddr(t), "--account-sid", account, "--auth-token", token)
	dir := t.TempDir()

	// 1. The first phone of a name needs no code.
	first := startHeadless(t, "--server", base, "--identity", "bob", "--home", filepath.Join(dir, "first"))
	first.expect("enrolled")

	// 2. A second one without a code is refused, in one line that says
	// what is missing.
	secondHome := filepath.Join(dir, "second")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stdout, stderr strings.Builder
	code := run(ctx, []string{"device", "--headless", "--server", base, "--identity", "bob", "--home", secondHome}, &stdout, &stderr)
	msg := strings.TrimSpace(stderr.String())
	t.Logf("second phone without a code: exit %d, stderr: %s", code, msg)
	if code == 0 || ctx.Err() != nil {
		t.Fatalf("second phone without a code: exit %d (context: %v), stdout %q", code, ctx.Err(), stdout.String())
	}
	// A script reading the stream sees the failure as its last line too.
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var last struct{ Event, Op, Error string }
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Event != "error" || last.Op != "launch" || !strings.Contains(last.Error, "--enrollment-code CODE") {
		t.Fatalf("second phone without a code: last stdout line %q, want an error event", lines[len(lines)-1])
	}
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "--enrollment-code CODE") {
		t.Fatalf("second phone without a code: stderr is not one line about the enrollment code: %q", msg)
	}

	// 3. The host mints a code; the second phone enrolls with it.
	status, body := backendCall(t, http.MethodPost, base+"/backend/enrollment-code", url.Values{"identity": {"bob"}}, account, token)
	var minted struct{ Identity, EnrollmentCode, ExpiresAt string }
	if err := json.Unmarshal(body, &minted); status != http.StatusOK || err != nil || minted.EnrollmentCode == "" || minted.Identity == "" {
		t.Fatalf("enrollment-code: %d %s", status, body)
	}
	if expires, err := time.Parse(time.RFC3339, minted.ExpiresAt); err != nil || !expires.After(time.Now()) {
		t.Fatalf("enrollment-code expiresAt %q: not a future RFC 3339 time (%v)", minted.ExpiresAt, err)
	}
	second := startHeadless(t, "--server", base, "--identity", "bob", "--home", secondHome, "--enrollment-code", minted.EnrollmentCode)
	second.expect("enrolled")

	status, body = backendCall(t, http.MethodGet, base+"/backend/list-factors?identity=bob", nil, account, token)
	var factors []struct{ Sid, Status string }
	if err := json.Unmarshal(body, &factors); status != http.StatusOK || err != nil || len(factors) != 2 ||
		factors[0].Status != "verified" || factors[1].Status != "verified" {
		t.Fatalf("list-factors as the account: %d %s, want 2 verified factors", status, body)
	}

	// The code was for one phone only.
	stderr.Reset()
	code = run(ctx, []string{"device", "--headless", "--server", base, "--identity", "bob",
		"--home", filepath.Join(dir, "third"), "--enrollment-code", minted.EnrollmentCode}, io.Discard, &stderr)
	t.Logf("third phone with the used code: exit %d, stderr: %s", code, strings.TrimSpace(stderr.String()))
	if code == 0 || ctx.Err() != nil || !strings.Contains(stderr.String(), "the enrollment code is not valid") || strings.Contains(stderr.String(), minted.EnrollmentCode) {
		t.Fatalf("third phone with the used code: exit %d (context: %v): %q", code, ctx.Err(), stderr.String())
	}

	// 4. Without the account's credentials the backend answers 401.
	if status, body = backendCall(t, http.MethodGet, base+"/backend/list-factors?identity=bob", nil, "", ""); status != http.StatusUnauthorized {
		t.Fatalf("list-factors without credentials: %d %s, want 401", status, body)
	}
}
