package workshop

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// maxNameLen bounds a name in characters: long enough for any person's
// name, short enough for a phone's screen and a friendly name.
const maxNameLen = 64

// nameRefusal says why an SSH user name cannot be a workshop name, as the
// line the attendee reads, or "" when it can. The phone enrolls under the
// name exactly as typed, so that the presenter sends a sign-in to
// identity=<the name> and names that differ in any way are different
// people; the sample backend hashes it for Verify, unless raw says it
// passes names through, in which case a name must already be a valid
// Verify identity.
func nameRefusal(name string, raw bool, port string) string {
	if name == "" {
		return fmt.Sprintf("pushsim: connect with your name: ssh -p %s <your-name>@<this host>", port)
	}
	if !printableName(name) {
		return fmt.Sprintf("pushsim: a name is 1 to %d letters, digits, punctuation or inner spaces, with no control characters. Choose another: ssh -p %s <your-name>@<this host>", maxNameLen, port)
	}
	// A letter and a combining accent look like the composed letter, which
	// is what keyboards type: two such names would be two people who look
	// like one on every screen.
	if !norm.NFC.IsNormalString(name) {
		return fmt.Sprintf("pushsim: type each accented letter as one character (é, not e and a combining accent), as your keyboard does. Choose another: ssh -p %s <your-name>@<this host>", port)
	}
	if raw && !validVerifyIdentity(name) {
		return fmt.Sprintf("pushsim: this server sends names to Verify as they are, so a name must be 8 to 64 letters, digits and single dashes, e.g. ada-lovelace. Choose another: ssh -p %s <your-name>@<this host>", port)
	}
	return ""
}

// printableName refuses what would garble a terminal or a log line, or
// make two names look alike on screen: control and format characters
// (bidi overrides among them), invalid UTF-8, spaces at either end.
func printableName(name string) bool {
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxNameLen {
		return false
	}
	if strings.TrimSpace(name) != name {
		return false
	}
	for _, r := range name {
		if !unicode.IsGraphic(r) || (unicode.IsSpace(r) && r != ' ') {
			return false
		}
	}
	return true
}

// validVerifyIdentity is Verify's rule for an entity identity, as the
// server applies it (server/verify.ValidIdentity): 8 to 64 alphanumerics in
// dash-separated runs. The workshop meets the server only on the wire, so
// it keeps its own copy; a test holds the two together.
func validVerifyIdentity(s string) bool {
	if len(s) < 8 || len(s) > 64 || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// unaccent spells the commonest accented Latin letters without their
// accents, for slugs only: readable is enough, the hash keeps names apart.
var unaccent = strings.NewReplacer(
	"à", "a", "á", "a", "â", "a", "ã", "a", "ä", "a", "å", "a", "æ", "ae",
	"ç", "c", "è", "e", "é", "e", "ê", "e", "ë", "e", "ì", "i", "í", "i", "î", "i", "ï", "i",
	"ñ", "n", "ò", "o", "ó", "o", "ô", "o", "õ", "o", "ö", "o", "ø", "o", "œ", "oe", "ß", "ss",
	"ù", "u", "ú", "u", "û", "u", "ü", "u", "ý", "y", "ÿ", "y",
)

// maxSlugLen keeps directory names readable; the hash after the slug is
// what makes them unique.
const maxSlugLen = 24

// dirName is the directory that holds a name's phone and its owner: a
// readable slug of the name and a hash of its exact bytes, so that names
// differing only in case, accents, punctuation or beyond the slug's length
// get directories of their own. The owner file inside records the exact
// name, so even a hash collision is noticed rather than shared.
func dirName(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range unaccent.Replace(strings.ToLower(name)) {
		if b.Len() >= maxSlugLen {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	sum := sha256.Sum256([]byte(name))
	hash := hex.EncodeToString(sum[:6])
	if b.Len() == 0 {
		return hash
	}
	return b.String() + "-" + hash
}
