package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DatabaseEnv names the variable holding the PostgreSQL database tests may
// use, as a postgres:// URL. Without it those tests skip.
const DatabaseEnv = "PUSHSIM_TEST_DATABASE"

// SkipWithoutPostgres skips t, saying why, when there is no test database.
func SkipWithoutPostgres(t testing.TB) {
	t.Helper()
	if os.Getenv(DatabaseEnv) == "" {
		t.Skipf("no PostgreSQL to test against: set %s to a postgres:// URL", DatabaseEnv)
	}
}

// PostgresURL returns the address of a new, empty schema in the test
// database, dropped when t ends, or skips t when there is no test
// database. A schema of its own per test lets tests run in parallel and
// again without cleaning up after each other.
func PostgresURL(t testing.TB) string {
	t.Helper()
	SkipWithoutPostgres(t)
	base := os.Getenv(DatabaseEnv)
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL, not %q", DatabaseEnv, base)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to the test database (%s): %v", DatabaseEnv, err)
	}
	defer conn.Close(context.Background())
	var suffix [8]byte
	rand.Read(suffix[:])
	schema := "pushsim_test_" + hex.EncodeToString(suffix[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create a test schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
