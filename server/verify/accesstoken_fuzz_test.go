package verify

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// testSealer seals with a fixed key, so that the tokens in the committed
// seed corpus (testdata/fuzz/FuzzAccessToken) still open on every run.
var testSealer = tokenSealer{key: bytes.Repeat([]byte{0x5e}, 32), keyID: "pushsim-5e5e5e5e"}

// testTokenClaims are every set of claims testSealer has ever sealed for
// the corpus: the only claims an access token may open to.
var testTokenClaims = []accessTokenClaims{
	{ID: "YK" + strings.Repeat("1", 32), AccountSid: "AC" + strings.Repeat("2", 32), ServiceSid: "VA" + strings.Repeat("3", 32),
		Identity: "alice-0001", FactorType: "push", Expiry: 1_800_000_060},
	{ID: "YK" + strings.Repeat("4", 32), AccountSid: "AC" + strings.Repeat("2", 32), ServiceSid: "VA" + strings.Repeat("3", 32),
		Identity: "ff483d1ff591898a9942916050d2ca3f", FactorType: "push", FriendlyName: "Pixel 7", Expiry: 1_800_000_300},
}

// segments splits a compact JWE into its five parts.
func tokenSegments(t testing.TB, token string) []string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 5 {
		t.Fatalf("%d segments in %q", len(parts), token)
	}
	return parts
}

// TestAccessTokenRefusesEncryptedKey: alg dir has no encrypted key, so a
// token whose second segment is not empty was not sealed by this server,
// whatever its other segments say.
func TestAccessTokenRefusesEncryptedKey(t *testing.T) {
	token, err := testSealer.seal(testTokenClaims[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := testSealer.open(token); err != nil {
		t.Fatalf("genuine token refused: %v", err)
	}
	parts := tokenSegments(t, token)
	if parts[1] != "" {
		t.Fatalf("sealed with an encrypted key segment %q", parts[1])
	}
	for name, key := range map[string]string{
		"one byte":       base64.RawURLEncoding.EncodeToString([]byte{0}),
		"a wrapped key":  base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xa5}, 40)),
		"the sealer key": base64.RawURLEncoding.EncodeToString(testSealer.key),
		"not base64":     "!!",
	} {
		parts := tokenSegments(t, token)
		parts[1] = key
		if c, err := testSealer.open(strings.Join(parts, ".")); err == nil {
			t.Errorf("%s: token with encrypted key %q opened to %+v", name, key, c)
		}
	}
}

// FuzzAccessToken: an access token opens only if this server sealed it.
// Whatever the input, open either refuses it or returns exactly the claims
// of a token testSealer sealed (the corpus holds such tokens and their
// mutations); the accepted token has an empty encrypted-key segment; and a
// sealer with another key but the same key id opens nothing.
func FuzzAccessToken(f *testing.F) {
	for _, c := range testTokenClaims {
		tok, err := testSealer.seal(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok)
		parts := strings.Split(tok, ".")
		parts[1] = "AAAA"
		f.Add(strings.Join(parts, "."))
	}
	for _, s := range []string{"", "....", "a.b.c.d.e", "eyJhbGciOiJkaXIifQ....", strings.Repeat(".", 4) + strings.Repeat("A", 5000)} {
		f.Add(s)
	}
	impostor := tokenSealer{key: bytes.Repeat([]byte{0xa1}, 32), keyID: testSealer.keyID}
	f.Fuzz(func(t *testing.T, token string) {
		if c, err := impostor.open(token); err == nil {
			t.Fatalf("opened under another key: %+v", c)
		}
		c, err := testSealer.open(token)
		if err != nil {
			return
		}
		if parts := strings.Split(token, "."); len(parts) != 5 || parts[1] != "" {
			t.Fatalf("accepted a token whose encrypted-key segment is not empty: %q", token)
		}
		for _, sealed := range testTokenClaims {
			if c == sealed {
				return
			}
		}
		t.Fatalf("opened to claims nobody sealed: %+v", c)
	})
}

// FuzzAccessTokenRoundTrip: whatever the claims, seal then open gives them
// back; changing any one character of the token makes it refused, even
// where base64 would decode it to the same bytes; and a token given an
// encrypted key is refused.
func FuzzAccessTokenRoundTrip(f *testing.F) {
	f.Add("alice-0001", "push", "Pixel 7", int64(1_800_000_060), uint16(0), byte('A'))
	f.Add("ff483d1ff591898a9942916050d2ca3f", "push", "", int64(0), uint16(40), byte('.'))
	f.Add("", "", "\xff\xfe", int64(-1), uint16(200), byte('_'))
	f.Add("bob-0002", "totp", strings.Repeat("é", 64), int64(1<<62), uint16(9999), byte(0))
	f.Fuzz(func(t *testing.T, identity, factorType, friendly string, exp int64, at uint16, with byte) {
		in := accessTokenClaims{ID: "YK" + strings.Repeat("9", 32), AccountSid: "AC" + strings.Repeat("2", 32),
			ServiceSid: "VA" + strings.Repeat("3", 32), Identity: identity, FactorType: factorType, FriendlyName: friendly, Expiry: exp}
		token, err := testSealer.seal(in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := testSealer.open(token)
		if len(token) > maxAccessToken {
			if err == nil {
				t.Fatalf("opened a %d-byte token, over the %d limit", len(token), maxAccessToken)
			}
			return
		}
		if err != nil {
			t.Fatalf("sealed token refused: %v", err)
		}
		// JSON carries text as UTF-8: what went in invalid comes out with
		// U+FFFD, which the engine's validation never lets in anyway.
		want := in
		want.Identity, want.FactorType, want.FriendlyName = asJSONText(identity), asJSONText(factorType), asJSONText(friendly)
		if out != want {
			t.Fatalf("round trip: sealed %+v, opened %+v", want, out)
		}

		tampered := []byte(token)
		i := int(at) % len(tampered)
		if tampered[i] == with {
			return
		}
		tampered[i] = with
		if got, err := testSealer.open(string(tampered)); err == nil {
			t.Fatalf("changing byte %d to %q still opened, to %+v", i, with, got)
		}

		parts := strings.Split(token, ".")
		parts[1] = base64.RawURLEncoding.EncodeToString([]byte{with})
		if got, err := testSealer.open(strings.Join(parts, ".")); err == nil {
			t.Fatalf("token with an encrypted key opened to %+v", got)
		}
	})
}

// asJSONText is s as encoding/json writes it: each invalid byte becomes
// U+FFFD.
func asJSONText(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r) // ranging yields U+FFFD for each invalid byte
	}
	return b.String()
}
