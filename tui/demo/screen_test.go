package demo

import (
	"fmt"
	"strings"
	"testing"
	"unicode"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/verifyclient"
	"github.com/pushsim/pushsim/tui/internal/tuitest"
	"github.com/pushsim/pushsim/tui/style"
)

// boxText is what a box of a plain frame shows, line by line, without the
// pane's border.
func boxText(frame string, b box) []string {
	var out []string
	for _, l := range strings.Split(frame, "\n")[b.y : b.y+b.h] {
		out = append(out, strings.Trim(ansi.Cut(l, b.x, b.x+b.w), "│┃║ "))
	}
	return out
}

// squeeze drops white space: where a wrapped line broke does not matter,
// that every character is there, in order, does.
func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// Acceptance 2 of issue 10: at 80×24, after push bombing, the console
// shows every character of its result and of Verify's refusal, wrapped,
// none cut.
func TestDemoPushBombingWholeAt80x24(t *testing.T) {
	r := startDemo(t, Options{}, 80, 24)
	r.enrolled()
	s := r.action("b", "refused")
	s = r.until("the refusal's detail", func(s demoSnapshot) bool { return strings.Contains(s.left, "20429") })

	left := strings.Join(boxText(s.frame, s.leftBox), "\n")
	for _, want := range []string{
		"✓ Push bombing: 8 sign-ins, 5 pushed, 3 refused",
		"429 · 20429 Too many pending challenges for this factor (5): answer or wait for one to expire before sending another",
	} {
		if !strings.Contains(squeeze(left), squeeze(want)) {
			t.Fatalf("%q is not whole in the 80×24 frame:\n%s", want, s.frame)
		}
	}
	for _, l := range strings.Split(left, "\n") {
		if strings.Contains(l, "Push bombing:") || strings.Contains(l, "20429") || strings.Contains(l, "expire before") {
			if strings.HasSuffix(l, "…") {
				t.Fatalf("a line of the result is cut: %q\n%s", l, s.frame)
			}
		}
	}
}

// The console's actions use letters no phone binds, so a key never does
// one thing on the console and another on a phone.
func TestDemoKeysNeverCollide(t *testing.T) {
	k := style.NewDemoKeyMap(nil)
	phoneKeys := map[string]string{}
	for _, b := range k.PhoneKeys() {
		for _, kk := range b.Keys() {
			phoneKeys[kk] = b.Help().Desc
		}
	}
	for _, b := range k.ConsoleActions() {
		for _, kk := range b.Keys() {
			if what, ok := phoneKeys[kk]; ok {
				t.Errorf("%s means %q on the console and %q on a phone", kk, b.Help().Desc, what)
			}
		}
	}
}

// Exactly one pane wears the focus border, the one with focus, and its
// title or outline says so without colour; tab moves it.
func TestDemoFocusIsMarked(t *testing.T) {
	d, _ := offlineDemo(t, Options{Phones: 2})
	d.Update(tea.WindowSizeMsg{Width: 160, Height: 40})
	for _, p := range d.phones {
		p.Preload([]device.Factor{tuitest.Factor()})
	}
	for focus := 0; focus <= 2; focus++ {
		frame := tuitest.Plain(d.render())
		if n := strings.Count(frame, "┏"); n != 1 {
			t.Fatalf("focus %d: %d panes drawn focused:\n%s", focus, n, frame)
		}
		b := d.panes()[focus]
		if !strings.Contains(strings.Join(boxText(frame, b), "\n"), "┏") {
			t.Fatalf("focus %d: the focus border is not on its pane:\n%s", focus, frame)
		}
		if focus == 0 && !strings.Contains(frame, "▸ App backend") {
			t.Fatalf("the console's title does not say it has focus:\n%s", frame)
		}
		d.Update(tuitest.Press("tab"))
	}
}

// At 80×24 two phones take turns beside the console, under tabs: tab and
// clicks on the tabs show each, and a push to the phone not shown shows
// as a count on its tab.
func TestDemoTwoPhonesAt80x24TakeTurns(t *testing.T) {
	d, clock := offlineDemo(t, Options{Phones: 2})
	d.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	for _, p := range d.phones {
		p.Preload([]device.Factor{tuitest.Factor()})
	}
	now := clock.Now()
	d.phones[1].Preload([]device.Factor{tuitest.Factor()}, device.Challenge{
		Sid: "YC00000000000000000000000000000009", FactorSid: tuitest.FactorSid, Status: verifyclient.ChallengePending,
		Details: verifyclient.Details{Message: "Sign in to Acme?"}, CreatedAt: now, UpdatedAt: now, ExpirationDate: now.Add(5 * 60e9),
	})

	frame := tuitest.Plain(d.render())
	if strings.Contains(frame, "larger") {
		t.Fatalf("two phones at 80×24 ask for a larger terminal:\n%s", frame)
	}
	tabs := strings.Split(frame, "\n")[0]
	if !strings.Contains(tabs, "▹ Phone 1") || !strings.Contains(squeeze(tabs), "Phone21") {
		t.Fatalf("the tab row should show phone 1 and phone 2's pending challenge: %q", tabs)
	}

	d.Update(tuitest.Press("tab"))
	d.Update(tuitest.Press("tab"))
	if d.focus != 2 || d.phoneBoxes[1].w == 0 || d.phoneBoxes[0].w != 0 {
		t.Fatalf("tab to phone 2: focus %d, boxes %v", d.focus, d.phoneBoxes)
	}
	frame = tuitest.Plain(d.render())
	if tabs := strings.Split(frame, "\n")[0]; !strings.Contains(tabs, "▸ Phone 2") {
		t.Fatalf("phone 2 has focus, the tabs say %q", tabs)
	}
	if slot := strings.Join(boxText(frame, d.slot), "\n"); !strings.Contains(slot, "alice's factor") || !strings.Contains(slot, "1 pending") && !strings.Contains(slot, " 1 ") {
		t.Fatalf("phone 2 is not the one shown:\n%s", frame)
	}

	x, y := findOnScreen(t, d, "Phone 1")
	d.Update(tea.MouseClickMsg{X: x, Y: y, Button: tea.MouseLeft})
	if d.focus != 1 || d.phoneBoxes[0].w == 0 {
		t.Fatalf("clicking phone 1's tab: focus %d", d.focus)
	}
	d.Update(tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}) // the console: phone 1 stays shown
	if d.focus != 0 || d.phoneBoxes[0].w == 0 {
		t.Fatalf("tab to the console: focus %d, boxes %v", d.focus, d.phoneBoxes)
	}
}

// A terminal too small for any pane says which size the demo needs and
// which it has, whole, at any size.
func TestDemoTooSmallSaysTheSizes(t *testing.T) {
	d, _ := offlineDemo(t, Options{Phones: 2})
	for _, size := range [][2]int{{40, 15}, {43, 30}, {80, 20}, {20, 10}} {
		d.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		frame := tuitest.Plain(d.render())
		for _, want := range []string{"44×21", fmt.Sprintf("%d×%d", size[0], size[1])} {
			if !strings.Contains(frame, want) {
				t.Fatalf("%dx%d: %q is not on screen:\n%s", size[0], size[1], want, frame)
			}
		}
		lines := strings.Split(frame, "\n")
		if len(lines) != size[1] || ansi.StringWidth(lines[0]) != size[0] {
			t.Fatalf("%dx%d: the frame is %d lines of %d", size[0], size[1], len(lines), ansi.StringWidth(lines[0]))
		}
	}
}

// q asks first while quitting would lose the demo's state, whichever pane
// sent it; n keeps the demo, y quits. With nothing to lose q quits.
func TestDemoQuitAsksFirst(t *testing.T) {
	d, _ := offlineDemo(t, Options{TemporaryHome: true})
	d.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	k := style.NewDemoKeyMap(nil)

	_, cmd := d.Update(tuitest.Press("q")) // the console has focus
	msg := d.filterQuit(d, cmd())
	if _, ok := msg.(askQuitMsg); !ok {
		t.Fatalf("q with a temporary home went through as %T", msg)
	}
	d.Update(msg)
	frame := tuitest.Plain(d.render())
	for _, want := range []string{"Quit the demo?", "temporary directory", "--data DIR", k.Yes.Help().Key + " Quit", k.No.Help().Key + " Stay"} {
		if !strings.Contains(squeeze(frame), squeeze(want)) {
			t.Fatalf("the question lacks %q:\n%s", want, frame)
		}
	}
	if _, cmd = d.Update(tuitest.Press("n")); cmd != nil || d.quit != nil {
		t.Fatal("n did not keep the demo")
	}

	d.Update(tuitest.Press("tab")) // a phone sends the quit this time
	_, cmd = d.Update(tuitest.Press("q"))
	d.Update(d.filterQuit(d, cmd()))
	if d.quit == nil {
		t.Fatal("q on the phone did not ask")
	}
	_, cmd = d.Update(tuitest.Press("y"))
	if cmd == nil {
		t.Fatal("y did not quit")
	}
	if _, ok := d.filterQuit(d, cmd()).(tea.QuitMsg); !ok {
		t.Fatal("the quit the user said yes to was held back")
	}

	kept, _ := offlineDemo(t, Options{})
	kept.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	_, cmd = kept.Update(tuitest.Press("q"))
	if _, ok := kept.filterQuit(kept, cmd()).(tea.QuitMsg); !ok {
		t.Fatal("with nothing to lose q should quit at once")
	}
	if !key.Matches(tuitest.Press("y"), k.Yes) || !key.Matches(tuitest.Press("n"), k.No) {
		t.Fatal("the dialog's keys are not the key map's")
	}
}

// With no pane on screen a key acts on nothing unseen; q still asks, and
// the question shows over the "too small" message.
func TestDemoTooSmallTakesNoKeys(t *testing.T) {
	d, _ := offlineDemo(t, Options{TemporaryHome: true})
	d.Update(tea.WindowSizeMsg{Width: 40, Height: 15})
	if _, cmd := d.Update(tuitest.Press("b")); cmd != nil || d.console.State().Busy != "" {
		t.Fatal("b bombed on a screen showing no console")
	}
	d.Update(tuitest.Press("q"))
	if frame := tuitest.Plain(d.render()); d.quit == nil || !strings.Contains(frame, "Quit the demo?") {
		t.Fatalf("q on a screen too small did not ask:\n%s", frame)
	}
}
