package verify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/pushsim/pushsim/device/sdkjose"
)

func TestDeviceJWTVerify(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Unix(1_800_000_000, 0)
	account := "AC" + strings.Repeat("a", 32)
	tok, err := sdkjose.DeviceJWT(key, "CR"+strings.Repeat("b", 32), account, now)
	if err != nil {
		t.Fatal(err)
	}
	d, err := ParseDeviceJWT(tok)
	if err != nil || d.KeyID != "CR"+strings.Repeat("b", 32) {
		t.Fatalf("parse: %v %+v", err, d)
	}
	if err := d.Verify(&key.PublicKey, account, now.Add(30*time.Second), DefaultLeeway); err != nil {
		t.Fatalf("valid token refused: %v", err)
	}
	if err := d.Verify(&key.PublicKey, account, now.Add(-2*time.Minute), DefaultLeeway); err == nil {
		t.Fatal("token accepted before nbf - leeway")
	}
	if err := d.Verify(&key.PublicKey, account, now.Add(12*time.Minute), DefaultLeeway); err == nil {
		t.Fatal("token accepted after exp + leeway")
	}
	if err := d.Verify(&key.PublicKey, "AC"+strings.Repeat("c", 32), now, DefaultLeeway); err == nil {
		t.Fatal("token accepted for another account")
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err := d.Verify(&other.PublicKey, account, now, DefaultLeeway); err == nil {
		t.Fatal("token accepted with another key")
	}

	// Hand-made tokens: missing claims, too long a life, JSON serialization.
	sign := func(header, claims string) string {
		h := base64.RawURLEncoding.EncodeToString([]byte(header))
		c := base64.RawURLEncoding.EncodeToString([]byte(claims))
		return h + "." + c + "." + base64.RawURLEncoding.EncodeToString(make([]byte, 64))
	}
	hdr := `{"cty":"twilio-pba;v=1","kid":"CR1","typ":"JWT","alg":"ES256"}`
	for name, tok := range map[string]string{
		"no cty":    sign(`{"kid":"CR1","typ":"JWT","alg":"ES256"}`, `{}`),
		"no kid":    sign(`{"cty":"twilio-pba;v=1","typ":"JWT","alg":"ES256"}`, `{}`),
		"ES384":     sign(`{"cty":"twilio-pba;v=1","kid":"CR1","typ":"JWT","alg":"ES384"}`, `{}`),
		"RS256":     sign(`{"cty":"twilio-pba;v=1","kid":"CR1","typ":"JWT","alg":"RS256"}`, `{}`),
		"json form": `{"payload":"e30","signatures":[]}`,
		"4 parts":   sign(hdr, `{}`) + ".x",
		"too large": sign(hdr, `{"sub":"`+strings.Repeat("a", 9000)+`"}`),
	} {
		if _, err := ParseDeviceJWT(tok); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

// FuzzParseDeviceJWT: no input panics, and whatever parses names a key and
// still fails verification with a key that did not sign it.
func FuzzParseDeviceJWT(f *testing.F) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good, _ := sdkjose.DeviceJWT(key, "CR"+strings.Repeat("1", 32), "AC"+strings.Repeat("2", 32), time.Unix(1_800_000_000, 0))
	for _, seed := range []string{
		good, "", ".", "..", "a.b.c", "e30.e30.", strings.Repeat(".", 100),
		"eyJhbGciOiJub25lIn0.e30.", "eyJhbGciOiJIUzI1NiJ9.e30.AAAA", good + ".", good[:len(good)/2],
	} {
		f.Add(seed)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDeviceJWT(s)
		if err != nil {
			return
		}
		if d.KeyID == "" {
			t.Fatal("parsed token without kid")
		}
		if d.Verify(&other.PublicKey, "AC"+strings.Repeat("2", 32), time.Unix(1_800_000_000, 0), DefaultLeeway) == nil {
			t.Fatal("verified with a key that did not sign")
		}
	})
}

func TestJSONEqualIgnoresEscapingAndOrder(t *testing.T) {
	var a, b any
	if err := decodeJSON([]byte(`{"b":"x\/y","a":[1,{"k":"v"}]}`), &a); err != nil {
		t.Fatal(err)
	}
	if err := decodeJSON([]byte(`{"a":[1,{"k":"v"}],"b":"x/y"}`), &b); err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(a, b) {
		t.Fatal("same JSON compared unequal")
	}
	var c any
	decodeJSON([]byte(`{"a":[1,{"k":"v"}],"b":"x/y","c":null}`), &c)
	if jsonEqual(a, c) {
		t.Fatal("extra key compared equal")
	}
}

func TestValidIdentity(t *testing.T) {
	for s, want := range map[string]bool{
		"alice-0001": true, "ff483d1ff591898a9942916050d2ca3f": true, "short": false, "bad_identity": false,
		"-leading-dash": false, "trailing-dash-": false, "double--dash": false, strings.Repeat("a", 65): false,
	} {
		if ValidIdentity(s) != want {
			t.Errorf("ValidIdentity(%q) != %v", s, want)
		}
	}
}

// withNull is key's DER with a NULL after the key, which Go's PKIX parser
// skips.
func withNull(key string) string {
	der, _ := base64.StdEncoding.DecodeString(key)
	der = append(der, 0x05, 0x00)
	der[1] += 2 // a SEQUENCE of at most 127 bytes: its length is one byte
	return base64.StdEncoding.EncodeToString(der)
}

// FuzzParsePublicKey: no input panics, whatever parses is a P-256 key, and
// it parses only as the SDK writes it.
func FuzzParsePublicKey(f *testing.F) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good, _ := sdkjose.EncodePublicKey(&key.PublicKey)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	for _, seed := range []string{good, "", "MFkw", good[:len(good)/2], base64.StdEncoding.EncodeToString(der), "!!!!", strings.Repeat("A", 2000),
		good[:8] + "\n" + good[8:], good[:len(good)-3] + "x==", good + "\r\n", withNull(good)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pub, err := ParsePublicKey(s)
		if err != nil {
			return
		}
		if pub.Curve != elliptic.P256() {
			t.Fatalf("accepted a key on %s", pub.Curve.Params().Name)
		}
		// Factors are told apart by their key's text: a key has one.
		if again, _ := sdkjose.EncodePublicKey(pub); again != s {
			t.Fatalf("accepted %q, which the SDK writes %q", s, again)
		}
	})
}

// FuzzChallengePayload: no answer verifies unless its key signed it, and
// nothing panics on the way.
func FuzzChallengePayload(f *testing.F) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signed := map[string]any{"sid": "YC" + strings.Repeat("1", 32), "details": map[string]any{"message": "hi"}}
	body := []byte(`{"sid":"YC11111111111111111111111111111111","details":{"message":"hi"},"status":"pending"}`)
	good, _ := sdkjose.ChallengeAuthPayload(key, body, []string{"sid", "details"}, "approved")
	for _, seed := range []string{good, "", "a.b.c", good + "x", strings.Repeat(".", 50), "eyJhbGciOiJub25lIn0.e30."} {
		f.Add(seed)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f.Fuzz(func(t *testing.T, payload string) {
		if _, err := verifyChallengePayload(&other.PublicKey, payload, signed); err == nil {
			t.Fatal("verified with a key that did not sign")
		}
		if status, err := verifyChallengePayload(&key.PublicKey, payload, signed); err == nil && status != StatusApproved && status != StatusDenied {
			t.Fatalf("accepted status %q", status)
		}
	})
}
