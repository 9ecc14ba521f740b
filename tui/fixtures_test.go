package tui

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/colorprofile"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/sdkjose"
	"github.com/pushsim/pushsim/device/verifyclient"
)

// Fixed data for goldens: what a phone enrolled as alice would hold.
const (
	fixtureFactorSid = "YF0123456789abcdef0123456789abcdef"
	fixtureIdentity  = "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90"
	fixtureService   = "VA00112233445566778899aabbccddeeff"
)

func fixtureFactor() device.Factor {
	return device.Factor{
		Sid: fixtureFactorSid, FriendlyName: "alice's factor", AccountSid: "AC00000000000000000000000000000000",
		ServiceSid: fixtureService, Identity: fixtureIdentity, Status: verifyclient.FactorVerified,
		CredentialSid: "CR00000000000000000000000000000001", NotificationPlatform: verifyclient.PlatformFCM,
		CreatedAt: time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC),
	}
}

// fixtureChallenges are three challenges newest first: one pending with
// 4:12 left at the test clock's time, one approved, one expired.
func fixtureChallenges(now time.Time) []device.Challenge {
	mk := func(n int, msg, status string, created time.Time, fields ...string) device.Challenge {
		ch := device.Challenge{
			Sid:            fmt.Sprintf("YC%032x", n),
			FactorSid:      fixtureFactorSid,
			Status:         status,
			Details:        verifyclient.Details{Message: msg},
			CreatedAt:      created,
			UpdatedAt:      created,
			ExpirationDate: created.Add(5 * time.Minute),
		}
		for i := 0; i+1 < len(fields); i += 2 {
			ch.Details.Fields = append(ch.Details.Fields, verifyclient.Field{Label: fields[i], Value: fields[i+1]})
		}
		return ch
	}
	pending := mk(3, "Log in to Acme?", verifyclient.ChallengePending, now.Add(-48*time.Second), "location", "Lisbon", "browser", "Firefox 140")
	pending.HiddenDetails = map[string]string{"ip": "203.0.113.7"}
	approved := mk(2, "Transfer €120 to Bob", verifyclient.ChallengeApproved, now.Add(-17*time.Minute), "amount", "€120")
	approved.UpdatedAt = approved.CreatedAt.Add(9 * time.Second)
	expired := mk(1, "Log in to Acme?", verifyclient.ChallengeExpired, now.Add(-3*time.Hour))
	return []device.Challenge{pending, approved, expired}
}

// fixtureExchanges is what the HTTP log holds after an approval.
func fixtureExchanges(t *testing.T, now time.Time) []LoggedExchange {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwt, err := sdkjose.DeviceJWT(key, "CR00000000000000000000000000000001", "AC00000000000000000000000000000000", now.Add(-2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	auth := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("token:"+jwt))}}
	base := "http://127.0.0.1:4010/v2/Services/" + fixtureService + "/Entities/" + fixtureIdentity
	challenge := base + "/Challenges/" + fmt.Sprintf("YC%032x", 3)
	body := `{"sid":"YC00000000000000000000000000000003","status":"pending","details":{"message":"Log in to Acme?","fields":[]}}`
	payload, err := sdkjose.ChallengeAuthPayload(key, []byte(body), []string{"sid", "details"}, "approved")
	if err != nil {
		t.Fatal(err)
	}
	ok := func(string) http.Header { return http.Header{"Content-Type": {"application/json"}} }
	return []LoggedExchange{
		{Seq: 1, At: now.Add(-50 * time.Second), Exchange: verifyclient.Exchange{Method: "GET", URL: base + "/Challenges?PageSize=20&FactorSid=" + fixtureFactorSid + "&Status=pending&Order=asc",
			RequestHeader: auth, StatusCode: 200, ResponseHeader: ok(""), ResponseBody: []byte(`{"challenges":[],"meta":{"page":0,"page_size":20}}`), Duration: 4 * time.Millisecond}},
		{Seq: 2, At: now.Add(-3 * time.Second), Exchange: verifyclient.Exchange{Method: "GET", URL: challenge,
			RequestHeader: auth, StatusCode: 200, ResponseHeader: ok(""), ResponseBody: []byte(body), Duration: 3 * time.Millisecond}},
		{Seq: 3, At: now.Add(-2 * time.Second), Exchange: verifyclient.Exchange{Method: "POST", URL: challenge,
			RequestHeader: auth, RequestBody: []byte("AuthPayload=" + payload),
			StatusCode: 200, ResponseHeader: ok(""), ResponseBody: []byte(strings.Replace(body, "pending", "approved", 1)), Duration: 6 * time.Millisecond}},
		{Seq: 4, At: now.Add(-time.Second), Exchange: verifyclient.Exchange{Method: "GET", URL: challenge,
			RequestHeader: auth, StatusCode: 403, ResponseHeader: ok(""), ResponseBody: []byte(`{"code":60323,"message":"Challenge expired","more_info":"https://www.twilio.com/docs/errors/60323","status":403}`), Duration: 2 * time.Millisecond}},
	}
}

// render is a frame as a terminal pinned to the ASCII profile shows it:
// no colour, text attributes kept.
func render(p *Phone) string {
	var sb strings.Builder
	w := &colorprofile.Writer{Forward: &sb, Profile: colorprofile.ASCII}
	w.WriteString(p.View())
	return sb.String()
}
