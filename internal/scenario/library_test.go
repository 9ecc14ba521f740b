package scenario

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/pushsim/pushsim/server/store/storetest"
)

// TestLibrary runs every scenario of the built-in library, each on a
// server of its own, in parallel.
func TestLibrary(t *testing.T) { runLibrary(t, nil) }

// TestLibraryOnPostgres runs the library again with each scenario's server
// on PostgreSQL, in a schema of its own.
func TestLibraryOnPostgres(t *testing.T) {
	storetest.SkipWithoutPostgres(t)
	runLibrary(t, func(t *testing.T) string { return storetest.PostgresURL(t) })
}

// runLibrary runs the library; database, when set, gives each scenario's
// server its database.
func runLibrary(t *testing.T, database func(t *testing.T) string) {
	files, err := filepath.Glob(filepath.Join("..", "..", "assets", "scenarios", "*.scenario"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no scenarios in assets/scenarios")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			sc, err := ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			rn := &Runner{Version: "test", TempDir: t.TempDir()}
			if database != nil {
				rn.Database = database(t)
			}
			res := rn.Run(context.Background(), []*Scenario{sc}, nil)[0]
			if !res.Passed() {
				t.Errorf("%s\n%s", res.Failure, res.Log)
			} else if testing.Verbose() {
				t.Logf("%s\n%s", res.Duration, res.Log)
			}
		})
	}
}
