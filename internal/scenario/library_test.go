package scenario

import (
	"context"
	"path/filepath"
	"testing"
)

// TestLibrary runs every scenario of the built-in library, each on a
// server of its own, in parallel.
func TestLibrary(t *testing.T) {
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
			res := rn.Run(context.Background(), []*Scenario{sc}, nil)[0]
			if !res.Passed() {
				t.Errorf("%s\n%s", res.Failure, res.Log)
			} else if testing.Verbose() {
				t.Logf("%s\n%s", res.Duration, res.Log)
			}
		})
	}
}
