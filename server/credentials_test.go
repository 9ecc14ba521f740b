package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pushsim/pushsim/server"
)

func TestCredentialPolicy(t *testing.T) {
	ctx := context.Background()
	open := func(cfg server.Config) *server.Server {
		t.Helper()
		s, err := server.New(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	loop := open(server.Config{TestCredentials: true})
	if sid, tok := loop.Credentials(); sid != server.TestAccountSid || tok != server.TestAuthToken || loop.GeneratedCredentials() {
		t.Fatalf("loopback credentials: %s %s", sid, tok)
	}
	loop.Close()

	dir := t.TempDir()
	public := open(server.Config{DataDir: dir})
	sid, tok := public.Credentials()
	if !public.GeneratedCredentials() || sid == server.TestAccountSid || tok == server.TestAuthToken || len(tok) != 32 || !strings.HasPrefix(sid, "AC") {
		t.Fatalf("generated credentials: %s %s (generated=%v)", sid, tok, public.GeneratedCredentials())
	}
	public.Close()
	again := open(server.Config{DataDir: dir})
	if s2, t2 := again.Credentials(); s2 != sid || t2 != tok || again.GeneratedCredentials() {
		t.Fatalf("restart changed or re-announced credentials: %s %s", s2, t2)
	}
	again.Close()

	explicit := open(server.Config{DataDir: t.TempDir(), AccountSid: "AC" + strings.Repeat("ab", 16), AuthToken: "secret123"})
	if s3, t3 := explicit.Credentials(); s3 != "AC"+strings.Repeat("ab", 16) || t3 != "secret123" || explicit.GeneratedCredentials() {
		t.Fatalf("explicit credentials: %s %s", s3, t3)
	}
	explicit.Close()

	for _, bad := range []server.Config{{AccountSid: "ACnothex"}, {TestCredentials: true, AuthToken: "has space"}} {
		if s, err := server.New(ctx, bad); err == nil {
			s.Close()
			t.Errorf("accepted %+v", bad)
		}
	}
}
