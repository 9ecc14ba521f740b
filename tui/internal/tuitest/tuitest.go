// Package tuitest holds what the tests of the terminal UIs share: key
// presses as a terminal sends them, frames as a colourless terminal shows
// them, and the fixed data the goldens of the phone and of the demo are
// drawn from. It imports no server, so the UI packages' dependencies stay
// cmd -> tui -> device even counting their test helpers.
package tuitest

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

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/sdkjose"
	"github.com/pushsim/pushsim/device/verifyclient"
)

// Start is the time the goldens' clocks read: the status bar shows 09:41.
var Start = time.Date(2026, 3, 4, 9, 41, 0, 0, time.UTC)

// Press is a key press as the terminal sends it.
func Press(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

// Plain is a frame without escape sequences, for assertions.
func Plain(s string) string { return ansi.Strip(s) }

// ASCII is a frame as a terminal pinned to the ASCII profile shows it: no
// colour, text attributes kept. Goldens are drawn so.
func ASCII(frame string) string {
	var sb strings.Builder
	w := &colorprofile.Writer{Forward: &sb, Profile: colorprofile.ASCII}
	w.WriteString(frame)
	return sb.String()
}

// Fixed data for goldens: what a phone enrolled as alice would hold.
const (
	FactorSid  = "YF0123456789abcdef0123456789abcdef"
	Identity   = "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90"
	ServiceSid = "VA00112233445566778899aabbccddeeff"
)

// Factor is alice's factor.
func Factor() device.Factor {
	return device.Factor{
		Sid: FactorSid, FriendlyName: "alice's factor", AccountSid: "AC00000000000000000000000000000000",
		ServiceSid: ServiceSid, Identity: Identity, Status: verifyclient.FactorVerified,
		CredentialSid: "CR00000000000000000000000000000001", NotificationPlatform: verifyclient.PlatformFCM,
		CreatedAt: time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC),
	}
}

// Challenges are three challenges newest first: one pending with 4:12
// left at now, one approved, one expired.
func Challenges(now time.Time) []device.Challenge {
	mk := func(n int, msg, status string, created time.Time, fields ...string) device.Challenge {
		ch := device.Challenge{
			Sid:            fmt.Sprintf("YC%032x", n),
			FactorSid:      FactorSid,
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

// Exchanges is what a phone's HTTP log holds after an approval.
func Exchanges(t testing.TB, now time.Time) []device.LoggedExchange {
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
	base := "http://127.0.0.1:4010/v2/Services/" + ServiceSid + "/Entities/" + Identity
	challenge := base + "/Challenges/" + fmt.Sprintf("YC%032x", 3)
	body := `{"sid":"YC00000000000000000000000000000003","status":"pending","details":{"message":"Log in to Acme?","fields":[]}}`
	payload, err := sdkjose.ChallengeAuthPayload(key, []byte(body), []string{"sid", "details"}, "approved")
	if err != nil {
		t.Fatal(err)
	}
	ok := func(string) http.Header { return http.Header{"Content-Type": {"application/json"}} }
	return []device.LoggedExchange{
		{Seq: 1, At: now.Add(-50 * time.Second), Exchange: verifyclient.Exchange{Method: "GET", URL: base + "/Challenges?PageSize=20&FactorSid=" + FactorSid + "&Status=pending&Order=asc",
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
