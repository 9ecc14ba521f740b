package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/pushsim/pushsim/device"
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
				left, boxes := demoLayout(size[0], size[1], phones, tour)
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
		d, _ := offlineDemo(t, DemoOptions{Phones: phones})
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
	d, _ := offlineDemo(t, DemoOptions{Phones: 2})
	d.Update(tea.WindowSizeMsg{Width: 160, Height: 40})
	p := d.phones[1]
	d.Update(factorsLoadedMsg{tagged: p.c.tag(), factors: []device.Factor{fixtureFactor()}, silent: map[string]bool{}})

	d.Update(press("s"))
	if d.console.busy == "" {
		t.Fatal("s on the focused console did not sign in")
	}
	d.console.busy = ""
	d.Update(tea.KeyPressMsg{Code: tea.KeyTab})
	d.Update(tea.KeyPressMsg{Code: tea.KeyTab})
	if d.focus != 2 || !p.Focused() || d.phones[0].Focused() || d.console.focused {
		t.Fatalf("two tabs left the focus on pane %d", d.focus)
	}
	_, cmd := d.Update(press("s"))
	d.Update(cmd()) // the phone opens screens by message
	if d.console.busy != "" || p.top().kind() != screenSettings {
		t.Fatal("s on the focused phone did not open its settings")
	}
	d.Update(press("esc"))

	// Click the console's "Sign in with number matching", where the demo
	// drew it.
	x, y := findOnScreen(t, d, "Sign in with number matching")
	d.Update(tea.MouseClickMsg{X: x, Y: y, Button: tea.MouseLeft})
	if d.focus != 0 || d.console.busy == "" {
		t.Fatalf("clicking the console's action: focus %d, busy %q", d.focus, d.console.busy)
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
	if msg, ok := cmd().(openFactorMsg); !ok || msg.phone != p.c.id {
		t.Fatalf("the click asked for %#v", msg)
	}
}

// findOnScreen is where text first appears in the demo's frame.
func findOnScreen(t *testing.T, d *Demo, text string) (int, int) {
	t.Helper()
	for y, line := range strings.Split(plain(d.render()), "\n") {
		if i := strings.Index(line, text); i >= 0 {
			return ansi.StringWidth(line[:i]), y
		}
	}
	t.Fatalf("%q is not on screen", text)
	return 0, 0
}
