package phone

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/verifyclient"
	"github.com/pushsim/pushsim/internal/termtext"
	"github.com/pushsim/pushsim/tui/internal/tuitest"
)

// hostile is what a server or backend can put in any string: an OSC that
// retitles the window, written with C1 controls (U+009D … U+009C) and
// again with ESC and BEL, a screen clear, a fake zone marker, and bidi
// overrides and isolates that reorder the text around them.
const hostile = "\u009d0;TITLE\u009c \x1b]0;TITLE\x07 \x1b[2J \x1b_pz:banner\x1b\\ \u202edeny\u202c \u2066x\u2069"

// sgr is the only escape sequence the phone itself writes into a frame.
var sgr = regexp.MustCompile("\x1b\\[[0-9;]*m")

// assertTerminalSafe fails when the frame holds anything a terminal would
// act on besides the phone's own colours and line breaks.
func assertTerminalSafe(t *testing.T, where, frame string) {
	t.Helper()
	for _, r := range sgr.ReplaceAllString(frame, "") {
		if termtext.Unsafe(r) {
			t.Fatalf("%s: U+%04X reached the frame:\n%q", where, r, frame)
		}
	}
	if !strings.Contains(frame, `\u009d0;TITLE\u009c`) {
		t.Fatalf("%s: the hostile text is not shown for what it is:\n%s", where, tuitest.Plain(frame))
	}
}

// TestTextFromTheWireIsMadeSafe: a challenge whose message, fields and
// hidden details carry escape sequences, C1 controls and bidi overrides is
// drawn with none of them in the frame (banner, inbox, challenge screen,
// toasts, errors and the HTTP log alike); the text shows as escapes.
func TestTextFromTheWireIsMadeSafe(t *testing.T) {
	p, clock := offlinePhone(t)
	p.SetSize(120, 40)
	f := tuitest.Factor()
	f.FriendlyName = "alice " + hostile
	p.Preload([]device.Factor{f})
	ch := tuitest.Challenges(clock.Now())[0]
	ch.Sid = "YC" + strings.Repeat("9", 32)
	ch.Details.Message = "Sign in? " + hostile
	ch.Details.Fields = []verifyclient.Field{{Label: "Location " + hostile, Value: "Lisbon " + hostile}}
	ch.HiddenDetails = map[string]string{"ip " + hostile: "203.0.113.7 " + hostile}
	p.Update(EventMsg{tagged: p.c.tag(), Event: device.Event{Kind: device.EventChallenge, Via: device.ViaPush, FactorSid: ch.FactorSid, ChallengeSid: ch.Sid, Message: ch.Details.Message, Challenge: &ch}})
	assertTerminalSafe(t, "banner and inbox", p.View())

	p.Update(openChallengeMsg{tagged: p.c.tag(), factorSid: ch.FactorSid, challengeSid: ch.Sid})
	p.Update(tuitest.Press("h"))
	screen := p.View()
	assertTerminalSafe(t, "challenge screen", screen)
	for _, part := range []string{"Location", "Lisbon", "ip", "203.0.113.7"} {
		if !strings.Contains(tuitest.Plain(screen), part) {
			t.Fatalf("challenge screen lost %q:\n%s", part, tuitest.Plain(screen))
		}
	}

	p.Update(EventMsg{tagged: p.c.tag(), Event: device.Event{Kind: device.EventApproved, Silent: true, FactorSid: ch.FactorSid, ChallengeSid: ch.Sid, Message: ch.Details.Message}})
	assertTerminalSafe(t, "toast", p.View())

	refused := &verifyclient.APIError{Code: 60323, Message: "Challenge expired " + hostile, Status: http.StatusBadRequest}
	p.Update(EventMsg{tagged: p.c.tag(), Event: device.Event{Kind: device.EventError, Op: "poll", Err: refused}})
	assertTerminalSafe(t, "error bar", p.View())

	p.Device().Exchanges().Record(verifyclient.Exchange{
		Method: http.MethodGet, URL: "http://127.0.0.1:4010/v2/Services/VA1/Entities/e/Challenges/" + ch.Sid,
		StatusCode: http.StatusOK, ResponseHeader: http.Header{"X-Evil": {hostile}, "Content-Type": {"application/json"}},
		ResponseBody: []byte(`{"details":{"message":"` + strings.NewReplacer("\x1b", `\u001b`, "\x07", `\u0007`).Replace(hostile) + `"}, "raw":"` + hostile + `"}`),
	})
	p.Update(openLogMsg{tagged: p.c.tag()})
	p.Update(tuitest.Press("enter"))
	log := p.View()
	if !strings.Contains(tuitest.Plain(log), "Response") {
		t.Fatalf("the exchange is not open:\n%s", tuitest.Plain(log))
	}
	assertTerminalSafe(t, "HTTP log", log)
}

// The unsafe code points are in the inbox's copy only as escapes, so no
// later screen can draw them raw; the SIDs the phone calls the device
// with are kept as they came.
func TestInboxKeepsSafeCopies(t *testing.T) {
	in := newInbox()
	ch := tuitest.Challenges(tuitest.Start)[0]
	ch.Details.Message = hostile
	stored := in.upsert(ch)
	if strings.ContainsFunc(stored.Details.Message, termtext.Unsafe) {
		t.Fatalf("inbox kept %q", stored.Details.Message)
	}
	if stored.Sid != ch.Sid || stored.FactorSid != ch.FactorSid {
		t.Fatal("the inbox rewrote SIDs the phone answers with")
	}
}
