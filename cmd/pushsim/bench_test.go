package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pushsim/pushsim/internal/bench"
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

// The summary gives the CPU an approval took beside what its signatures
// take of it, and leaves both out where they were not measured.
func TestBenchSummaryShowsCPUWhereMeasured(t *testing.T) {
	r := &bench.Result{
		CreatesPerS: 3600, Approvals: 7200, ApprovalsPerS: 900, CryptoBoundPerS: 3400, ApprovalsFractionOfBound: 900.0 / 3400,
		CPUPerCreateUs: 350, CreatesCPUBusy: 0.63,
		CPUPerApprovalUs: 2000, SignatureCPUPerApprovalUs: 588, ApprovalsCPUBusy: 0.9,
	}
	var out strings.Builder
	if err := printBench(&out, r); err != nil {
		t.Fatal(err)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(out.String(), "\n") {
		if name, _, ok := strings.Cut(l, "  "); ok {
			lines[name] = strings.Join(strings.Fields(l), " ")
		}
	}
	for name, want := range map[string]string{
		"cpu per create":   "cpu per create 350 µs (server and clients; the CPUs 63% busy)",
		"cpu per approval": "cpu per approval 2000 µs signatures 588 µs (29% of it; the CPUs 90% busy)",
	} {
		if lines[name] != want {
			t.Errorf("%s: %q, want %q, in\n%s", name, lines[name], want, out.String())
		}
	}
	r.CPUPerCreateUs, r.CPUPerApprovalUs, r.SignatureCPUPerApprovalUs = 0, 0, 0
	out.Reset()
	if err := printBench(&out, r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "cpu per") {
		t.Errorf("CPU shown though not measured:\n%s", out.String())
	}
}
