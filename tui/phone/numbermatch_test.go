package phone

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/verifyclient"
	"github.com/pushsim/pushsim/tui/internal/tuitest"
)

// What the demo added to the phone: number matching and challenges
// answered on another device.

// numberMatchPhone is an offline phone showing a pending number-matching
// challenge whose code is 42.
func numberMatchPhone(t *testing.T) (*Phone, device.Challenge) {
	t.Helper()
	p, clock := offlinePhone(t)
	ch := tuitest.Challenges(clock.Now())[0]
	ch.HiddenDetails = map[string]string{device.NumberMatchKey: "42", "ip": "203.0.113.7"}
	p.Update(challengeLoadedMsg{tagged: p.c.tag(), factorSid: ch.FactorSid, challengeSid: ch.Sid, challenge: &ch})
	p.Update(openChallengeMsg{tagged: p.c.tag(), factorSid: ch.FactorSid, challengeSid: ch.Sid})
	return p, ch
}

// clickZone clicks the middle of a named zone of the phone's last frame.
func clickZone(t *testing.T, p *Phone, name string) tea.Cmd {
	t.Helper()
	p.View()
	for _, z := range p.zones {
		if z.Name == name {
			_, cmd := p.Update(tea.MouseClickMsg{X: (z.X0 + z.X1) / 2, Y: z.Y0, Button: tea.MouseLeft})
			return cmd
		}
	}
	t.Fatalf("no zone %q on screen:\n%s", name, tuitest.Plain(p.View()))
	return nil
}

// answerFrom runs cmd, which must ask to answer a challenge, and returns
// the request.
func answerFrom(t *testing.T, cmd tea.Cmd) answerMsg {
	t.Helper()
	if cmd == nil {
		t.Fatal("no answer was asked for")
	}
	msg, ok := cmd().(answerMsg)
	if !ok {
		t.Fatalf("asked for %T, not an answer", msg)
	}
	return msg
}

func TestNumberMatchingAsksBeforeApproving(t *testing.T) {
	p, ch := numberMatchPhone(t)
	p.Update(tuitest.Press("h"))
	if v := tuitest.Plain(p.View()); strings.Contains(v, "42") || !strings.Contains(v, "typed to approve") {
		t.Fatalf("the hidden details give the code away:\n%s", v)
	}

	_, cmd := p.Update(tuitest.Press("a"))
	_, cmd = p.Update(answerFrom(t, cmd))
	if cmd != nil || p.numbers == nil || p.c.isBusy(ch.Sid) {
		t.Fatal("approve went ahead without asking for the number")
	}
	if v := tuitest.Plain(p.View()); !strings.Contains(v, "Type the number shown on the") {
		t.Fatalf("no prompt on screen:\n%s", v)
	}
	p.Update(tuitest.Press("esc"))
	if p.numbers != nil {
		t.Fatal("esc did not cancel the prompt")
	}

	// The right number, typed with a digit, the eraser and a click.
	_, cmd = p.Update(tuitest.Press("a"))
	p.Update(answerFrom(t, cmd))
	p.Update(tuitest.Press("9"))
	p.Update(tuitest.Press("backspace"))
	p.Update(tuitest.Press("4"))
	if _, cmd := p.Update(tuitest.Press("enter")); cmd != nil || p.numbers == nil {
		t.Fatal("enter with one digit of two closed the prompt")
	}
	cmd = clickZone(t, p, "numpad:2")
	if cmd != nil {
		t.Fatal("typing the last digit answered before OK")
	}
	_, cmd = p.Update(tuitest.Press("enter"))
	if got := answerFrom(t, cmd); got.status != verifyclient.ChallengeApproved || !got.matched || got.challengeSid != ch.Sid {
		t.Fatalf("the right number asked for %+v", got)
	}
	if p.numbers != nil {
		t.Fatal("the prompt stayed open")
	}
}

func TestNumberMatchingWrongNumberDenies(t *testing.T) {
	p, ch := numberMatchPhone(t)
	_, cmd := p.Update(tuitest.Press("a"))
	p.Update(answerFrom(t, cmd))
	p.Update(tuitest.Press("2"))
	p.Update(tuitest.Press("4"))
	follow := clickZone(t, p, "numpad:ok")
	got := answerFrom(t, follow)
	if got.status != verifyclient.ChallengeDenied || !got.matched {
		t.Fatalf("the wrong number asked for %+v", got)
	}
	// When the denial lands, the phone says why.
	p.Update(EventMsg{tagged: p.c.tag(), Event: device.Event{Kind: device.EventDenied, FactorSid: ch.FactorSid, ChallengeSid: ch.Sid}})
	if v := tuitest.Plain(p.View()); !strings.Contains(v, "wrong number") {
		t.Fatalf("the denial does not say the number was wrong:\n%s", v)
	}
}

func TestChallengeWithoutNumberApprovesAtOnce(t *testing.T) {
	p, clock := offlinePhone(t)
	pending := tuitest.Challenges(clock.Now())[0]
	p.Update(openChallengeMsg{tagged: p.c.tag(), factorSid: pending.FactorSid, challengeSid: pending.Sid})
	_, cmd := p.Update(tuitest.Press("a"))
	p.Update(answerFrom(t, cmd))
	if p.numbers != nil || !p.c.isBusy(pending.Sid) {
		t.Fatal("a challenge without number matching did not approve at once")
	}
}

func TestAnsweredOnAnotherDevice(t *testing.T) {
	p, clock := offlinePhone(t)
	ch := tuitest.Challenges(clock.Now())[0]
	p.Update(EventMsg{tagged: p.c.tag(), Event: device.Event{Kind: device.EventChallenge, Via: device.ViaPush, FactorSid: ch.FactorSid, ChallengeSid: ch.Sid, Challenge: &ch}})
	if !p.banner.visible {
		t.Fatal("no banner for the push")
	}
	withdrawn := ch
	withdrawn.Status, withdrawn.RespondedReason = verifyclient.ChallengeExpired, respondedNotNeeded
	p.Update(EventMsg{tagged: p.c.tag(), Event: device.Event{Kind: device.EventExpired, FactorSid: ch.FactorSid, ChallengeSid: ch.Sid, Challenge: &withdrawn}})
	if p.banner.visible {
		t.Fatal("the banner stayed for a challenge answered elsewhere")
	}
	v := tuitest.Plain(p.View())
	if !strings.Contains(v, "Answered on another device") || p.c.inbox.pendingCount(clock.Now()) != 0 {
		t.Fatalf("the inbox does not say it was answered elsewhere:\n%s", v)
	}
	p.Update(openChallengeMsg{tagged: p.c.tag(), factorSid: ch.FactorSid, challengeSid: ch.Sid})
	if v := tuitest.Plain(p.View()); !strings.Contains(flowed(v), "expired · Answered on another device") {
		t.Fatalf("the challenge screen does not say it:\n%s", v)
	}
}
