package tourstage

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/pushsim/pushsim/device"
)

// The endpoint hands the offered token once, to its user only, as a
// backend handing out single-use tokens does.
func TestTokenEndpointHandsTheTokenOnce(t *testing.T) {
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ask := func(user string) (int, device.AccessToken) {
		t.Helper()
		resp, err := http.PostForm(s.TokenURL(), url.Values{"identity": {user}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var tok device.AccessToken
		json.NewDecoder(resp.Body).Decode(&tok)
		return resp.StatusCode, tok
	}
	s.Offer("alice", device.AccessToken{Token: "tok", Identity: "id"})
	if code, _ := ask("mallory"); code != http.StatusNotFound {
		t.Fatalf("another user got %d", code)
	}
	if code, tok := ask("alice"); code != http.StatusOK || tok.Token != "tok" {
		t.Fatalf("alice got %d %+v", code, tok)
	}
	if code, _ := ask("alice"); code != http.StatusNotFound {
		t.Fatalf("the token was handed out twice: %d", code)
	}
}

// An armed hold keeps the next factor verification until it is released,
// and lets every other request through.
func TestHoldKeepsTheVerificationUntilReleased(t *testing.T) {
	verified := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/Services/VA1/Entities/e/Factors/YF1" {
			verified <- struct{}{}
		}
	}))
	defer srv.Close()
	s := &Stage{hold: &verifyHold{next: http.DefaultTransport}}
	client := s.Network()

	held := s.HoldVerification()
	if _, err := client.Post(srv.URL+"/v2/Services/VA1/Entities/e/Factors", "", nil); err != nil {
		t.Fatalf("creating the factor was held: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := client.Post(srv.URL+"/v2/Services/VA1/Entities/e/Factors/YF1", "", nil)
		done <- err
	}()
	select {
	case <-held:
	case <-time.After(5 * time.Second):
		t.Fatal("the verification was not held")
	}
	select {
	case <-verified:
		t.Fatal("the held verification reached the server")
	default:
	}
	s.ReleaseVerification()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	<-verified
}

// The stage says which request it held and for how long, so that the
// tour does not show the wait as the server's time: no longer than the
// request took in all.
func TestHoldSaysHowLongItHeld(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	s := &Stage{hold: &verifyHold{next: http.DefaultTransport}}
	if _, ok := s.LastHold(); ok {
		t.Fatal("a hold reported before any request was held")
	}
	held := s.HoldVerification()
	target := srv.URL + "/v2/Services/VA1/Entities/e/Factors/YF1"
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		_, err := s.Network().Post(target, "", nil)
		done <- err
	}()
	<-held
	s.ReleaseVerification()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	total := time.Since(start)
	h, ok := s.LastHold()
	if !ok || h.Method != http.MethodPost || h.URL != target {
		t.Fatalf("LastHold = %+v, %v; want the POST to %s", h, ok, target)
	}
	if h.Held <= 0 || h.Held > total {
		t.Fatalf("held %v of a request that took %v", h.Held, total)
	}
}
