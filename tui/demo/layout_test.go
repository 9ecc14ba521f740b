package demo

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/tui/console"
	"github.com/pushsim/pushsim/tui/internal/tuitest"
	"github.com/pushsim/pushsim/tui/phone"
)

// Every cell of the screen belongs to exactly one pane or to the tab row,
// whatever the size, however many phones and whichever has focus; a
// screen too small for any pane has none.
func TestDemoLayoutTilesTheScreen(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}, {160, 40}, {200, 50}, {60, 20}, {60, 30}, {44, 21}, {43, 30}, {100, 20}} {
		for phones := 1; phones <= 4; phones++ {
			for _, tour := range []bool{false, true} {
				if tour && phones > 1 {
					continue
				}
				for focus := 0; focus <= phones; focus++ {
					l := layout(size[0], size[1], phones, tour, focus, 0)
					where := fmt.Sprintf("%dx%d, %d phones, tour %v, focus %d", size[0], size[1], phones, tour, focus)
					boxes := append(l.panes(), l.tabRow)
					if l.arrangement == tooSmall {
						for _, b := range boxes {
							if b.w != 0 {
								t.Fatalf("%s: too small, yet a pane has %v", where, b)
							}
						}
						continue
					}
					seen := make([]int, size[0]*size[1])
					for _, b := range boxes {
						for y := b.y; y < b.y+b.h; y++ {
							for x := b.x; x < b.x+b.w; x++ {
								seen[y*size[0]+x]++
							}
						}
					}
					for i, n := range seen {
						if n != 1 {
							t.Fatalf("%s: cell (%d,%d) is in %d boxes", where, i%size[0], i/size[0], n)
						}
					}
					for i, b := range l.panes() {
						if b.w == 0 {
							continue
						}
						if i > 0 && (b.w < phone.MinWidth || b.h < phone.MinHeight) || i == 0 && b.w < leftMinWidth {
							t.Fatalf("%s: pane %d gets %dx%d", where, i, b.w, b.h)
						}
					}
					if focused := l.panes()[focus]; focused.w == 0 {
						t.Fatalf("%s: the pane with focus is not shown", where)
					}
				}
			}
		}
	}
}

// The arrangements a presenter meets, at the sizes the demo's help and
// goldens name: at 80×24 one phone beside the console, two phones taking
// turns beside it; at 120×40 two phones stacked, as many rows as fit
// phones; at 160×40 side by side; below 80 columns one pane at a time.
func TestDemoLayoutAtPresenterSizes(t *testing.T) {
	cases := []struct {
		name          string
		width, height int
		phones        int
		tour          bool
		want          arrangement
		left          box
		phoneBoxes    []box
	}{
		{"one phone 80x24", 80, 24, 1, false, allPanes, box{0, 0, 36, 24}, []box{{36, 0, 44, 24}}},
		{"tour 80x24", 80, 24, 1, true, allPanes, box{0, 0, 36, 24}, []box{{36, 0, 44, 24}}},
		{"two phones 80x24", 80, 24, 2, false, phoneTabs, box{0, 0, 36, 24}, []box{{36, 1, 44, 23}, {}}},
		{"two phones 120x40", 120, 40, 2, false, allPanes, box{0, 0, 75, 40}, []box{{75, 0, 45, 20}, {75, 20, 45, 20}}},
		{"two phones 160x40", 160, 40, 2, false, allPanes, box{0, 0, 38, 40}, []box{{38, 0, 61, 40}, {99, 0, 61, 40}}},
		{"three phones 200x40", 200, 40, 3, false, allPanes, box{0, 0, 36, 40}, []box{{36, 0, 54, 40}, {90, 0, 54, 40}, {144, 0, 56, 40}}},
		{"one phone 60x30", 60, 30, 1, false, paneTabs, box{0, 1, 60, 29}, []box{{}}},
		{"too small 40x15", 40, 15, 1, false, tooSmall, box{}, []box{{}}},
	}
	for _, c := range cases {
		l := layout(c.width, c.height, c.phones, c.tour, 0, 0)
		if l.arrangement != c.want || l.left != c.left || fmt.Sprint(l.phoneBoxes) != fmt.Sprint(c.phoneBoxes) {
			t.Errorf("%s: arrangement %d, left %v, phones %v; want %d, %v, %v", c.name, l.arrangement, l.left, l.phoneBoxes, c.want, c.left, c.phoneBoxes)
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

	d.Update(tuitest.Press("i"))
	if d.console.State().Busy == "" {
		t.Fatal("i on the focused console did not sign in")
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
