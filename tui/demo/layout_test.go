package demo

import (
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/tui/console"
	"github.com/pushsim/pushsim/tui/internal/tuitest"
	"github.com/pushsim/pushsim/tui/phone"
)

// Every cell of the screen belongs to exactly one pane, whatever the size
// and however many phones.
func TestDemoLayoutTilesTheScreen(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}, {160, 40}, {200, 50}, {60, 20}} {
		for phones := 1; phones <= 4; phones++ {
			for _, tour := range []bool{false, true} {
				if tour && phones > 1 {
					continue
				}
				left, boxes := layout(size[0], size[1], phones, tour)
				seen := make([]int, size[0]*size[1])
				for _, b := range append([]box{left}, boxes...) {
					for y := b.y; y < b.y+b.h; y++ {
						for x := b.x; x < b.x+b.w; x++ {
							seen[y*size[0]+x]++
						}
					}
				}
				for i, n := range seen {
					if n != 1 {
						t.Fatalf("%dx%d, %d phones, tour %v: cell (%d,%d) is in %d panes", size[0], size[1], phones, tour, i%size[0], i/size[0], n)
					}
				}
			}
		}
	}
}

func TestDemoFrameIsTheTerminal(t *testing.T) {
	for _, phones := range []int{1, 2, 3} {
		d, _ := offlineDemo(t, Options{Phones: phones})
		d.Update(tea.WindowSizeMsg{Width: 150, Height: 40})
		lines := strings.Split(d.render(), "\n")
		if len(lines) != 40 {
			t.Fatalf("%d phones: %d lines", phones, len(lines))
		}
		for i, l := range lines {
			if w := ansi.StringWidth(l); w != 150 {
				t.Fatalf("%d phones: line %d is %d wide", phones, i, w)
			}
		}
	}
}

// Keys go to the pane with focus; tab moves it; a click focuses the pane
// it lands in and reaches it in the pane's own coordinates.
func TestDemoFocusKeysAndClicks(t *testing.T) {
	d, _ := offlineDemo(t, Options{Phones: 2})
	d.Update(tea.WindowSizeMsg{Width: 160, Height: 40})
	p := d.phones[1]
	p.Preload([]device.Factor{tuitest.Factor()})

	d.Update(tuitest.Press("s"))
	if d.console.State().Busy == "" {
		t.Fatal("s on the focused console did not sign in")
	}
	// The server's part: the sign-in failed, so the console is free again.
	d.Update(console.SignedInMsg{Kind: console.SignInPlain, Err: errors.New("offline")})
	d.Update(tea.KeyPressMsg{Code: tea.KeyTab})
	d.Update(tea.KeyPressMsg{Code: tea.KeyTab})
	if d.focus != 2 || !p.Focused() || d.phones[0].Focused() || d.console.Focused() {
		t.Fatalf("two tabs left the focus on pane %d", d.focus)
	}
	_, cmd := d.Update(tuitest.Press("s"))
	d.Update(cmd()) // the phone opens screens by message
	if d.console.State().Busy != "" || p.State().Screen != phone.ScreenSettings {
		t.Fatal("s on the focused phone did not open its settings")
	}
	d.Update(tuitest.Press("esc"))

	// Click the console's "Sign in with number matching", where the demo
	// drew it.
	x, y := findOnScreen(t, d, "Sign in with number matching")
	d.Update(tea.MouseClickMsg{X: x, Y: y, Button: tea.MouseLeft})
	if busy := d.console.State().Busy; d.focus != 0 || busy == "" {
		t.Fatalf("clicking the console's action: focus %d, busy %q", d.focus, busy)
	}

	// Click the second phone's factor row: the phone must see the click
	// where its row is in its own box.
	x, y = findOnScreen(t, d, "alice's factor")
	_, cmd = d.Update(tea.MouseClickMsg{X: x, Y: y, Button: tea.MouseLeft})
	if d.focus != 2 {
		t.Fatalf("clicking the second phone focused pane %d", d.focus)
	}
	if cmd == nil {
		t.Fatal("the phone did not take the click on its row")
	}
	d.Update(cmd())
	if got, other := p.State().Screen, d.phones[0].State().Screen; got != phone.ScreenFactor || other != phone.ScreenFactors {
		t.Fatalf("the click opened screen %d on the clicked phone, %d on the other", got, other)
	}
}

// findOnScreen is where text first appears in the demo's frame.
func findOnScreen(t *testing.T, d *Model, text string) (int, int) {
	t.Helper()
	for y, line := range strings.Split(tuitest.Plain(d.render()), "\n") {
		if i := strings.Index(line, text); i >= 0 {
			return ansi.StringWidth(line[:i]), y
		}
	}
	t.Fatalf("%q is not on screen", text)
	return 0, 0
}
