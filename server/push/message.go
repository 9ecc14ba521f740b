package push

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Limits shared by the gateway and the wire format.
const (
	MinTokenLen = 32
	MaxTokenLen = 255
	MaxIDLen    = 255
	// MaxFrameSize bounds one frame in either direction; 4 KiB is also FCM's
	// limit for a data payload, so a message that fits here would fit there.
	MaxFrameSize = 4096
	// TimeFormat is the layout of expires_at on the wire.
	TimeFormat = "2006-01-02T15:04:05Z"
)

// Close codes the gateway sends besides the standard ones (1001 on shutdown,
// 1003 for binary frames, 1008 for frames that are not acks, 1009 for frames
// over MaxFrameSize).
const (
	// CloseReplaced tells a phone that a newer connection with the same token
	// took its place.
	CloseReplaced = 4000
)

// Message is one push for one registration token.
type Message struct {
	// ID identifies the message for acks and de-duplication; a second Send
	// with an ID that is still queued for the token is ignored.
	ID    string
	Token string
	// Data is the FCM-style data payload, delivered as-is.
	Data map[string]string
	// ExpiresAt is required: the gateway never writes the message after it.
	ExpiresAt time.Time
	// NowOnly is FCM's TTL 0: write it now if the phone is connected, and
	// otherwise, or if that connection ends before the ack, drop it.
	NowOnly bool
}

// DropReason says why a message left the queue without an ack.
type DropReason string

const (
	// DropExpired: ExpiresAt passed before the phone acked.
	DropExpired DropReason = "expired"
	// DropOffline: a NowOnly message found no connection, or lost it.
	DropOffline DropReason = "offline"
	// DropEvicted: the token's queue was full of live messages and this was
	// the oldest.
	DropEvicted DropReason = "evicted"
	// DropOverloaded: the gateway-wide bound was reached and this new message
	// was refused; the server may offer it again later.
	DropOverloaded DropReason = "overloaded"
)

var (
	// ErrClosed is returned by Send after Shutdown.
	ErrClosed = errors.New("push: gateway is shut down")
	// ErrInvalidMessage is wrapped by Send's errors for messages that can
	// never be delivered as given.
	ErrInvalidMessage = errors.New("push: invalid message")
)

// ValidToken reports whether tok can be a registration token: 32 to 255
// printable ASCII characters without spaces, so it survives an
// Authorization header unchanged.
func ValidToken(tok string) bool {
	if len(tok) < MinTokenLen || len(tok) > MaxTokenLen {
		return false
	}
	return printable(tok)
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// wireMessage is the server-to-phone frame.
type wireMessage struct {
	ID        string            `json:"id"`
	Data      map[string]string `json:"data"`
	ExpiresAt string            `json:"expires_at"`
}

// parseAck reads the phone-to-server frame, {"ack":"<id>"}. Keys match
// exactly, as the protocol spells them: encoding/json alone would also
// take {"ACK":…}, which the protocol calls an unknown key.
func parseAck(frame []byte) (id string, ok bool) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(frame, &fields) != nil {
		return "", false
	}
	if json.Unmarshal(fields["ack"], &id) != nil {
		return "", false
	}
	return id, id != ""
}

// encodeFrame validates m and renders the frame once, so redeliveries cost
// no encoding.
func encodeFrame(m Message) ([]byte, error) {
	switch {
	case m.ID == "" || len(m.ID) > MaxIDLen || !printable(m.ID):
		return nil, fmt.Errorf("%w: id must be 1 to %d printable characters", ErrInvalidMessage, MaxIDLen)
	case !ValidToken(m.Token):
		return nil, fmt.Errorf("%w: token must be %d to %d printable characters", ErrInvalidMessage, MinTokenLen, MaxTokenLen)
	case m.ExpiresAt.IsZero():
		return nil, fmt.Errorf("%w: ExpiresAt is required", ErrInvalidMessage)
	}
	data := m.Data
	if data == nil {
		data = map[string]string{}
	}
	frame, err := json.Marshal(wireMessage{ID: m.ID, Data: data, ExpiresAt: formatExpiry(m.ExpiresAt)})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidMessage, err)
	}
	if len(frame) > MaxFrameSize {
		return nil, fmt.Errorf("%w: frame is %d bytes, limit %d", ErrInvalidMessage, len(frame), MaxFrameSize)
	}
	return frame, nil
}

// formatExpiry rounds up to the whole second: the wire has no fractions, and
// rounding down would make a live message look expired to the phone.
func formatExpiry(t time.Time) string {
	t = t.UTC()
	if s := t.Truncate(time.Second); !s.Equal(t) {
		t = s.Add(time.Second)
	}
	return t.Format(TimeFormat)
}
