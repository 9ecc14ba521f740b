package phone

import (
	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/verifyclient"
	"github.com/pushsim/pushsim/internal/termtext"
)

// Everything the phone draws that came over the network (a challenge's
// message, fields and hidden details, a factor's names, an error's text,
// an HTTP body) is chosen by whoever runs the server or the backend, and
// on a workshop it reaches other people's terminals. It is made safe as it
// enters the phone's state (the inbox, the banner, the notices) or, for
// what the phone keeps for calls to the device (SIDs), as it is drawn; and
// View neutralises any C1 or bidi code point left in the frame.

// shownChallenge is ch as the inbox keeps it for drawing. Its SIDs stay as
// the server sent them, since the phone calls the device with them; draw
// them through termtext.Line.
func shownChallenge(ch device.Challenge) device.Challenge {
	ch.Details.Message = termtext.Text(ch.Details.Message)
	if ch.Details.Fields != nil {
		fields := make([]verifyclient.Field, len(ch.Details.Fields))
		for i, f := range ch.Details.Fields {
			fields[i] = verifyclient.Field{Label: termtext.Line(f.Label), Value: termtext.Line(f.Value)}
		}
		ch.Details.Fields = fields
	}
	ch.HiddenDetails = termtext.Map(ch.HiddenDetails)
	return ch
}

// shownFactor is f as the inbox keeps it for drawing; its SID stays as
// stored, for calls to the device.
func shownFactor(f device.Factor) device.Factor {
	f.FriendlyName = termtext.Line(f.FriendlyName)
	f.Identity = termtext.Line(f.Identity)
	f.Status = termtext.Line(f.Status)
	f.NotificationPlatform = termtext.Line(f.NotificationPlatform)
	return f
}
