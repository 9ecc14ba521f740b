package phone

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/verifyclient"
	"github.com/pushsim/pushsim/tui/internal/tuitest"
	"github.com/pushsim/pushsim/tui/style"
)

// offlinePhone is a phone with alice's factor and three challenges, no
// network, at 80×24.
func offlinePhone(t *testing.T) (*Phone, *testClock) {
	t.Helper()
	clock := newTestClock()
	d := newTestDevice(t, nil, clock.Now, nil)
	p := newTestPhone(t, d, Options{})
	openInbox(p, clock)
	return p, clock
}

// clickOn clicks the first cell of text on the phone's last frame.
func clickOn(t *testing.T, p *Phone, text string) tea.Cmd {
	t.Helper()
	for y, line := range strings.Split(tuitest.Plain(p.View()), "\n") {
		if i := strings.Index(line, text); i >= 0 {
			x := ansi.StringWidth(line[:i])
			_, cmd := p.Update(tea.MouseClickMsg{X: x, Y: y, Button: tea.MouseLeft})
			return cmd
		}
	}
	t.Fatalf("%q is not on screen:\n%s", text, tuitest.Plain(p.View()))
	return nil
}

// follow delivers the message of a command that answers at once (a
// navigation or a confirmation), without running what that message starts.
func follow(t *testing.T, p *Phone, cmd tea.Cmd) {
	t.Helper()
	if cmd == nil {
		t.Fatal("no command to follow")
	}
	p.Update(cmd())
}

func TestClicksOpenRowsAndPressButtons(t *testing.T) {
	p, clock := offlinePhone(t)
	follow(t, p, clickOn(t, p, "Transfer €120"))
	if s, ok := p.top().(*challengeScreen); !ok || s.challengeSid != tuitest.Challenges(clock.Now())[1].Sid {
		t.Fatalf("clicking the row opened %T", p.top())
	}
	clickOn(t, p, "‹")
	if p.top().kind() != ScreenFactor {
		t.Fatalf("the back arrow left %T on top", p.top())
	}
	follow(t, p, clickOn(t, p, "Log in to Acme?"))
	pending := tuitest.Challenges(clock.Now())[0].Sid
	cmd := clickOn(t, p, "✓ Approve")
	msg := cmd()
	if a, ok := msg.(answerMsg); !ok || a.challengeSid != pending || a.status != "approved" {
		t.Fatalf("clicking Approve asked for %#v", msg)
	}
}

// Below its minimum the phone says, whole, which size it needs and which
// it has, wrapped to fill its box exactly.
func TestTooSmallTerminalSaysSo(t *testing.T) {
	p, _ := offlinePhone(t)
	for _, size := range [][2]int{{MinWidth - 1, 24}, {80, MinHeight - 1}, {30, 10}} {
		w, h := size[0], size[1]
		p.SetSize(w, h)
		v := tuitest.Plain(p.View())
		lines := strings.Split(v, "\n")
		if len(lines) != h {
			t.Fatalf("at %dx%d the message is %d lines:\n%s", w, h, len(lines), v)
		}
		for _, l := range lines {
			if ansi.StringWidth(l) != w {
				t.Fatalf("at %dx%d a line is %d wide:\n%s", w, h, ansi.StringWidth(l), v)
			}
		}
		want := fmt.Sprintf("Make the terminal larger: the phone needs %d×%d (now %d×%d).", MinWidth, MinHeight, w, h)
		if got := strings.Join(strings.Fields(v), " "); got != want {
			t.Fatalf("at %dx%d it reads %q, want %q", w, h, got, want)
		}
	}
	p.SetSize(MinWidth, MinHeight)
	if lines := strings.Split(p.View(), "\n"); len(lines) != MinHeight || lipgloss.Width(p.View()) != MinWidth {
		t.Fatalf("at the minimum size the phone is %dx%d", lipgloss.Width(p.View()), len(lines))
	}
}

func TestNoColourMeansNoColour(t *testing.T) {
	clock := newTestClock()
	d := newTestDevice(t, nil, clock.Now, nil)
	p, err := New(d, Options{NoLaunch: true})
	if err != nil {
		t.Fatal(err)
	}
	p.SetSize(80, 24)
	openInbox(p, clock)
	hasColour := func() bool {
		v := p.View()
		return strings.Contains(v, "38;") || strings.Contains(v, "48;")
	}
	if !hasColour() {
		t.Fatal("the default theme draws no colour")
	}
	p.Update(tea.ColorProfileMsg{Profile: colorprofile.ASCII}) // what NO_COLOR gives
	if hasColour() {
		t.Fatal("colour drawn on a terminal without colour")
	}
	if !strings.Contains(p.View(), "\x1b[7m") && !strings.Contains(p.View(), ";7m") {
		t.Fatal("without colour the selected row is not in reverse video")
	}
}

func TestHighContrastTheme(t *testing.T) {
	theme, err := style.ThemeNamed("high-contrast")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := offlinePhone(t)
	p.SetTheme(theme)
	p.Blur() // the focused phone wears the theme's focus border
	if v := tuitest.Plain(p.View()); !strings.Contains(v, "┏") || !strings.Contains(v, "┛") {
		t.Fatalf("no thick outline:\n%s", v)
	}
	if _, err := style.ThemeNamed("neon"); err == nil {
		t.Fatal("an unknown theme was accepted")
	}
}

func TestPhonesIgnoreEachOthersMessages(t *testing.T) {
	a, clock := offlinePhone(t)
	b, _ := offlinePhone(t)
	if a.ID() == b.ID() {
		t.Fatal("two phones share an id")
	}
	ch := tuitest.Challenges(clock.Now())[0]
	ch.Sid = "YC" + strings.Repeat("9", 32)
	ev := EventMsg{tagged: a.c.tag(), Event: device.Event{Kind: device.EventChallenge, Via: device.ViaPush, FactorSid: ch.FactorSid, ChallengeSid: ch.Sid, Challenge: &ch}}
	b.Update(ev)
	if _, ok := b.c.inbox.challenges[ch.Sid]; ok || b.banner.visible {
		t.Fatal("phone b took phone a's push")
	}
	a.Update(ev)
	if _, ok := a.c.inbox.challenges[ch.Sid]; !ok || !a.banner.visible {
		t.Fatal("phone a missed its own push")
	}
}

func TestErrorBarShowsTwilioCode(t *testing.T) {
	p, _ := offlinePhone(t)
	api := &verifyclient.APIError{Code: 60323, Message: "Challenge expired", Status: 403}
	err := verifyclient.Wrap(verifyclient.CodeNetwork, &verifyclient.HTTPError{StatusCode: 403, API: api})
	p.Update(answeredMsg{tagged: p.c.tag(), challengeSid: "YCx", err: fmt.Errorf("approve: %w", err)})
	v := tuitest.Plain(p.View())
	for _, want := range []string{"Code: 60323 - Challenge expired", "SDK 60401", "HTTP 403"} {
		if !strings.Contains(v, want) {
			t.Fatalf("error bar lacks %q:\n%s", want, v)
		}
	}
	p.Update(tuitest.Press("esc"))
	if strings.Contains(tuitest.Plain(p.View()), "60323") {
		t.Fatal("esc did not dismiss the error")
	}
	if head, _ := describeError(device.ErrAirplaneMode); !strings.Contains(head, "airplane") {
		t.Fatalf("airplane error reads %q", head)
	}
	if head, _ := describeError(errors.New("boom")); head != "boom" {
		t.Fatalf("plain error reads %q", head)
	}
}

func TestHelpListsEveryKey(t *testing.T) {
	p, _ := offlinePhone(t)
	p.Update(tuitest.Press("?"))
	v := tuitest.Plain(p.View())
	for _, want := range []string{"approve", "deny", "silent", "settings", "http log", "quit"} {
		if !strings.Contains(v, want) {
			t.Fatalf("full help lacks %q:\n%s", want, v)
		}
	}
	p.Update(tuitest.Press("?"))
	if strings.Contains(tuitest.Plain(p.View()), "Everywhere") {
		t.Fatal("? did not close the help")
	}
}

func TestDeleteAsksFirst(t *testing.T) {
	p, _ := offlinePhone(t)
	_, cmd := p.Update(tuitest.Press("x"))
	follow(t, p, cmd)
	if p.dialog == nil || !strings.Contains(tuitest.Plain(p.View()), "Delete alice's factor?") {
		t.Fatalf("no confirmation:\n%s", tuitest.Plain(p.View()))
	}
	_, cmd = p.Update(tuitest.Press("n"))
	if cmd != nil || p.dialog != nil {
		t.Fatal("n did not cancel")
	}
	_, cmd = p.Update(tuitest.Press("x"))
	follow(t, p, cmd)
	_, cmd = p.Update(tuitest.Press("y"))
	if msg := cmd(); msg.(deleteFactorMsg).factorSid != tuitest.FactorSid {
		t.Fatalf("y asked for %#v", msg)
	}
}

func TestCursorStaysOnItsChallenge(t *testing.T) {
	p, clock := offlinePhone(t)
	p.Update(tuitest.Press("down"))
	chosen := tuitest.Challenges(clock.Now())[1].Sid
	if sel := p.top().(*factorScreen).selected(); sel.Sid != chosen {
		t.Fatalf("down selected %s", sel.Sid)
	}
	fresh := tuitest.Challenges(clock.Now())[0]
	fresh.Sid, fresh.CreatedAt = "YC"+strings.Repeat("f", 32), clock.Now()
	p.Update(EventMsg{tagged: p.c.tag(), Event: device.Event{Kind: device.EventChallenge, Via: device.ViaPoll, FactorSid: fresh.FactorSid, ChallengeSid: fresh.Sid, Challenge: &fresh}})
	if sel := p.top().(*factorScreen).selected(); sel.Sid != chosen {
		t.Fatalf("a new challenge moved the cursor to %s", sel.Sid)
	}
}

func TestSettingsChangeTheDevice(t *testing.T) {
	clock := newTestClock()
	d := newTestDevice(t, nil, clock.Now, nil)
	p := newTestPhone(t, d, Options{})
	p.Update(openSettingsMsg{tagged: p.c.tag()})
	p.Update(tuitest.Press("down"))
	p.Update(tuitest.Press("right"))
	if got := d.PollInterval(); got != 10*time.Second {
		t.Fatalf("poll interval %s after →", got)
	}
	p.Update(tuitest.Press("down"))
	p.Update(tuitest.Press("down"))
	p.Update(tuitest.Press("right"))
	p.Update(tuitest.Press("right"))
	if got := d.ClockOffset(); got != time.Minute {
		t.Fatalf("clock offset %s after → →", got)
	}
	if !strings.Contains(tuitest.Plain(p.View()), "09:42") {
		t.Fatalf("the status bar does not show the skewed clock:\n%s", tuitest.Plain(p.View()))
	}
	p.Update(tuitest.Press("down"))
	p.Update(tuitest.Press("space"))
	if !d.Foreground() {
		t.Fatal("space did not bring the app to the foreground")
	}
	p.Update(tuitest.Press("down"))
	_, cmd := p.Update(tuitest.Press("space"))
	follow(t, p, cmd)
	if p.dialog == nil || !strings.Contains(tuitest.Plain(p.View()), "Reinstall the app?") {
		t.Fatalf("reinstall did not ask first:\n%s", tuitest.Plain(p.View()))
	}
}

// flowed is the text inside a phone's outline as one run of words, so a
// phrase is found whether or not it wrapped.
func flowed(frame string) string {
	var words []string
	for _, line := range strings.Split(frame, "\n") {
		words = append(words, strings.Fields(strings.Trim(strings.TrimSpace(line), "│┃║"))...)
	}
	return strings.Join(words, " ")
}
