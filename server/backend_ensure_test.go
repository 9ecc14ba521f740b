package server_test

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/pushsim/pushsim/server/backend"
	"github.com/pushsim/pushsim/server/servertest"
)

// Servers sharing one database each run the sample backend's set-up when
// they start. However their calls interleave, they settle on one service
// and one webhook sink, and every one of them uses that service.
func TestSampleBackendsStartingTogetherAgreeOnOneService(t *testing.T) {
	for round := 0; round < 5; round++ {
		srv := servertest.Start(t, servertest.Options{Paused: true})
		const backends = 4
		sids := make([]string, backends)
		errs := make([]error, backends)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range backends {
			b := backend.New(backend.Config{VerifyURL: srv.URL, PublicURL: srv.URL, AccountSid: srv.AccountSid, AuthToken: srv.Auth})
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				sids[i], errs[i] = b.Ensure(context.Background())
			}()
		}
		close(start)
		wg.Wait()
		for i := range backends {
			if errs[i] != nil || sids[i] != sids[0] {
				t.Fatalf("round %d: backend %d got %q (%v), backend 0 %q", round, i, sids[i], errs[i], sids[0])
			}
		}
		h := &harness{t: t, srv: srv, sid: srv.AccountSid, token: srv.Auth}
		var services struct {
			Services []struct {
				FriendlyName string `json:"friendly_name"`
			} `json:"services"`
		}
		h.account(http.MethodGet, "/v2/Services", url.Values{"PageSize": {"100"}}, http.StatusOK, &services)
		named := 0
		for _, s := range services.Services {
			if s.FriendlyName == backend.ServiceName {
				named++
			}
		}
		var hooks struct {
			Webhooks []struct {
				WebhookURL string `json:"webhook_url"`
			} `json:"webhooks"`
		}
		h.account(http.MethodGet, "/v2/Services/"+sids[0]+"/Webhooks", nil, http.StatusOK, &hooks)
		if named != 1 || len(hooks.Webhooks) != 1 {
			t.Fatalf("round %d: %d services named %q, %d webhooks: %+v", round, named, backend.ServiceName, len(hooks.Webhooks), hooks.Webhooks)
		}
		srv.Close()
	}
}
