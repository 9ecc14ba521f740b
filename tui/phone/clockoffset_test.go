package phone

import (
	"strings"
	"testing"
	"time"

	"github.com/pushsim/pushsim/tui/internal/tuitest"
)

// TestClockOffsetDoesNotExpireFreshChallenges: with the phone's clock set
// ahead, a challenge created a moment ago is pending with its whole time
// left, not "expired · now". The phone judges expiry with its corrected
// clock, and a verdict made before the correction was learned does not
// stick.
func TestClockOffsetDoesNotExpireFreshChallenges(t *testing.T) {
	e := newEnrolledPhone(t, Options{})
	before := e.push("Before the clock moved")
	e.pump.until("the first challenge", func() bool { return e.status(before) == "pending" })
	e.pump.send(tuitest.Press("esc")) // the banner

	// Settings: the clock offset is the fourth row; → steps +30s, +1m,
	// +5m, +10m.
	e.pump.send(tuitest.Press("s"))
	e.pump.until("the settings", func() bool { return e.phone.top().kind() == ScreenSettings })
	for _, k := range []string{"down", "down", "down", "right", "right", "right", "right"} {
		e.pump.send(tuitest.Press(k))
	}
	if got := e.dev.ClockOffset(); got != 10*time.Minute {
		t.Fatalf("offset %s", got)
	}
	e.pump.send(clockTickMsg{tagged: e.phone.c.tag()})

	e.clock.Advance(5 * time.Second)
	after := e.push("After the clock moved") // its fetch meets a 401 and corrects
	e.pump.until("the second challenge", func() bool { return e.status(after) == "pending" })
	if got := e.dev.TimeCorrection(); got != -600 {
		t.Fatalf("correction %d, want -600", got)
	}
	e.pump.send(clockTickMsg{tagged: e.phone.c.tag()})
	e.pump.send(tuitest.Press("esc")) // the banner
	e.pump.send(tuitest.Press("esc")) // the settings
	e.pump.send(tuitest.Press("enter"))
	e.pump.until("the inbox", func() bool { return e.phone.top().kind() == ScreenFactor })

	screen := e.screen()
	if strings.Contains(screen, "expired") {
		t.Fatalf("a challenge of the last minute shows as expired:\n%s", screen)
	}
	for _, want := range []string{"After the clock moved", "5:00", "Before the clock moved", "4:55", "· 2 pending"} {
		if !strings.Contains(screen, want) {
			t.Fatalf("inbox lacks %q:\n%s", want, screen)
		}
	}
	if bar := e.statusBar(); !strings.Contains(bar, "09:51") {
		t.Fatalf("the status bar shows the phone's own clock, 10 minutes ahead: %q", bar)
	}
}
