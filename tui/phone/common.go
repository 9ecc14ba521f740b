package phone

import (
	"context"
	"time"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/tui/style"
)

// common is the context every screen of one phone shares: sizes, styles,
// keys, the device and what the phone knows. It is a pointer so a theme or
// size change reaches every screen at once.
type common struct {
	id     string
	ctx    context.Context
	dev    *device.Device
	styles *style.Styles
	keys   *style.KeyMap
	inbox  *inbox
	opts   Options

	// width and height are the screen area inside the phone.
	width, height int

	// busy names the work in flight, by key (a challenge SID, "enroll",
	// a factor SID, a setting): screens show a spinner and refuse to
	// start the same work twice.
	busy map[string]string
	// spin is the current spinner frame, drawn next to busy work.
	spin string
}

func (c *common) tag() tagged { return tagged{phone: c.id} }

// phoneNow is the phone's own clock, skewed by the user's clock offset: what
// its status bar shows.
func (c *common) phoneNow() time.Time { return c.dev.Now() }

// verifyNow is the server's time as the SDK estimates it (the phone's clock
// plus the correction learnt from a 401): countdowns and expiry use it so a
// skewed clock does not expire challenges early.
func (c *common) verifyNow() time.Time {
	return c.phoneNow().Add(time.Duration(c.dev.TimeCorrection()) * time.Second)
}

func (c *common) isBusy(key string) bool {
	_, ok := c.busy[key]
	return ok
}
