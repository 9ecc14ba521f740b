package verify

import (
	"encoding/hex"
	"io"
	"time"
)

// SID prefixes of the resources this package mints.
const (
	PrefixAccount      = "AC"
	PrefixService      = "VA"
	PrefixEntity       = "YE"
	PrefixFactor       = "YF"
	PrefixChallenge    = "YC"
	PrefixNotification = "NT"
	PrefixAccessToken  = "YK"
	PrefixWebhook      = "YW"
	PrefixCredential   = "CR"
)

// newSID returns prefix + 32 lower-case hex digits read from rand.
func newSID(rand io.Reader, prefix string) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return "", err
	}
	return prefix + hex.EncodeToString(b[:]), nil
}

// newTimedSID is newSID for resources created many times a second and
// looked up by SID (challenges, notifications, whose SIDs are also their
// pushes' message IDs): the first 12 hex digits are the creation time in
// milliseconds, the other 20 are random. The store's indexes on these SIDs
// then grow at one end, and a create writes one page there instead of a
// different page for every SID; Twilio's SIDs look wholly random, but
// nothing in the API orders or parses them, and 80 random bits still
// cannot be guessed.
func newTimedSID(rand io.Reader, prefix string, at time.Time) (string, error) {
	var b [16]byte
	ms := uint64(at.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	if _, err := io.ReadFull(rand, b[6:]); err != nil {
		return "", err
	}
	return prefix + hex.EncodeToString(b[:]), nil
}

// IsSID reports whether s is prefix followed by 32 hex digits.
func IsSID(s, prefix string) bool {
	if len(s) != 34 || s[:2] != prefix {
		return false
	}
	for _, c := range s[2:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// newUUID returns a random version-4 UUID, the shape of a webhook's uuid.
func newUUID(rand io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}
