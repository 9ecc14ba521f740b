package tour

import (
	"strings"
	"testing"
	"unicode"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

const (
	sid  = "YCb363169fdc405cda40b37eb7f0123456"
	path = "/v2/Services/VA00112233445566778899aabbccddeeff/Entities/2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90/Challenges/" + sid
)

// squeeze is text without its spaces: what must survive wrapping.
func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// Wrapped text keeps every character but the spaces it breaks at, and no
// line is wider than asked, at the widths the tour meets (32 cells at
// 80×24, 68 at 120×40) and narrower.
func TestWrapLosesNothing(t *testing.T) {
	texts := []string{
		"  Challenge " + sid + " is pending until 2026-03-04 09:46:00Z.",
		"GET " + path,
		"  Nobody answered " + sid + " before it expired at 2026-03-04 09:46:00Z.",
		`      "message": "Sign in to Acme?",`,
		"→ 200 OK · 9ms · held 8.1 s by the tour",
		"",
	}
	for _, text := range texts {
		for _, width := range []int{68, 32, 20, 7, 1} {
			lines := wrap(text, width, 4, lipgloss.NewStyle())
			for _, l := range lines {
				if ansi.StringWidth(l) > width {
					t.Errorf("width %d: %q is %d wide", width, l, ansi.StringWidth(l))
				}
			}
			if got := squeeze(strings.Join(lines, "\n")); got != squeeze(text) {
				t.Errorf("width %d: %q came out as\n%s", width, text, strings.Join(lines, "\n"))
			}
		}
	}
}

// A SID that fits on a line is not broken: it starts a line of its own,
// taking some of the indent if it needs it. One that cannot fit breaks
// only at the line's end.
func TestWrapKeepsSIDsWhole(t *testing.T) {
	lines := wrap("  Challenge "+sid+" is pending.", 40, 4, lipgloss.NewStyle())
	if !strings.Contains(strings.Join(lines, "\n"), "    "+sid) {
		t.Errorf("the SID was broken at 40 cells:\n%s", strings.Join(lines, "\n"))
	}
	lines = wrap("  Challenge "+sid+" is pending.", 34, 4, lipgloss.NewStyle())
	if want := []string{"  Challenge", sid, "    is pending."}; strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("at 34 cells, a SID's width:\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	lines = wrap("  Challenge "+sid+".", 34, 4, lipgloss.NewStyle())
	if want := []string{"  Challenge", sid, "    ."}; strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("at 34 cells, a SID and a full stop:\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	lines = wrap("  Challenge "+sid+" is pending.", 32, 4, lipgloss.NewStyle())
	want := []string{"  Challenge", "    " + sid[:28], "    " + sid[28:] + " is pending."}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("at 32 cells:\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// A URL breaks before a '/' wherever a segment fits, so its parts stay
// readable; a SID between slashes that fits a line only without its slash
// gets a line of its own; only a segment wider than the line is broken
// inside.
func TestWrapBreaksURLsAtSlashes(t *testing.T) {
	for _, c := range []struct {
		width int
		want  []string
	}{
		{68, []string{
			"GET /v2/Services/VA00112233445566778899aabbccddeeff/Entities",
			"/2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90",
			"/Challenges/" + sid,
		}},
		{34, []string{
			"GET /v2/Services/",
			"VA00112233445566778899aabbccddeeff",
			"/Entities",
			"/2bd806c97f0e00af1a1fc3328fa763a92",
			"69723c8db8fac4f93af71db186d6e90",
			"/Challenges/",
			sid,
		}},
	} {
		if got := wrap("GET "+path, c.width, 0, lipgloss.NewStyle()); strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("at %d cells:\n%s\nwant\n%s", c.width, strings.Join(got, "\n"), strings.Join(c.want, "\n"))
		}
	}
}
