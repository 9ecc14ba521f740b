package push

import (
	"crypto/sha256"
	"encoding/base64"
)

// The derivation is written out in docs/push-protocol.md; device/pushclient
// has its own copy, since phone and server share no code, and a test in
// package server checks that the two agree.
const (
	// tokenPrefix marks derived tokens, which also keeps them apart from the
	// secrets phones generate (plain base64url).
	tokenPrefix = "pushsim:"
	// tokenDomain keeps this hash from colliding with any other use of the
	// secret.
	tokenDomain = "pushsim push registration v1\x00"
)

// RegistrationToken is the token a phone holding secret registers as
// Config.NotificationToken, and so the key of the queue and connection that
// secret opens: "pushsim:" + unpadded base64url of SHA-256("pushsim push
// registration v1" NUL secret). The result is always a valid token.
func RegistrationToken(secret string) string {
	sum := sha256.Sum256([]byte(tokenDomain + secret))
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(sum[:])
}
