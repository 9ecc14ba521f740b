package push

import "testing"

// TestRegistrationTokenFollowsTheProtocol pins the derivation to the worked
// example in docs/push-protocol.md, computed outside Go.
func TestRegistrationTokenFollowsTheProtocol(t *testing.T) {
	const (
		secret = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc" // 32 bytes of 0x07, base64url
		want   = "pushsim:rJf3semXExZuORdMMVPb_xCR4tfOq1JgIcNOiVcy75g"
	)
	got := RegistrationToken(secret)
	if got != want {
		t.Fatalf("RegistrationToken(%q) = %q, want %q", secret, got, want)
	}
	if !ValidToken(got) {
		t.Fatalf("token %q is not a valid registration token", got)
	}
}

func TestRedactKeepsTheDistinctivePart(t *testing.T) {
	tok := RegistrationToken("BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc")
	if got, want := redact(tok), "pushsim:rJf3semX…"; got != want {
		t.Errorf("redact(derived) = %q, want %q", got, want)
	}
	// Tokens registered by other clients keep the old rule.
	if got, want := redact("fcm-registration-token-0123456789abcdef"), "fcm-regi…"; got != want {
		t.Errorf("redact(other) = %q, want %q", got, want)
	}
}
