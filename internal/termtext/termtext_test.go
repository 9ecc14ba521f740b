package termtext

import (
	"encoding/json"
	"strings"
	"testing"
)

// osc is the sequence that retitled attendees' windows: OSC (U+009D),
// "0;TITLE", ST (U+009C).
const osc = "\u009d0;TITLE\u009c"

func TestTextShowsWhatATerminalWouldObey(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Sign in to Acme?", "Sign in to Acme?"},
		{"Café ☕ 東京", "Café ☕ 東京"},
		{osc, `\u009d0;TITLE\u009c`},
		{"\x1b]0;TITLE\x07", `\u001b]0;TITLE\u0007`},
		{"\x1b[2J\x1b[31mred", `\u001b[2J\u001b[31mred`},
		{"a\rb", `a\u000db`},
		{"del\x7f", `del\u007f`},
		{"pay \u202eusd 001\u202c", `pay \u202eusd 001\u202c`},
		{"\u2066isolate\u2069 \u202a\u202b\u202d", `\u2066isolate\u2069 \u202a\u202b\u202d`},
		{"two\nlines\tand a tab", "two\nlines\tand a tab"},
		{"windows\r\nline", "windows\nline"},
		{"bad \xff byte", "bad \ufffd byte"},
		{"\u00a0no-break is text", "\u00a0no-break is text"},
	} {
		if got := Text(c.in); got != c.want {
			t.Errorf("Text(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestLineIsOneLine(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"two\nlines", "two lines"},
		{"crlf\r\nend", "crlf end"},
		{"tab\there", "tab here"},
		{"lone\rreturn", `lone\u000dreturn`},
		{osc + "\n", `\u009d0;TITLE\u009c `},
	} {
		if got := Line(c.in); got != c.want {
			t.Errorf("Line(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// Whatever goes in, nothing a terminal acts on comes out.
func TestNothingUnsafeSurvives(t *testing.T) {
	var all strings.Builder
	for r := rune(0); r < 0x3000; r++ {
		all.WriteRune(r)
	}
	all.WriteString("\xff\xfe\xc2")
	for name, out := range map[string]string{"Text": Text(all.String()), "Line": Line(all.String())} {
		for _, r := range out {
			if Unsafe(r) {
				t.Errorf("%s let U+%04X through", name, r)
			}
		}
	}
}

func TestFrameKeepsTheUIsOwnEscapes(t *testing.T) {
	frame := "\x1b[1mbold\x1b[m " + osc + " \u202eevil\u202c"
	want := "\x1b[1mbold\x1b[m " + `\u009d0;TITLE\u009c \u202eevil\u202c`
	if got := Frame(frame); got != want {
		t.Errorf("Frame = %q, want %q", got, want)
	}
	plain := "\x1b[7m 1 \x1b[m ▂▄▆█"
	if got := Frame(plain); got != plain {
		t.Errorf("Frame changed a clean frame: %q", got)
	}
}

func TestJSONIsLossless(t *testing.T) {
	in := map[string]string{"message": "Sign in?" + osc + "\u202e", "plain": "é"}
	raw, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	safe := JSON(raw)
	for _, r := range string(safe) {
		if Unsafe(r) {
			t.Fatalf("JSON let U+%04X through: %s", r, safe)
		}
	}
	var back map[string]string
	if err := json.Unmarshal(safe, &back); err != nil {
		t.Fatalf("%s: %v", safe, err)
	}
	if back["message"] != in["message"] || back["plain"] != in["plain"] {
		t.Fatalf("decoded %q, want %q", back, in)
	}
}

func BenchmarkTextClean(b *testing.B) {
	s := strings.Repeat("Sign in to Acme from Lisbon, Portugal? ", 8)
	for b.Loop() {
		_ = Text(s)
	}
}
