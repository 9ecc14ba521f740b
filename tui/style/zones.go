package style

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// Clickable parts of a pane are wrapped in zone markers while a frame is
// drawn: zero-width APC escape sequences that lipgloss measures as nothing
// and carries through padding, borders and placement. Once the whole frame
// is laid out, ScanZones finds where each marker ended up, records the
// zones' rectangles and strips the markers. Hit-testing therefore follows
// the real layout instead of repeating its arithmetic.

const (
	zoneStart = "\x1b_pz:"
	zoneEnd   = "\x1b_pz/"
	zoneTerm  = "\x1b\\"
)

// Mark makes s a clickable zone called name.
func Mark(name, s string) string {
	return zoneStart + name + zoneTerm + s + zoneEnd + name + zoneTerm
}

// Zone is a clickable rectangle, in cells, inclusive.
type Zone struct {
	Name           string
	X0, Y0, X1, Y1 int
}

// ZoneMap is the zones of the last frame.
type ZoneMap []Zone

// Hit returns the name of the smallest zone at (x, y), or "": a button
// inside a clickable row wins over the row.
func (zm ZoneMap) Hit(x, y int) string {
	best, bestArea := "", -1
	for _, z := range zm {
		if y < z.Y0 || y > z.Y1 {
			continue
		}
		// A zone spanning lines covers the columns between its ends on
		// every line, which is what a multi-line row or button looks like.
		lo, hi := min(z.X0, z.X1), max(z.X0, z.X1)
		if x < lo || x > hi {
			continue
		}
		if area := (hi - lo + 1) * (z.Y1 - z.Y0 + 1); bestArea < 0 || area < bestArea {
			best, bestArea = z.Name, area
		}
	}
	return best
}

// ScanZones strips the zone markers from a rendered frame and returns the
// clean frame with the zones' positions.
func ScanZones(s string) (string, ZoneMap) {
	if !strings.Contains(s, zoneStart) {
		return s, nil
	}
	type open struct{ x, y int }
	starts := map[string]open{}
	var zones ZoneMap
	var out strings.Builder
	out.Grow(len(s))
	x, y := 0, 0
	var state byte
	for len(s) > 0 {
		switch {
		case strings.HasPrefix(s, zoneStart), strings.HasPrefix(s, zoneEnd):
			isStart := strings.HasPrefix(s, zoneStart)
			rest := s[len(zoneStart):]
			end := strings.Index(rest, zoneTerm)
			if end < 0 {
				out.WriteString(s)
				return out.String(), zones
			}
			name := rest[:end]
			s = rest[end+len(zoneTerm):]
			if isStart {
				starts[name] = open{x, y}
			} else if o, ok := starts[name]; ok {
				delete(starts, name)
				zones = append(zones, Zone{Name: name, X0: o.x, Y0: o.y, X1: x - 1, Y1: y})
			}
			continue
		case s[0] == '\n':
			out.WriteByte('\n')
			s = s[1:]
			x, y = 0, y+1
			continue
		}
		seq, width, n, newState := ansi.DecodeSequence(s, state, nil)
		out.WriteString(seq)
		x += width
		state = newState
		s = s[n:]
	}
	return out.String(), zones
}

// StripZones removes zone markers, for text drawn under an overlay.
func StripZones(s string) string {
	if !strings.Contains(s, "\x1b_pz") {
		return s
	}
	var out strings.Builder
	for {
		i := strings.Index(s, "\x1b_pz")
		if i < 0 {
			out.WriteString(s)
			return out.String()
		}
		out.WriteString(s[:i])
		end := strings.Index(s[i:], zoneTerm)
		if end < 0 {
			return out.String()
		}
		s = s[i+end+len(zoneTerm):]
	}
}
