package console

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pushsim/pushsim/internal/backendclient"
	"github.com/pushsim/pushsim/server"
	"github.com/pushsim/pushsim/server/servertest"
	"github.com/pushsim/pushsim/tui/internal/tuitest"
	"github.com/pushsim/pushsim/tui/style"
)

// consoleOf is alice's console against a real server, calling it with
// the given account credentials ("" for none).
func consoleOf(srv *servertest.Server, sid, token string) *Console {
	com := &style.Common{
		Context: context.Background(),
		Styles:  style.NewStyles(style.DefaultTheme(), false),
		Keys:    style.NewDemoKeyMap(style.DefaultKeyMap()),
		Clock:   func() time.Time { return tuitest.Start },
	}
	c := New(com, backendclient.New(srv.URL, sid, token, http.DefaultClient, nil), "alice", srv.URL)
	c.SetSize(80, 24)
	return c
}

// A server bound beyond loopback guards its sample backend with the
// account's credentials (pushsim serve --addr 0.0.0.0:4010): the console,
// given them, hashes the identity and refreshes its lists of factors,
// challenges and webhooks without an error.
func TestConsoleWorksAgainstAGuardedServer(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{Config: server.Config{Exposed: true}})

	c := consoleOf(srv, srv.AccountSid, srv.Auth)
	hashed := runFor[HashedMsg](t, c.loadHash())
	if hashed.Err != nil || hashed.Hashed == "" {
		t.Fatalf("hash-identity: %q, %v", hashed.Hashed, hashed.Err)
	}
	c.Update(hashed)
	refreshed := runFor[RefreshedMsg](t, c.refresh())
	if refreshed.Err != nil {
		t.Fatalf("refresh: %v", refreshed.Err)
	}
	c.Update(refreshed)
	if frame := tuitest.Plain(c.View()); strings.Contains(frame, "✗") || !strings.Contains(frame, "None yet.") {
		t.Fatalf("the console did not load its lists:\n%s", frame)
	}

	// Without the credentials the same calls are refused: the guard is on.
	bare := consoleOf(srv, "", "")
	if err := runFor[RefreshedMsg](t, bare.refresh()).Err; err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("a refresh without credentials answered %v", err)
	}
}
