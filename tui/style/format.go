package style

import (
	"fmt"
	"time"
)

// Countdown is m:ss left until t, or 0:00 once it has passed.
func Countdown(now, t time.Time) string {
	left := t.Sub(now)
	if left < 0 {
		left = 0
	}
	secs := int((left + time.Second - 1) / time.Second)
	if secs >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", secs/3600, secs/60%60, secs%60)
	}
	return fmt.Sprintf("%d:%02d", secs/60, secs%60)
}

// Stamp is a wire-style UTC time for detail screens.
func Stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// Ago is a short relative age, as inbox rows show it.
func Ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case t.IsZero():
		return ""
	case d < time.Minute:
		return "now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	}
	return t.UTC().Format("Jan 2")
}

// Took is a duration as an exchange's outcome shows it.
func Took(d time.Duration) string {
	if d < time.Millisecond {
		return "<1ms"
	}
	return d.Round(time.Millisecond).String()
}

// Shorten keeps the start and end of a long identifier. What it drops is
// not on screen, so it is for a row whose whole value another screen shows
// (a challenge's SID in an inbox row, whole on the challenge's screen);
// anywhere else, Wrap keeps the identifier whole.
func Shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n || n < 5 {
		return s
	}
	head := (n - 1) / 2
	tail := n - 1 - head
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}
