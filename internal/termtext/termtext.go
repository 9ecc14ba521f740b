// Package termtext makes text that came over the network safe to put on a
// terminal. A challenge's message, its fields, a factor's name or an HTTP
// body are chosen by whoever runs the server or the backend, and a
// terminal acts on some code points instead of showing them: C0 controls
// (ESC starts every escape sequence), DEL, the C1 controls U+0080–U+009F
// (U+009D alone opens an operating-system command, so U+009D "0;TITLE"
// U+009C retitles the window) and the bidirectional overrides and isolates
// (U+202A–U+202E, U+2066–U+2069), which reorder what is shown around them.
//
// Every such code point is shown instead of obeyed, as its escape (\u009d),
// so that a tester sees what was sent; bytes that are not UTF-8 become
// U+FFFD. Everything else, accents and emoji included, passes unchanged.
//
// Text (multi-line) keeps newlines and tabs; Line (one line of a layout)
// turns them into spaces. Frame is a last pass over a finished frame: it
// cannot tell an escape sequence from the wire from the UI's own colours,
// so it only neutralises what a UI never emits itself (C1 and bidi), and
// is no substitute for cleaning text as it arrives. JSON does the same for
// encoding/json output, losslessly.
package termtext

import (
	"strings"
	"unicode/utf8"
)

// Text returns s with every control a terminal would act on shown as its
// escape, keeping newlines (a carriage return and newline becomes one) and
// tabs.
func Text(s string) string { return clean(s, true) }

// Line returns s as one line: like Text, but every line break (a newline
// or a carriage return and newline) and every tab becomes one space.
func Line(s string) string { return clean(s, false) }

// Frame neutralises, in a finished frame that may hold the UI's own
// escape sequences, the code points no UI draws on purpose: C1 controls
// and bidi overrides and isolates.
func Frame(s string) string {
	if !hasC1OrBidi(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if isC1(r) || isBidi(r) {
			writeEscape(&b, r)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// JSON escapes, inside encoding/json output, the code points that
// encoding/json leaves raw but a terminal acts on (C1 controls, bidi
// overrides and isolates), as \uXXXX. The JSON decodes to the same values:
// valid JSON can hold such code points only inside strings, where \uXXXX
// means the same thing.
func JSON(b []byte) []byte {
	if !hasC1OrBidi(string(b)) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if isC1(r) || isBidi(r) {
			out = appendEscape(out, r)
		} else {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}

// Unsafe reports whether r is a code point Text shows as its escape.
func Unsafe(r rune) bool {
	return r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || isC1(r) || isBidi(r)
}

func clean(s string, multiline bool) string {
	if isClean(s, multiline) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteRune(utf8.RuneError)
		case r == '\n' || r == '\t':
			if multiline {
				b.WriteRune(r)
			} else {
				b.WriteByte(' ')
			}
		case r == '\r' && strings.HasPrefix(s[i+size:], "\n"):
			// The pair is one line break, as a Windows-made body has them.
			if multiline {
				b.WriteByte('\n')
			} else {
				b.WriteByte(' ')
			}
			size++
		case Unsafe(r):
			writeEscape(&b, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isClean is the fast path: most text has nothing to change.
func isClean(s string, multiline bool) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if (c == '\n' || c == '\t') && !multiline || Unsafe(rune(c)) {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 || isC1(r) || isBidi(r) {
			return false
		}
		i += size
	}
	return true
}

// hasC1OrBidi reports whether s holds a C1 or bidi code point. Their UTF-8
// encodings start with 0xC2 (U+0080–U+009F) or 0xE2 (U+202A…, U+2066…),
// so only those bytes need decoding.
func hasC1OrBidi(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != 0xc2 && c != 0xe2 {
			continue
		}
		if r, _ := utf8.DecodeRuneInString(s[i:]); isC1(r) || isBidi(r) {
			return true
		}
	}
	return false
}

func isC1(r rune) bool { return r >= 0x80 && r <= 0x9f }

func isBidi(r rune) bool {
	return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
}

const hexDigits = "0123456789abcdef"

func writeEscape(b *strings.Builder, r rune) {
	b.WriteString(`\u`)
	for shift := 12; shift >= 0; shift -= 4 {
		b.WriteByte(hexDigits[(r>>shift)&0xf])
	}
}

func appendEscape(out []byte, r rune) []byte {
	out = append(out, '\\', 'u')
	for shift := 12; shift >= 0; shift -= 4 {
		out = append(out, hexDigits[(r>>shift)&0xf])
	}
	return out
}

// Map is Line over a map's keys and values (hidden details, for one): a
// copy, nil for nil.
func Map(in map[string]string) map[string]string {
	if in == nil {
		return nil
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[Line(k)] = Line(v)
	}
	return out
}
