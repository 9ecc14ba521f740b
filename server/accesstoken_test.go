package server_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
)

// TestAccessTokenWithEncryptedKeyIsRefused: an access token is a JWE with
// alg dir, whose encrypted-key segment is empty. The same token with
// anything in that segment does not enroll (401, 20003), and the refusal
// does not use the token up: unaltered, it still enrolls.
func TestAccessTokenWithEncryptedKeyIsRefused(t *testing.T) {
	h := newHarness(t, "", newClock())
	svc, _ := setup(h, "alice-0001")
	tok := h.accessToken(svc, "bob-00000002")
	parts := strings.Split(tok, ".")
	if len(parts) != 5 || parts[1] != "" {
		t.Fatalf("access token %q: want five segments, the second empty", tok)
	}
	for _, key := range []string{"AA", base64.RawURLEncoding.EncodeToString(make([]byte, 40))} {
		parts[1] = key
		status, body := newPhone(h, svc, "bob-00000002").enroll(strings.Join(parts, "."))
		expectError(t, status, body, http.StatusUnauthorized, 20003)
	}
	if status, body := newPhone(h, svc, "bob-00000002").enroll(tok); status != http.StatusCreated {
		t.Fatalf("the genuine token after the refusals: %d %s", status, body)
	}
}
