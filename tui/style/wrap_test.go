package style

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

const (
	challengeSid = "YCb363169fdc405cda40b37eb7f0a1b2c3"
	bombResult   = "✓ Push bombing: 8 sign-ins, 5 pushed, 3 refused"
	bombRefusal  = "  429 · 20429 Too many pending challenges for this factor (5): answer or wait for one to expire before sending another"
	factorURL    = "POST /v2/Services/VA00112233445566778899aabbccddeeff/Entities/2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90/Factors/YF0123456789abcdef0123456789abcdef"
)

// wrapCases are texts the panes wrap: results with refusals, notes that
// name SIDs, request lines with URLs, and one word longer than any line.
var wrapCases = []string{
	bombResult,
	bombRefusal,
	"  Challenge " + challengeSid + " reads approved: the user is in.",
	factorURL,
	"  The phone signed " + challengeSid + " and " + challengeSid + ".",
	"body " + strings.Repeat("0123456789abcdef", 5),
	"two\nparagraphs, the second longer than the first one is",
}

// nonSpace is s without its spaces: what must survive wrapping.
func nonSpace(s string) string { return strings.Join(strings.Fields(ansi.Strip(s)), "") }

// Wrapping never loses a character and never makes a line too long, at
// any width.
func TestWrapLosesNothing(t *testing.T) {
	for _, text := range wrapCases {
		for width := 1; width <= 90; width++ {
			for _, indent := range []int{0, 2, 4} {
				lines := wrapLines(text, width, indent)
				for i, l := range lines {
					if w := ansi.StringWidth(l); w > width {
						t.Fatalf("%q at %d, indent %d: line %d is %d wide: %q", text, width, indent, i, w, l)
					}
				}
				if got, want := nonSpace(strings.Join(lines, "")), nonSpace(text); got != want {
					t.Fatalf("%q at %d, indent %d lost text:\n got %q\nwant %q", text, width, indent, got, want)
				}
			}
		}
	}
}

// A SID is one word: on any line that can hold it, it is whole on one
// line, however deep the indent.
func TestWrapKeepsSidsWhole(t *testing.T) {
	for _, text := range wrapCases {
		for width := SIDWidth; width <= 90; width++ {
			for _, indent := range []int{0, 2, 4} {
				lines := wrapLines(text, width, indent)
				joined := strings.Join(lines, "\n")
				for _, sid := range regexp.MustCompile(`[A-Z]{2}[0-9a-f]{32}`).FindAllString(text, -1) {
					if !strings.Contains(joined, sid) {
						t.Fatalf("%q at %d, indent %d split %s:\n%s", text, width, indent, sid, joined)
					}
				}
			}
		}
	}
}

// A URL breaks only next to a '/', unless a part between two slashes is
// longer than a whole line.
func TestWrapBreaksURLsAtSlashes(t *testing.T) {
	for width := SIDWidth; width <= 90; width++ {
		lines := wrapLines(factorURL, width, 2)
		joined, breaks := "", []int{}
		for i, l := range lines {
			if i > 0 {
				breaks = append(breaks, len(joined))
			}
			joined += strings.TrimSpace(l)
		}
		joined = strings.TrimPrefix(joined, "POST")
		for _, at := range breaks[1:] {
			at -= len("POST")
			if joined[at-1] == '/' || joined[at] == '/' {
				continue
			}
			start := strings.LastIndex(joined[:at], "/") + 1
			end := at + strings.Index(joined[at:]+"/", "/")
			if end-start <= width {
				t.Fatalf("at %d the URL breaks inside %q:\n%s", width, joined[start:end], strings.Join(lines, "\n"))
			}
		}
	}
}

// The two losses at 80×24: the refusal in the console's 32-cell
// column and a SID in a tour note. Lines after the first hang two cells in.
func TestWrapIndentedKeepsTheEnd(t *testing.T) {
	st := NewStyles(DefaultTheme(), false)
	lines := WrapIndented(bombRefusal, 32, 2, st.Text)
	text := ansi.Strip(strings.Join(lines, "\n"))
	if strings.Contains(text, "…") {
		t.Fatalf("the refusal was cut:\n%s", text)
	}
	for _, word := range strings.Fields(bombRefusal) {
		if !strings.Contains(text, word) {
			t.Fatalf("%q is missing:\n%s", word, text)
		}
	}
	for i, l := range strings.Split(text, "\n") {
		if ansi.StringWidth(l) != 32 {
			t.Fatalf("line %d is %d wide, want 32", i, ansi.StringWidth(l))
		}
		if i > 0 && !strings.HasPrefix(l, "  ") {
			t.Fatalf("line %d does not hang: %q", i, l)
		}
	}

	note := "  Challenge " + challengeSid + " reads denied."
	got := ansi.Strip(strings.Join(WrapIndented(note, SIDWidth, 4, st.Text), "\n"))
	if !strings.Contains(got, "\n"+challengeSid) {
		t.Fatalf("the SID should have a line of its own, moved left to fit:\n%s", got)
	}
}

// Styles carry over a line break without bleeding past the line's end.
func TestWrapCarriesStyles(t *testing.T) {
	bold := lipgloss.NewStyle().Bold(true)
	lines := Wrap(bold.Render("Sign in to Acme from Lisbon, Portugal?"), 12)
	if len(lines) < 3 {
		t.Fatalf("want several lines, got %q", lines)
	}
	for i, l := range lines {
		if !strings.HasPrefix(strings.TrimLeft(l, " "), "\x1b[1m") || !strings.HasSuffix(l, "\x1b[m") {
			t.Fatalf("line %d does not open and close its style: %q", i, l)
		}
	}
}

func TestFieldNeverCuts(t *testing.T) {
	st := NewStyles(DefaultTheme(), false)
	cases := []struct {
		value string
		width int
		want  string
	}{
		{challengeSid, 60, "Sid      " + challengeSid},
		{challengeSid, 40, "Sid\n  " + challengeSid},
		{challengeSid, 34, "Sid\n" + challengeSid},
		{"Unknown (VPN exit node)", 24, "Sid      Unknown (VPN\n         exit node)"},
	}
	for _, c := range cases {
		got := ansi.Strip(Field(st, "Sid", c.value, c.width))
		if strings.TrimRight(got, " ") != c.want {
			t.Errorf("Field(%q, %d) =\n%s\nwant\n%s", c.value, c.width, got, c.want)
		}
	}
}

func testBindings() []key.Binding {
	k := NewDemoKeyMap(nil)
	return []key.Binding{k.SignIn, k.NumberMatch, k.PushBomb, k.FocusNext, k.Help}
}

// A short help that does not fit ends with its last key, the way to the
// others, after an ellipsis; it never overflows.
func TestShortHelpKeepsTheWayToTheRest(t *testing.T) {
	st := NewStyles(DefaultTheme(), false)
	full := ansi.Strip(ShortHelp(st, testBindings(), 200))
	if full != "i sign in • m number match • b push bombing • tab next pane • ? help" {
		t.Fatalf("the whole help: %q", full)
	}
	for width := 6; width < ansi.StringWidth(full); width++ {
		got := ansi.Strip(ShortHelp(st, testBindings(), width))
		if ansi.StringWidth(got) > width {
			t.Fatalf("at %d: %q overflows", width, got)
		}
		if !strings.HasSuffix(got, "? help") {
			t.Fatalf("at %d: %q lost the help key", width, got)
		}
	}
}

// The full help lists every key and every word of its description at any
// width, side by side when there is room.
func TestFullHelpFits(t *testing.T) {
	st := NewStyles(DefaultTheme(), false)
	k := NewDemoKeyMap(nil)
	groups := []HelpGroup{{"Console", k.ConsoleActions()}, {"Everywhere", k.Panes()}}
	for _, width := range []int{20, 34, 60, 100} {
		lines := FullHelp(st, groups, width)
		text := ansi.Strip(strings.Join(lines, "\n"))
		for i, l := range lines {
			if w := ansi.StringWidth(l); w > width {
				t.Fatalf("at %d line %d is %d wide:\n%s", width, i, w, text)
			}
		}
		for _, g := range groups {
			for _, b := range g.Bindings {
				for _, word := range append(strings.Fields(b.Help().Desc), b.Help().Key) {
					if !strings.Contains(text, word) {
						t.Fatalf("at %d %q is missing:\n%s", width, word, text)
					}
				}
			}
		}
		if side := strings.Contains(lines[0], "Everywhere"); side != (width >= 60) {
			t.Errorf("at %d side by side is %v:\n%s", width, side, text)
		}
	}
}

// The "too small" message fills its box exactly and, wherever the box can
// hold them, says the size needed and the size now.
func TestTooSmallSaysBothSizes(t *testing.T) {
	st := NewStyles(DefaultTheme(), false)
	for w := 1; w <= 90; w++ {
		for h := 1; h <= 24; h++ {
			got := ansi.Strip(TooSmall(st, "the demo", 88, 21, w, h))
			lines := strings.Split(got, "\n")
			if len(lines) != h {
				t.Fatalf("%dx%d: %d lines", w, h, len(lines))
			}
			for _, l := range lines {
				if ansi.StringWidth(l) != w {
					t.Fatalf("%dx%d: a line is %d wide", w, h, ansi.StringWidth(l))
				}
			}
			need, now := "88×21", fmt.Sprintf("%d×%d", w, h)
			if w >= len(now) && w >= 5 && h >= 4 && (!strings.Contains(got, need) || !strings.Contains(got, now)) {
				t.Fatalf("%dx%d does not say both sizes:\n%s", w, h, got)
			}
		}
	}
	got := ansi.Strip(TooSmall(st, "the demo", 88, 21, 40, 10))
	if !strings.Contains(strings.Join(strings.Fields(got), " "), "Make the terminal larger: the demo needs 88×21 (now 40×10).") {
		t.Fatalf("at 40×10 the whole sentence fits:\n%s", got)
	}
}

// The pane with focus is marked in its title and drawn with the focus
// border, so it shows without colour.
func TestPanelMarksFocus(t *testing.T) {
	st := NewStyles(DefaultTheme(), false)
	for _, focused := range []bool{false, true} {
		got := ansi.Strip(Panel(st, "App backend", []string{"hello"}, 30, 5, focused))
		lines := strings.Split(got, "\n")
		if len(lines) != 5 {
			t.Fatalf("%d lines", len(lines))
		}
		for _, l := range lines {
			if ansi.StringWidth(l) != 30 {
				t.Fatalf("a line is %d wide:\n%s", ansi.StringWidth(l), got)
			}
		}
		marked := strings.Contains(lines[0], "▸ App backend") && strings.HasPrefix(lines[0], "┏") && strings.HasPrefix(lines[1], "┃")
		plain := strings.Contains(lines[0], " App backend ") && strings.HasPrefix(lines[0], "╭") && !strings.Contains(got, "▸")
		if focused && !marked || !focused && !plain {
			t.Fatalf("focused %v:\n%s", focused, got)
		}
	}
}

// A panel narrower than a SID plus padding drops its padding: a SID still
// fits on a line of a 36-cell pane.
func TestPanelInnerHoldsASid(t *testing.T) {
	for width := SIDWidth + 2; width <= 120; width++ {
		if w, _ := PanelInner(width, 10); w < SIDWidth {
			t.Fatalf("a %d-cell panel has %d cells for text", width, w)
		}
	}
}

// A SID that ends a sentence keeps its line whole in a pane exactly as
// wide as a SID; the full stop goes to the next line.
func TestWrapKeepsASidWholeBeforeItsFullStop(t *testing.T) {
	const sid = "YCb363169fdc405cda40b37eb7f0123456"
	got := wrapLines("  Challenge "+sid+".", SIDWidth, 4)
	if want := []string{"  Challenge", sid, "    ."}; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	got = wrapLines("  Challenge "+sid+" is pending.", SIDWidth, 4)
	if want := []string{"  Challenge", sid, "    is pending."}; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A query string breaks before '?' and '&' too, so a SID in it stays whole.
func TestWrapBreaksQueriesBeforeTheirSeparators(t *testing.T) {
	const sid = "YF480a1b2c3d4e5f60718293a4b5c6d7e8"
	url := "http://127.0.0.1:4010/v2/Services/VA1/Entities/e/Challenges?PageSize=20&FactorSid=" + sid
	for _, width := range []int{40, 36, SIDWidth + 10} {
		got := strings.Join(Wrap(url, width), "\n")
		if !strings.Contains(got, sid) {
			t.Errorf("at %d cells the SID was split:\n%s", width, got)
		}
		if strings.ReplaceAll(got, "\n", "") != url {
			t.Errorf("at %d cells something was lost:\n%s", width, got)
		}
	}
}

// A pane drawn before its first size gets no lines, not a panic.
func TestFitBlockWithNoRoom(t *testing.T) {
	for _, size := range [][2]int{{0, 0}, {0, -1}, {-3, 2}, {5, -2}} {
		if got := FitBlock("a\nb", size[0], size[1]); len(got) != max(size[1], 0) {
			t.Errorf("FitBlock at %v: %q", size, got)
		}
	}
}
