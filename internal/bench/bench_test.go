package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pushsim/pushsim/server"
	"github.com/pushsim/pushsim/server/servertest"
)

// A small run measures every phase against an in-process server and
// reports each figure the JSON contract names, with nothing refused, failed
// or lost along the way.
func TestSmallRunMeasuresEveryPhase(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and enrolls phones")
	}
	var progress strings.Builder
	var phases []string
	res, err := Run(context.Background(), Config{
		Phones: 8, Clients: 4, Duration: 300 * time.Millisecond, Rate: 100, IdleConns: 50, CryptoTime: 100 * time.Millisecond, Progress: &progress,
		Phase: func(name string) { phases = append(phases, name) },
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	if res.Creates == 0 || res.CreatesPerS <= 0 || res.CreateP99Ms < res.CreateP50Ms || res.CreateRefused != 0 {
		t.Errorf("creates: %+v", res)
	}
	if res.Approvals == 0 || res.ApprovalFailed != 0 || len(res.ApprovalSteps) != 3 {
		t.Errorf("approvals: %d approved, %d failed, steps %v", res.Approvals, res.ApprovalFailed, res.ApprovalSteps)
	}
	if res.CryptoBoundPerS <= 0 || res.ApprovalsFractionOfBound <= 0 ||
		res.CryptoBoundPerS < min(res.CryptoBoundBeforePerS, res.CryptoBoundAfterPerS) ||
		res.CryptoBoundPerS > max(res.CryptoBoundBeforePerS, res.CryptoBoundAfterPerS) {
		t.Errorf("crypto bound %v (before %v, after %v), fraction %v", res.CryptoBoundPerS, res.CryptoBoundBeforePerS, res.CryptoBoundAfterPerS, res.ApprovalsFractionOfBound)
	}
	if processCPU() > 0 {
		// Busy × the signatures' share is the fraction of the bound when
		// the meter spans the approvals and nothing else: one that also
		// spanned the ECDSA measurement before them would disagree.
		if res.CPUPerCreateUs <= 0 || res.CreatesCPUBusy <= 0 || res.CreatesCPUBusy > 1.05 {
			t.Errorf("CPU per create %v µs, busy %v", res.CPUPerCreateUs, res.CreatesCPUBusy)
		}
		if want := 1e6 * float64(cpusUsed()) / res.CryptoBoundPerS; res.SignatureCPUPerApprovalUs != want ||
			res.CPUPerApprovalUs <= res.SignatureCPUPerApprovalUs || res.ApprovalsCPUBusy <= 0 || res.ApprovalsCPUBusy > 1.05 {
			t.Errorf("CPU per approval %v µs, signatures %v µs (want %v), busy %v", res.CPUPerApprovalUs, res.SignatureCPUPerApprovalUs, want, res.ApprovalsCPUBusy)
		}
		if fromCPU := res.ApprovalsCPUBusy * res.SignatureCPUPerApprovalUs / res.CPUPerApprovalUs; fromCPU < 0.9*res.ApprovalsFractionOfBound || fromCPU > 1.1*res.ApprovalsFractionOfBound {
			t.Errorf("busy × signatures' share %v, fraction of the bound %v", fromCPU, res.ApprovalsFractionOfBound)
		}
	}
	if res.CreateToPhoneP50Ms <= 0 || res.CreateToPhoneLost != 0 || res.CreateToPhoneRefused != 0 {
		t.Errorf("create to phone: p50 %v ms, %d lost, %d refused", res.CreateToPhoneP50Ms, res.CreateToPhoneLost, res.CreateToPhoneRefused)
	}
	if res.IdleConns != 50 || res.BytesPerIdleConn <= 0 {
		t.Errorf("idle connections: %d weighed, %v bytes each", res.IdleConns, res.BytesPerIdleConn)
	}
	if got, want := strings.Join(phases, " "), "enroll creates ecdsa approvals ecdsa-after create-to-phone idle-conns"; got != want {
		t.Errorf("phases announced: %q, want %q", got, want)
	}
	b, _ := json.Marshal(res)
	for _, field := range []string{"creates_per_s", "create_p99_ms", "approvals_per_s", "crypto_bound_per_s",
		"approvals_fraction_of_bound", "create_to_phone_p99_ms", "bytes_per_idle_conn"} {
		if !strings.Contains(string(b), `"`+field+`":`) {
			t.Errorf("the JSON has no %s: %s", field, b)
		}
	}
}

// A sustained run compares the first and last tenth and watches the WAL.
func TestSustainedRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and enrolls phones")
	}
	var phases []string
	res, err := Run(context.Background(), Config{Phones: 4, Clients: 4, Sustain: 400, Phase: func(name string) { phases = append(phases, name) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.SustainCreates != 400 || res.SustainFirstPerS <= 0 || res.SustainLastPerS <= 0 || res.SustainControlPerS <= 0 || res.SustainWALLimit <= 0 || res.SustainWALMaxBytes <= 0 {
		t.Fatalf("sustained: %+v", res)
	}
	if got, want := strings.Join(phases, " "), "enroll sustain-first sustain-middle sustain-last control"; got != want {
		t.Errorf("phases announced: %q, want %q", got, want)
	}
}

// Against a URL, the server's memory is not this process's and its store
// cannot be made fresh: a sustained run reports neither the load
// generator's memory nor a control.
func TestSustainedRunAgainstURLReportsNoMemoryNorControl(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and enrolls phones")
	}
	srv := servertest.Start(t, servertest.Options{Config: server.Config{MaxPendingPerFactor: -1}})
	res, err := Run(context.Background(), Config{URL: srv.URL, AccountSid: srv.AccountSid, AuthToken: srv.Auth, Phones: 4, Clients: 4, Sustain: 200})
	if err != nil {
		t.Fatal(err)
	}
	if res.SustainCreates != 200 || res.SustainFirstPerS <= 0 || res.RSSStartBytes != 0 || res.RSSEndBytes != 0 || res.SustainControlPerS != 0 {
		t.Fatalf("sustained against a URL: %+v", res)
	}
}

// A server that refuses creates (here its cap of pending challenges per
// factor, which a naive run trips) is reported with its reason, in both
// phases that create, instead of as silently fewer measurements.
func TestRefusedCreatesAreReportedWithTheirReason(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and enrolls phones")
	}
	srv := servertest.Start(t, servertest.Options{Config: server.Config{MaxPendingPerFactor: 5}})
	var progress strings.Builder
	res, err := Run(context.Background(), Config{URL: srv.URL, AccountSid: srv.AccountSid, AuthToken: srv.Auth,
		Phones: 2, Clients: 2, Duration: 300 * time.Millisecond, Rate: 100, CryptoTime: 50 * time.Millisecond, Progress: &progress})
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	if res.CreateRefused == 0 || res.CreateToPhoneRefused == 0 || res.CreateToPhoneLost != 0 {
		t.Errorf("refused %d while creating, %d while timing, %d lost", res.CreateRefused, res.CreateToPhoneRefused, res.CreateToPhoneLost)
	}
	for _, want := range []string{"creates refused; the first: 429 Too Many Requests", "--max-pending-per-factor 0"} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress does not say %q:\n%s", want, progress.String())
		}
	}
}

// The trip to the phone is timed only once the server has written the
// acks of the backlog the phones found on connecting; a server without
// pushsim's push log is not waited for.
func TestTimingWaitsForTheBacklogsAcks(t *testing.T) {
	var asked atomic.Int32
	pushLog := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/_pushsim/pushes" {
			http.NotFound(w, r)
			return
		}
		state := "pending"
		if asked.Add(1) > 3 {
			state = "done"
		}
		fmt.Fprintf(w, `{"pushes":[{"state":"done"},{"state":%q}]}`, state)
	}))
	defer pushLog.Close()
	l := newPeerLab(pushLog.URL, Config{Phones: 1, AccountSid: "AC", AuthToken: "t"})
	if err := l.waitBacklogAcked(context.Background(), io.Discard); err != nil {
		t.Fatal(err)
	}
	if n := asked.Load(); n != 4 {
		t.Fatalf("the push log was read %d times, want 4 (three with a push pending, one without)", n)
	}

	notPushsim := httptest.NewServer(http.NotFoundHandler())
	defer notPushsim.Close()
	if err := newPeerLab(notPushsim.URL, Config{Phones: 1, AccountSid: "AC", AuthToken: "t"}).waitBacklogAcked(context.Background(), io.Discard); err != nil {
		t.Fatalf("a server without the push log: %v", err)
	}
}
