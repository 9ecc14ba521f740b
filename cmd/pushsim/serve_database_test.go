package main

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/pushsim/pushsim/server/store/storetest"
)

// TestServeDatabaseRefusesSQLiteFlags: --database keeps the state in
// PostgreSQL, so a data directory or --memory beside it is a mistake
// worth saying, not one to guess around.
func TestServeDatabaseRefusesSQLiteFlags(t *testing.T) {
	t.Setenv("PUSHSIM_HOME", t.TempDir())
	t.Setenv("PUSHSIM_DATA", "")
	db := "postgres://pushsim@db.invalid/pushsim"
	for _, c := range []struct {
		args []string
		env  string
		want []string
	}{
		{[]string{"--database", db, "--memory"}, "", []string{"--database", "--memory"}},
		{[]string{"--database", db, "--data", t.TempDir()}, "", []string{"--database", "--data"}},
		{[]string{"--database", db}, t.TempDir(), []string{"--database", "PUSHSIM_DATA"}},
		{[]string{"--database", "mysql://db/pushsim"}, "", []string{"--database", "postgres://"}},
	} {
		t.Setenv("PUSHSIM_DATA", c.env)
		var stderr strings.Builder
		code := run(context.Background(), append([]string{"serve", "--addr", "127.0.0.1:0"}, c.args...), io.Discard, &stderr)
		msg := strings.TrimSpace(stderr.String())
		if code == 0 {
			t.Errorf("%v (PUSHSIM_DATA %q): exit 0", c.args, c.env)
		}
		for _, w := range c.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%v (PUSHSIM_DATA %q): %q does not say %q", c.args, c.env, msg, w)
			}
		}
	}
}

// TestServeOnDatabase: serve --database serves from PostgreSQL and says
// where its state is without showing the database's password.
func TestServeOnDatabase(t *testing.T) {
	db := storetest.PostgresURL(t)
	t.Setenv("PUSHSIM_DATA", "")
	addr := freeAddr(t)
	s := runServing(t, "--database", strings.Replace(db, "postgres://postgres@", "postgres://postgres:secret-word@", 1), "--addr", addr)
	waitHealthy(t, "http://"+addr)
	banner := s.stdout.waitFor(t, `state in (\S+)\)`)
	if strings.Contains(banner[1], "secret-word") || !strings.HasPrefix(banner[1], "postgres://") {
		t.Errorf("the banner names the state as %q: want the database's URL without its password", banner[1])
	}
}
