package verifyclient

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pushsim/pushsim/device/internal/fakeverify"
	"github.com/pushsim/pushsim/device/sdkjose"
)

var testApp = App{Label: "pushsim", VersionName: "9.9.9", VersionCode: "7", PackageName: "dev.pushsim.test", Model: "Test Phone"}

const testUserAgent = "pushsim; Android; 9.9.9; 7; Android 14 (34); Test Phone; VerifySDK; 0.9.0; 2013"

func TestUserAgentFormat(t *testing.T) {
	if got := testApp.UserAgent(); got != testUserAgent {
		t.Errorf("User-Agent\n got %q\nwant %q", got, testUserAgent)
	}
	if got := DefaultApp("0.1.0").UserAgent(); got != "pushsim; Android; 0.1.0; 1; Android 14 (34); pushsim virtual phone; VerifySDK; 0.9.0; 2013" {
		t.Errorf("default User-Agent %q", got)
	}
}

// memCorrection is an in-memory TimeCorrectionStore that records writes.
type memCorrection struct {
	mu     sync.Mutex
	value  int64
	writes []int64
}

func (m *memCorrection) TimeCorrection() (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.value, nil
}

func (m *memCorrection) SetTimeCorrection(v int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.value = v
	m.writes = append(m.writes, v)
	return nil
}

type harness struct {
	srv        *fakeverify.Server
	client     *Client
	correction *memCorrection
	exchanges  []Exchange
	mu         sync.Mutex
}

// newHarness starts a strict fake server and a client whose device clock is
// the server clock shifted by skew.
func newHarness(t *testing.T, skew time.Duration) *harness {
	t.Helper()
	h := &harness{correction: &memCorrection{}}
	h.srv = fakeverify.New(t, fakeverify.Options{UserAgent: testUserAgent, AppID: testApp.PackageName})
	c, err := New(Config{
		BaseURL:        h.srv.BaseURL(),
		App:            testApp,
		Now:            func() time.Time { return h.srv.Now().Add(skew) },
		TimeCorrection: h.correction,
		Observer: func(e Exchange) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.exchanges = append(h.exchanges, e)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.client = c
	return h
}

func (h *harness) enroll(t *testing.T, identity, pushToken string, metadata map[string]string) Credentials {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f, err := h.client.CreateFactor(context.Background(), CreateFactorParams{
		ServiceSid: h.srv.ServiceSid, Identity: identity, FriendlyName: identity + "'s factor",
		AccessToken: h.srv.IssueAccessToken(identity), PushToken: pushToken, Metadata: metadata, PublicKey: &key.PublicKey,
	})
	if err != nil {
		t.Fatalf("create factor: %v", err)
	}
	return Credentials{FactorSid: f.Sid, AccountSid: f.AccountSid, ServiceSid: h.srv.ServiceSid, Identity: identity, CredentialSid: f.CredentialSid, Key: key}
}

func (h *harness) verified(t *testing.T, identity string) Credentials {
	t.Helper()
	cred := h.enroll(t, identity, "", nil)
	if status, err := h.client.VerifyFactor(context.Background(), cred); err != nil || status != FactorVerified {
		t.Fatalf("verify: %q %v", status, err)
	}
	return cred
}

func TestFactorLifecycle(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, 0)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	token := h.srv.IssueAccessToken("alice-1234")
	const pushToken = "fcm-registration-token-0123456789abcdef"
	f, err := h.client.CreateFactor(ctx, CreateFactorParams{
		ServiceSid: h.srv.ServiceSid, Identity: "alice-1234", FriendlyName: "Alice's phone (work)",
		AccessToken: token, PushToken: pushToken, Metadata: map[string]string{"os": "Android"}, PublicKey: &key.PublicKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	if f.Status != FactorUnverified || f.AccountSid != h.srv.AccountSid || f.FriendlyName != "Alice's phone (work)" ||
		f.NotificationPlatform != PlatformFCM || f.Metadata["os"] != "Android" || !f.CreatedAt.Equal(h.srv.Now()) {
		t.Errorf("created factor = %+v", f)
	}
	server, _ := h.srv.Factor(f.Sid)
	if server.Token != pushToken || server.Platform != "fcm" || !server.PublicKey.Equal(&key.PublicKey) {
		t.Errorf("server record = %+v", server)
	}
	if server.CredentialSid != f.CredentialSid {
		t.Errorf("credential sid %q, server issued %q", f.CredentialSid, server.CredentialSid)
	}

	cred := Credentials{FactorSid: f.Sid, AccountSid: f.AccountSid, ServiceSid: h.srv.ServiceSid, Identity: "alice-1234", CredentialSid: f.CredentialSid, Key: key}
	status, err := h.client.VerifyFactor(ctx, cred)
	if err != nil || status != FactorVerified {
		t.Fatalf("verify = %q, %v", status, err)
	}

	updated, err := h.client.UpdateFactor(ctx, cred, "Alice's phone (work)", "")
	if err != nil {
		t.Fatal(err)
	}
	if updated.NotificationPlatform != PlatformNone {
		t.Errorf("platform after clearing the token = %q", updated.NotificationPlatform)
	}
	if server, _ := h.srv.Factor(f.Sid); server.Platform != "none" || server.Token != "" {
		t.Errorf("server after clearing the token: %+v", server)
	}
	if _, err := h.client.UpdateFactor(ctx, cred, "Alice's phone (work)", "another-token-0123456789abcdef0123"); err != nil {
		t.Fatal(err)
	}
	if server, _ := h.srv.Factor(f.Sid); server.Platform != "fcm" || server.Token != "another-token-0123456789abcdef0123" {
		t.Errorf("server after a new token: %+v", server)
	}

	if err := h.client.DeleteFactor(ctx, cred); err != nil {
		t.Fatal(err)
	}
	if _, ok := h.srv.Factor(f.Sid); ok {
		t.Error("server still has the deleted factor")
	}
	// The server no longer knows the factor: 404, which the SDK treats as done.
	if err := h.client.DeleteFactor(ctx, cred); err != nil {
		t.Errorf("delete after the server forgot the factor: %v", err)
	}
}

func TestCreateFactorWithoutPushToken(t *testing.T) {
	h := newHarness(t, 0)
	cred := h.enroll(t, "bob-5678", "", nil)
	server, _ := h.srv.Factor(cred.FactorSid)
	if server.Platform != "none" || server.Token != "" || server.Metadata != nil {
		t.Errorf("server record = %+v", server)
	}
	// The fake checked the parameter list; check the exact body bytes too.
	h.mu.Lock()
	body := string(h.exchanges[0].RequestBody)
	h.mu.Unlock()
	pub, _ := sdkjose.EncodePublicKey(&cred.Key.PublicKey)
	want := "FriendlyName=bob-5678's%20factor&FactorType=push&Binding.PublicKey=" + androidEscape(pub) +
		"&Binding.Alg=ES256&Config.SdkVersion=0.9.0&Config.AppId=dev.pushsim.test&Config.NotificationPlatform=none"
	if body != want {
		t.Errorf("body\n got %s\nwant %s", body, want)
	}
}

func TestCreateFactorIsNotRetried(t *testing.T) {
	h := newHarness(t, 15*time.Minute)
	h.srv.Inject(fakeverify.Fault{Method: "POST", Path: "/Factors", Times: 1, Status: 401, WithDate: true,
		Body: `{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}`})
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, err := h.client.CreateFactor(context.Background(), CreateFactorParams{
		ServiceSid: h.srv.ServiceSid, Identity: "carol-0001", AccessToken: "tok", PublicKey: &key.PublicKey,
	})
	var apiErr *APIError
	if !errors.Is(err, ErrNetwork) || !errors.As(err, &apiErr) || apiErr.Code != 20003 {
		t.Fatalf("err = %v", err)
	}
	if n := h.srv.CountRequests("POST", "/Factors"); n != 1 {
		t.Errorf("create was sent %d times, want once", n)
	}
	if h.client.TimeCorrection() != 0 {
		t.Error("create factor changed the time correction")
	}
}

func TestClockSkewIsCorrectedOnce(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, 15*time.Minute) // the phone's clock is 15 minutes fast
	cred := h.enroll(t, "dave-0001", "", nil)

	status, err := h.client.VerifyFactor(ctx, cred)
	if err != nil || status != FactorVerified {
		t.Fatalf("verify with a skewed clock: %q %v", status, err)
	}
	reqs := h.srv.Requests()
	if len(reqs) != 3 || reqs[1].Status != 401 || reqs[2].Status != 200 {
		t.Fatalf("requests = %+v, want create, 401, retried 200", reqs)
	}
	if reqs[1].JWT == reqs[2].JWT {
		t.Error("the retry reused the rejected JWT")
	}
	first, _ := sdkjose.Decode(reqs[1].JWT)
	second, _ := sdkjose.Decode(reqs[2].JWT)
	var c1, c2 struct{ Nbf int64 }
	json.Unmarshal(first.Payload, &c1)
	json.Unmarshal(second.Payload, &c2)
	if c1.Nbf != h.srv.Now().Unix()+900 || c2.Nbf != h.srv.Now().Unix() {
		t.Errorf("nbf before/after correction = %d/%d, server now %d", c1.Nbf, c2.Nbf, h.srv.Now().Unix())
	}
	if got := h.client.TimeCorrection(); got != -900 {
		t.Errorf("time correction = %d, want -900", got)
	}
	if !reflect.DeepEqual(h.correction.writes, []int64{-900}) {
		t.Errorf("persisted corrections = %v", h.correction.writes)
	}

	// Corrected, the next call goes through first time.
	if _, err := h.client.ListChallenges(ctx, cred, ListParams{Status: ChallengePending}); err != nil {
		t.Fatal(err)
	}
	if last := h.srv.Requests()[3]; last.Status != 200 {
		t.Errorf("call after correction: %+v", last)
	}
}

func TestUnauthorizedWithoutDateIsNotRetried(t *testing.T) {
	h := newHarness(t, 0)
	cred := h.verified(t, "erin-0001")
	h.srv.Inject(fakeverify.Fault{Method: "GET", Path: "/Challenges", Times: 1, Status: 401,
		Body: `{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}`})
	_, err := h.client.ListChallenges(context.Background(), cred, ListParams{})
	var httpErr *HTTPError
	if !errors.As(err, &httpErr) || httpErr.StatusCode != 401 {
		t.Fatalf("err = %v", err)
	}
	if n := h.srv.CountRequests("GET", "/Challenges"); n != 1 {
		t.Errorf("sent %d times, want 1", n)
	}
}

func TestUnauthorizedIsRetriedOnlyOnce(t *testing.T) {
	h := newHarness(t, 0)
	cred := h.verified(t, "erin-0002")
	h.srv.Inject(fakeverify.Fault{Method: "GET", Path: "/Challenges", Times: 2, Status: 401, WithDate: true,
		Body: `{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}`})
	_, err := h.client.ListChallenges(context.Background(), cred, ListParams{})
	if !errors.Is(err, ErrNetwork) {
		t.Fatalf("err = %v", err)
	}
	if n := h.srv.CountRequests("GET", "/Challenges"); n != 2 {
		t.Errorf("sent %d times, want 2", n)
	}
}

func TestDeleteFactorOutcomes(t *testing.T) {
	unauthorized := `{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}`
	for _, tc := range []struct {
		name   string
		faults []fakeverify.Fault
		ok     bool
		sent   int
	}{
		{"404 is success", []fakeverify.Fault{{Status: 404, Body: `{"code":20404,"message":"Not found","status":404}`}}, true, 1},
		{"second 401 is success", []fakeverify.Fault{{Status: 401, Times: 2, WithDate: true, Body: unauthorized}}, true, 2},
		{"401 without Date fails", []fakeverify.Fault{{Status: 401, Body: unauthorized}}, false, 1},
		{"500 fails", []fakeverify.Fault{{Status: 500, Body: "oops"}}, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 0)
			cred := h.verified(t, "frank-0001")
			for _, f := range tc.faults {
				f.Method, f.Path = "DELETE", cred.FactorSid
				h.srv.Inject(f)
			}
			err := h.client.DeleteFactor(context.Background(), cred)
			if (err == nil) != tc.ok {
				t.Errorf("err = %v, want success %v", err, tc.ok)
			}
			if n := h.srv.CountRequests("DELETE", cred.FactorSid); n != tc.sent {
				t.Errorf("sent %d, want %d", n, tc.sent)
			}
		})
	}
}

func TestChallengeApproveAndDeny(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, 0)
	cred := h.verified(t, "grace-0001")
	approveSid := h.srv.CreateChallenge(cred.FactorSid, "Log in to Example from Berlin?", fakeverify.ChallengeOptions{
		Fields: [][2]string{{"Location", "Berlin/DE"}, {"IP", "10.0.0.1"}}, Hidden: map[string]string{"ip": "10.0.0.1"},
	})
	denySid := h.srv.CreateChallenge(cred.FactorSid, "Transfer 100 EUR?", fakeverify.ChallengeOptions{})

	ch, err := h.client.GetChallenge(ctx, cred, approveSid)
	if err != nil {
		t.Fatal(err)
	}
	want := Details{Message: "Log in to Example from Berlin?", Fields: []Field{{"Location", "Berlin/DE"}, {"IP", "10.0.0.1"}}}
	if ch.Details.Message != want.Message || !reflect.DeepEqual(ch.Details.Fields, want.Fields) {
		t.Errorf("details = %+v", ch.Details)
	}
	if ch.Details.Date == nil || !ch.Details.Date.Equal(ch.CreatedAt) {
		t.Errorf("details.date = %v", ch.Details.Date)
	}
	if ch.Status != ChallengePending || ch.HiddenDetails["ip"] != "10.0.0.1" || !ch.CreatedAt.Equal(h.srv.Now()) ||
		!ch.ExpirationDate.Equal(h.srv.Now().Add(5*time.Minute)) {
		t.Errorf("challenge = %+v", ch)
	}
	if !reflect.DeepEqual(ch.SignatureFields, fakeverify.SignatureFields) {
		t.Errorf("signature fields = %v", ch.SignatureFields)
	}

	final, err := h.client.UpdateChallenge(ctx, cred, approveSid, ChallengeApproved)
	if err != nil {
		t.Fatal(err)
	}
	if final.Status != ChallengeApproved || final.SignatureFields != nil {
		t.Errorf("final = %+v", final)
	}
	if server, _ := h.srv.Challenge(approveSid); server.Status != "approved" {
		t.Errorf("server status %q", server.Status)
	}

	if _, err := h.client.UpdateChallenge(ctx, cred, denySid, ChallengeDenied); err != nil {
		t.Fatal(err)
	}
	if server, _ := h.srv.Challenge(denySid); server.Status != "denied" {
		t.Errorf("server status %q", server.Status)
	}
	// GET, POST, GET per update.
	if n := h.srv.CountRequests("GET", approveSid); n != 3 { // one GetChallenge above plus two
		t.Errorf("GETs of the approved challenge: %d", n)
	}
	if n := h.srv.CountRequests("POST", denySid); n != 1 {
		t.Errorf("POSTs of the denied challenge: %d", n)
	}
}

func TestUpdateChallengeRefusals(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(h *harness, mine, other Credentials) string
		cause error
		msg   string
	}{
		{"wrong factor", func(h *harness, mine, other Credentials) string {
			return h.srv.CreateChallenge(other.FactorSid, "for the other factor", fakeverify.ChallengeOptions{})
		}, ErrWrongFactor, "{60404} Exception while loading input: Wrong factor for challenge"},
		{"expired", func(h *harness, mine, other Credentials) string {
			sid := h.srv.CreateChallenge(mine.FactorSid, "late", fakeverify.ChallengeOptions{TTL: time.Minute})
			h.srv.Advance(2 * time.Minute)
			return sid
		}, ErrExpiredChallenge, "{60404} Exception while loading input: Expired challenge can not be updated"},
		{"already responded", func(h *harness, mine, other Credentials) string {
			sid := h.srv.CreateChallenge(mine.FactorSid, "done", fakeverify.ChallengeOptions{})
			h.srv.SetChallengeStatus(sid, "denied")
			return sid
		}, ErrAlreadyUpdatedChallenge, "{60404} Exception while loading input: Responded challenge can not be updated"},
		{"no signature fields header", func(h *harness, mine, other Credentials) string {
			h.srv.OmitSignatureFields(true)
			return h.srv.CreateChallenge(mine.FactorSid, "unsigned", fakeverify.ChallengeOptions{})
		}, ErrSignatureFields, "{60404} Exception while loading input: Signature fields or response not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 0)
			mine := h.verified(t, "heidi-0001")
			other := h.verified(t, "heidi-0001")
			sid := tc.setup(h, mine, other)
			_, err := h.client.UpdateChallenge(context.Background(), mine, sid, ChallengeApproved)
			if !errors.Is(err, ErrInput) || !errors.Is(err, tc.cause) {
				t.Fatalf("err = %v, want input error caused by %v", err, tc.cause)
			}
			if err.Error() != tc.msg {
				t.Errorf("message %q, want %q", err, tc.msg)
			}
			if n := h.srv.CountRequests("POST", sid); n != 0 {
				t.Errorf("refused locally but still POSTed %d times", n)
			}
		})
	}
}

func TestUpdateChallengeNotUpdated(t *testing.T) {
	h := newHarness(t, 0)
	cred := h.verified(t, "ivan-0001")
	sid := h.srv.CreateChallenge(cred.FactorSid, "ignored by the server", fakeverify.ChallengeOptions{})
	// A server that accepts the POST but does not change the challenge.
	h.srv.Inject(fakeverify.Fault{Method: "POST", Path: sid, Times: 1, Status: 200})
	_, err := h.client.UpdateChallenge(context.Background(), cred, sid, ChallengeApproved)
	if !errors.Is(err, ErrNotUpdatedChallenge) || !errors.Is(err, ErrInput) {
		t.Fatalf("err = %v", err)
	}
}

func TestGetChallengeOfAnotherFactor(t *testing.T) {
	h := newHarness(t, 0)
	mine := h.verified(t, "judy-0001")
	other := h.verified(t, "judy-0001")
	sid := h.srv.CreateChallenge(other.FactorSid, "not yours", fakeverify.ChallengeOptions{})
	_, err := h.client.GetChallenge(context.Background(), mine, sid)
	if !errors.Is(err, ErrInvalidChallenge) {
		t.Fatalf("err = %v", err)
	}
}

func TestTwilioErrorBody(t *testing.T) {
	h := newHarness(t, 0)
	cred := h.verified(t, "kim-0001")
	sid := h.srv.CreateChallenge(cred.FactorSid, "x", fakeverify.ChallengeOptions{})
	h.srv.Inject(fakeverify.Fault{Method: "POST", Path: sid, Times: 1, Status: 403,
		Body: `{"code": 60323, "message": "Challenge expired", "more_info": "https://www.twilio.com/docs/errors/60323", "status": 403}`})
	_, err := h.client.UpdateChallenge(context.Background(), cred, sid, ChallengeApproved)
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want an *APIError inside", err)
	}
	want := APIError{Code: 60323, Message: "Challenge expired", MoreInfo: "https://www.twilio.com/docs/errors/60323", Status: 403}
	if *apiErr != want {
		t.Errorf("api error = %+v", *apiErr)
	}
	if !errors.Is(err, ErrNetwork) {
		t.Error("an HTTP failure is not a network error")
	}
	if err.Error() != "{60401} Exception while calling the API: Code: 60323 - Challenge expired (HTTP 403)" {
		t.Errorf("message %q", err)
	}
}

func TestNonTwilioErrorBody(t *testing.T) {
	h := newHarness(t, 0)
	cred := h.verified(t, "lee-0001")
	h.srv.Inject(fakeverify.Fault{Method: "GET", Path: "/Challenges", Times: 1, Status: 502, Body: "<html>bad gateway</html>"})
	_, err := h.client.ListChallenges(context.Background(), cred, ListParams{})
	var httpErr *HTTPError
	var apiErr *APIError
	if !errors.As(err, &httpErr) || httpErr.StatusCode != 502 || errors.As(err, &apiErr) {
		t.Fatalf("err = %v", err)
	}
	if err.Error() != "{60401} Exception while calling the API: Network exception with status code 502 and body: <html>bad gateway</html>" {
		t.Errorf("message %q", err)
	}
}

func TestMapperErrorOnInvalidBody(t *testing.T) {
	h := newHarness(t, 0)
	cred := h.verified(t, "mia-0001")
	h.srv.Inject(fakeverify.Fault{Method: "POST", Path: cred.FactorSid, Times: 1, Status: 200, Body: `{"response":"response"}`})
	_, err := h.client.VerifyFactor(context.Background(), cred)
	if !errors.Is(err, ErrMapper) || !strings.Contains(err.Error(), `missing "status"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestListChallengesPaging(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, 0)
	cred := h.verified(t, "nina-0001")
	var sids []string
	for i := range 5 {
		sids = append(sids, h.srv.CreateChallenge(cred.FactorSid, "c"+string(rune('0'+i)), fakeverify.ChallengeOptions{}))
	}
	h.srv.SetChallengeStatus(sids[1], "approved")

	var got []string
	var pages []ListMeta
	params := ListParams{PageSize: 2, Order: OrderDesc}
	for {
		page, err := h.client.ListChallenges(ctx, cred, params)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Challenges {
			got = append(got, c.Sid)
		}
		pages = append(pages, page.Meta)
		if page.Meta.NextPageToken == "" {
			break
		}
		params.PageToken = page.Meta.NextPageToken
	}
	want := []string{sids[4], sids[3], sids[2], sids[1], sids[0]}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("desc order across pages = %v, want %v", got, want)
	}
	if len(pages) != 3 || pages[0].PreviousPageToken != "" || pages[1].PreviousPageToken != "PT0" || pages[1].Page != 1 || pages[1].PageSize != 2 {
		t.Errorf("page metadata = %+v", pages)
	}

	pending, err := h.client.ListChallenges(ctx, cred, ListParams{Status: ChallengePending})
	if err != nil {
		t.Fatal(err)
	}
	if len(pending.Challenges) != 4 || pending.Challenges[0].Sid != sids[0] {
		t.Errorf("pending asc = %+v", pending.Challenges)
	}
	// The fake checks names and order; check the exact query once.
	h.mu.Lock()
	last := h.exchanges[len(h.exchanges)-1].URL
	h.mu.Unlock()
	u, _ := url.Parse(last)
	if u.RawQuery != "PageSize=20&FactorSid="+cred.FactorSid+"&Order=asc&Status=pending" {
		t.Errorf("query %q", u.RawQuery)
	}
}

func TestObserverSeesEachAttempt(t *testing.T) {
	h := newHarness(t, 15*time.Minute)
	cred := h.enroll(t, "olga-0001", "", nil)
	if _, err := h.client.VerifyFactor(context.Background(), cred); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.exchanges) != 3 {
		t.Fatalf("observer saw %d exchanges, want 3", len(h.exchanges))
	}
	e := h.exchanges[1]
	if e.Method != "POST" || e.StatusCode != 401 || e.ResponseHeader.Get("Date") == "" ||
		!strings.HasPrefix(string(e.RequestBody), "AuthPayload=") || !strings.Contains(string(e.ResponseBody), "20003") ||
		!strings.HasPrefix(e.RequestHeader.Get("Authorization"), "Basic ") || e.Duration < 0 || e.Err != nil {
		t.Errorf("exchange = %+v", e)
	}
	if !strings.HasSuffix(e.URL, "/v2/Services/"+h.srv.ServiceSid+"/Entities/olga-0001/Factors/"+cred.FactorSid) {
		t.Errorf("URL %s", e.URL)
	}
}

func TestTransportFailureIsNetworkError(t *testing.T) {
	h := newHarness(t, 0)
	cred := h.verified(t, "pia-0001")
	h.srv.Close()
	_, err := h.client.GetChallenge(context.Background(), cred, "YC00")
	var urlErr *url.Error
	if !errors.Is(err, ErrNetwork) || !errors.As(err, &urlErr) {
		t.Fatalf("err = %v", err)
	}
}

func TestConfigValidation(t *testing.T) {
	for _, base := range []string{"127.0.0.1:4010/v2/", "ftp://example.test/v2/", "http://"} {
		if _, err := New(Config{BaseURL: base}); !errors.Is(err, ErrInitialization) {
			t.Errorf("base %q: err = %v", base, err)
		}
	}
	c, err := New(Config{BaseURL: "http://example.test:4010/v2"})
	if err != nil || c.BaseURL() != "http://example.test:4010/v2/" {
		t.Errorf("trailing slash not added: %v %v", c, err)
	}
	c, _ = New(Config{})
	if c.BaseURL() != DefaultBaseURL || c.app.UserAgent() != "pushsim; Android; unknown; 1; Android 14 (34); pushsim virtual phone; VerifySDK; 0.9.0; 2013" {
		t.Errorf("defaults: base %s, User-Agent %q", c.BaseURL(), c.app.UserAgent())
	}
}

func TestInputChecks(t *testing.T) {
	c, _ := New(Config{})
	ctx := context.Background()
	if _, err := c.GetChallenge(ctx, Credentials{}, "YC1"); !errors.Is(err, ErrEmptyFactorSid) {
		t.Errorf("empty factor sid: %v", err)
	}
	cred := Credentials{FactorSid: "YF1", AccountSid: "AC1", ServiceSid: "VA1", Identity: "x", CredentialSid: "CR1"}
	if _, err := c.GetChallenge(ctx, cred, ""); !errors.Is(err, ErrEmptyChallengeSid) {
		t.Errorf("empty challenge sid: %v", err)
	}
	if _, err := c.ListChallenges(ctx, cred, ListParams{}); !errors.Is(err, ErrToken) || !errors.Is(err, ErrKeyPairNotSet) {
		t.Errorf("no key: %v", err)
	}
}

func TestAndroidEscape(t *testing.T) {
	got := encodeParams([]param{{"Friendly Name", "a b+c/d=é&'()*!~._-"}})
	want := "Friendly%20Name=a%20b%2Bc%2Fd%3D%C3%A9%26'()*!~._-"
	if got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	values, err := url.ParseQuery(got)
	if err != nil || values.Get("Friendly Name") != "a b+c/d=é&'()*!~._-" {
		t.Errorf("Go does not decode it back: %v %v", values, err)
	}
}

func TestAuthorizationHeaderForm(t *testing.T) {
	h := newHarness(t, 0)
	h.verified(t, "quinn-0001")
	h.mu.Lock()
	defer h.mu.Unlock()
	// Create: Basic token:<access token>, standard padded base64.
	auth := h.exchanges[0].RequestHeader.Get("Authorization")
	req, _ := http.NewRequest("GET", "http://x", nil)
	req.Header.Set("Authorization", auth)
	user, pass, ok := req.BasicAuth()
	if !ok || user != "token" || !strings.HasPrefix(pass, "enroll.") {
		t.Errorf("create Authorization %q -> %q %q", auth, user, pass)
	}
}
