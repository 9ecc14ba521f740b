// Package bounded keeps text that came over the network at a size the
// server chose. A request log or an event list that keeps its last entries
// whoever made them must not keep each at the size its sender chose.
package bounded

import (
	"strings"
	"unicode/utf8"
)

// Text is s cut at max bytes on a character's boundary and marked "…"
// when cut; a cut copy does not hold on to the rest of s.
func Text(s string, max int) string {
	if len(s) <= max {
		return s
	}
	for max > 0 && !utf8.RuneStart(s[max]) {
		max--
	}
	return strings.Clone(s[:max]) + "…"
}
