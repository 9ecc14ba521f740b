package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --cpuprofile writes one profile per phase, each a complete pprof file
// (gzip-compressed), so one phase can be read without the others.
func TestBenchProfilesEachPhaseApart(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "cpu")
	var warnings strings.Builder
	var p phaseProfiles
	start := p.starter(prefix, &warnings)
	start("creates")
	start("approvals")
	p.stop()
	if strings.Contains(warnings.String(), "already in use") {
		t.Skip("this test binary is being profiled already")
	}
	if warnings.Len() > 0 {
		t.Fatal(warnings.String())
	}
	for _, phase := range []string{"creates", "approvals"} {
		b, err := os.ReadFile(prefix + "." + phase)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
			t.Errorf("%s: not a pprof profile: % x", phase, b[:min(len(b), 8)])
		}
	}
	if (&phaseProfiles{}).starter("", &warnings) != nil {
		t.Error("a hook without --cpuprofile")
	}
}
