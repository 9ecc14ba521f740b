package store

import (
	"context"
	"strings"
	"testing"
)

// TestOneServerPerDataDirectory: a second store on a directory in use is
// refused with a message that names the directory and what to do; once the
// first closes, the directory opens again.
func TestOneServerPerDataDirectory(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	first, err := OpenSQLite(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	second, err := OpenSQLite(ctx, dir)
	if err == nil {
		second.Close()
		t.Fatal("a second store opened a directory in use")
	}
	for _, want := range []string{dir, "in use", "--data"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not say %q", err, want)
		}
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := OpenSQLite(ctx, dir)
	if err != nil {
		t.Fatalf("reopen after close: %v", err)
	}
	again.Close()
	// Memory stores share nothing and take no lock.
	a, err := OpenSQLite(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := OpenSQLite(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
}
