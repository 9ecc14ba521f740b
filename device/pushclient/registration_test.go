package pushclient

import "testing"

// TestRegistrationTokenFollowsTheProtocol pins the derivation to the worked
// example in docs/push-protocol.md, computed outside Go, so a change to
// either side shows up here rather than as phones that silently get nothing.
func TestRegistrationTokenFollowsTheProtocol(t *testing.T) {
	const (
		secret = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc" // 32 bytes of 0x07, base64url
		want   = "pushsim:rJf3semXExZuORdMMVPb_xCR4tfOq1JgIcNOiVcy75g"
	)
	got := RegistrationToken(secret)
	if got != want {
		t.Fatalf("RegistrationToken(%q) = %q, want %q", secret, got, want)
	}
	// Verify refuses a Config.NotificationToken outside this shape, and the
	// server a bearer outside it.
	if !validSecret(got) {
		t.Fatalf("token %q is not 32-255 printable characters", got)
	}
	if RegistrationToken(secret+"x") == got {
		t.Fatal("different secrets gave one token")
	}
}
