package verify

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// A timed SID is a well-formed SID whose first 12 hex digits are its
// creation time in milliseconds, so later SIDs sort after earlier ones;
// the other 20 digits are what rand gave.
func TestTimedSIDsSortByCreationAndKeepTheirRandomPart(t *testing.T) {
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	random := bytes.Repeat([]byte{0xab}, 10)
	first, err := newTimedSID(bytes.NewReader(random), PrefixChallenge, at)
	if err != nil {
		t.Fatal(err)
	}
	if want := "YC01a2272d2600" + strings.Repeat("ab", 10); first != want {
		t.Fatalf("SID %s, want %s", first, want)
	}
	if !IsSID(first, PrefixChallenge) {
		t.Fatalf("%s is not a challenge SID", first)
	}
	later, err := newTimedSID(bytes.NewReader(make([]byte, 10)), PrefixChallenge, at.Add(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if later <= first {
		t.Fatalf("a SID a millisecond later sorts first: %s ≤ %s", later, first)
	}
	if _, err := newTimedSID(bytes.NewReader(nil), PrefixChallenge, at); err == nil {
		t.Fatal("a SID without its random part")
	}
}
