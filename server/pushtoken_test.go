package server_test

import (
	"encoding/base64"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/pushclient"
	"github.com/pushsim/pushsim/server/push"
)

// TestPushTokenDerivationsAgree: the phone registers the token pushclient
// derives from its secret, and the gateway delivers to the token push
// derives from the bearer. The two packages share no code, so this is what
// keeps them from drifting apart.
func TestPushTokenDerivationsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 5))
	secrets := []string{
		"BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc", // the worked example in docs/push-protocol.md
		strings.Repeat("k", push.MinTokenLen),
		strings.Repeat("~", push.MaxTokenLen),
		"pushsim:rJf3semXExZuORdMMVPb_xCR4tfOq1JgIcNOiVcy75g", // a token presented as a secret
	}
	for range 100 {
		raw := make([]byte, 32)
		for i := range raw {
			raw[i] = byte(rng.Uint32())
		}
		secrets = append(secrets, base64.RawURLEncoding.EncodeToString(raw))
	}
	for _, s := range secrets {
		phone, server := pushclient.RegistrationToken(s), push.RegistrationToken(s)
		if phone != server {
			t.Fatalf("secret %q: phone registers %q, gateway delivers to %q", s, phone, server)
		}
		if !push.ValidToken(phone) {
			t.Fatalf("secret %q derives %q, which Verify would refuse", s, phone)
		}
	}
}

// TestNotificationTokenDoesNotOpenThePhonesPushes: the account (or anyone
// who reads the sample backend's factor list, or a log) learns a factor's
// notification_token and opens the push socket with it. The phone keeps its
// connection and its pushes; the intruder's socket gets only what is sent to
// the token derived from the one it presented, which is nobody's.
func TestNotificationTokenDoesNotOpenThePhonesPushes(t *testing.T) {
	h := newHarness(t, "", newClock())
	h.run()
	pushURL := "ws" + strings.TrimPrefix(h.srv.URL, "http") + "/push/connect"

	d := h.newDevice(t, time.Hour) // pushes, and the poll when the socket connects
	events := launch(t, d, device.LaunchOptions{Identity: "alice", FriendlyName: "Pixel", PushURL: pushURL})
	factorSid := nextEvent(t, events, device.EventEnrolled).FactorSid
	nextEvent(t, events, device.EventPushConnected)
	factors, err := d.GetAllFactors()
	if err != nil || len(factors) != 1 {
		t.Fatalf("phone's factors: %v %v", factors, err)
	}
	// The sample backend may enroll the user under another identity.
	entity := "/v2/Services/" + factors[0].ServiceSid + "/Entities/" + factors[0].Identity

	// What the account sees.
	var f struct {
		Config struct {
			NotificationPlatform string `json:"notification_platform"`
			NotificationToken    string `json:"notification_token"`
		} `json:"config"`
	}
	h.account(http.MethodGet, entity+"/Factors/"+factorSid, nil, http.StatusOK, &f)
	token := f.Config.NotificationToken
	if f.Config.NotificationPlatform != "fcm" || token == "" {
		t.Fatalf("factor config %+v", f.Config)
	}

	dialer := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	intruder, resp, err := dialer.Dial(pushURL, http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		t.Fatalf("intruder dial: %v %v", err, resp)
	}
	defer intruder.Close()

	// Probes are pushes to the key the intruder's bearer opens, sent through
	// Verify like any other: a factor registered with that token.
	_, probe := setup(h, "probe-0001")
	if status, _, body := probe.device(http.MethodPost, probe.entityPath()+"/Factors/"+probe.factorSid,
		url.Values{"Config.NotificationToken": {push.RegistrationToken(token)}}); status != http.StatusOK {
		t.Fatalf("probe factor update: %d %s", status, body)
	}
	readChallenge := func(what string) string {
		t.Helper()
		intruder.SetReadDeadline(time.Now().Add(10 * time.Second))
		var m struct{ Data map[string]string }
		if err := intruder.ReadJSON(&m); err != nil {
			t.Fatalf("intruder reading %s: %v", what, err)
		}
		return m.Data["challenge_sid"]
	}
	// Arriving, the first probe also shows the intruder is registered, so
	// the gateway has had its chance to replace the phone.
	probe1 := h.challenge(probe, nil)
	if got := readChallenge("first probe"); got != probe1 {
		t.Fatalf("intruder's first frame is for %s, want the probe %s", got, probe1)
	}

	// The phone answers for its token: each push to it is acked over its
	// socket (the probes are never acked), and its socket never drops.
	challengePhone := func(n int, message string) {
		t.Helper()
		var c struct{ Sid string }
		h.account(http.MethodPost, entity+"/Challenges",
			url.Values{"FactorSid": {factorSid}, "Details.Message": {message}}, http.StatusCreated, &c)
		waitFor(t, func() bool { return countOutboxState(t, h, "push", "done") == n })
		timeout := time.After(10 * time.Second)
		for {
			select {
			case e := <-events:
				if e.Kind == device.EventPushDisconnected {
					t.Fatalf("the phone's push socket went down: %s", e.Error)
				}
				if e.Kind == device.EventChallenge && e.ChallengeSid == c.Sid {
					return
				}
			case <-timeout:
				t.Fatalf("the phone never showed challenge %s", c.Sid)
			}
		}
	}
	challengePhone(1, "Sign in on the web?")

	// The intruder's socket is written in queue order, so the phone's push,
	// had it been routed there, would come before this second probe.
	probe2 := h.challenge(probe, nil)
	if got := readChallenge("second probe"); got != probe2 {
		t.Fatalf("intruder received %s, want only the probe %s", got, probe2)
	}
	// And with the intruder still connected, the phone keeps receiving.
	challengePhone(2, "And again?")
}
