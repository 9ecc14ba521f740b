package sdkjose

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

var es256Only = []jose.SignatureAlgorithm{jose.ES256}

func TestDeviceJWT(t *testing.T) {
	key := newKey(t)
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	token, err := DeviceJWT(key, "CR00000000000000000000000000000001", "AC00000000000000000000000000000002", now)
	if err != nil {
		t.Fatal(err)
	}

	parsed, err := jwt.ParseSigned(token, es256Only)
	if err != nil {
		t.Fatalf("go-jose rejects the token: %v", err)
	}
	var claims struct {
		Sub string `json:"sub"`
		Nbf int64  `json:"nbf"`
		Exp int64  `json:"exp"`
	}
	if err := parsed.Claims(&key.PublicKey, &claims); err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
	if claims.Sub != "AC00000000000000000000000000000002" || claims.Nbf != now.Unix() || claims.Exp != now.Unix()+600 {
		t.Errorf("claims = %+v", claims)
	}
	if h := parsed.Headers[0]; h.KeyID != "CR00000000000000000000000000000001" || h.Algorithm != "ES256" ||
		h.ExtraHeaders["cty"] != "twilio-pba;v=1" || h.ExtraHeaders["typ"] != "JWT" {
		t.Errorf("header = %+v", h)
	}

	c, err := Decode(token)
	if err != nil {
		t.Fatal(err)
	}
	if keys, _ := c.HeaderKeys(); !reflect.DeepEqual(keys, []string{"cty", "kid", "typ", "alg"}) {
		t.Errorf("header key order = %v", keys)
	}
	if keys, _ := c.PayloadKeys(); !reflect.DeepEqual(keys, []string{"sub", "exp", "nbf"}) {
		t.Errorf("claim keys = %v", keys)
	}
	if len(c.Signature) != 64 {
		t.Errorf("signature is %d bytes, want raw r||s of 64", len(c.Signature))
	}
	if strings.ContainsAny(token, "=+/") {
		t.Errorf("token is not unpadded base64url: %s", token)
	}
}

func TestDeviceJWTIsFreshEachTime(t *testing.T) {
	key := newKey(t)
	now := time.Unix(1700000000, 0)
	a, _ := DeviceJWT(key, "CR1", "AC1", now)
	b, _ := DeviceJWT(key, "CR1", "AC1", now)
	if a == b {
		t.Error("two tokens for the same instant are identical; ECDSA signatures must be randomized")
	}
}

func TestFactorAuthPayload(t *testing.T) {
	key := newKey(t)
	const sid = "YF0123456789abcdef0123456789abcdef"
	payload, err := FactorAuthPayload(key, sid)
	if err != nil {
		t.Fatal(err)
	}
	der, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		t.Fatalf("not standard padded base64: %v", err)
	}
	digest := sha256.Sum256([]byte(sid))
	if !ecdsa.VerifyASN1(&key.PublicKey, digest[:], der) {
		t.Error("DER signature over the factor SID does not verify")
	}
	other := sha256.Sum256([]byte(sid + "x"))
	if ecdsa.VerifyASN1(&key.PublicKey, other[:], der) {
		t.Error("signature verifies over a different message")
	}
}

func TestChallengeAuthPayload(t *testing.T) {
	key := newKey(t)
	body := []byte(`{
	  "sid": "YC1", "factor_sid": "YF1", "status": "pending",
	  "details": {"message": "Log in?", "fields": [{"label": "IP", "value": "10.0.0.1"}]},
	  "hidden_details": null,
	  "expiration_date": "2020-02-27T08:50:57-08:00",
	  "url": "https:\/\/example.test\/x"
	}`)
	token, err := ChallengeAuthPayload(key, body, []string{"sid", "status", "details", "hidden_details", "sid"}, "approved")
	if err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(token, es256Only)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := jws.Verify(&key.PublicKey)
	if err != nil {
		t.Fatalf("JWS does not verify: %v", err)
	}
	want := `{"sid":"YC1","status":"approved","details":{"message":"Log in?","fields":[{"label":"IP","value":"10.0.0.1"}]},"hidden_details":null}`
	if string(payload) != want {
		t.Errorf("payload\n got %s\nwant %s", payload, want)
	}
	c, _ := Decode(token)
	if string(c.Header) != `{"typ":"JWT","alg":"ES256"}` {
		t.Errorf("header = %s", c.Header)
	}
}

func TestChallengeAuthPayloadAppendsStatus(t *testing.T) {
	key := newKey(t)
	token, err := ChallengeAuthPayload(key, []byte(`{"sid":"YC1","status":"pending"}`), []string{"sid"}, "denied")
	if err != nil {
		t.Fatal(err)
	}
	c, _ := Decode(token)
	if string(c.Payload) != `{"sid":"YC1","status":"denied"}` {
		t.Errorf("payload = %s", c.Payload)
	}
}

func TestChallengeAuthPayloadMissingField(t *testing.T) {
	_, err := ChallengeAuthPayload(newKey(t), []byte(`{"sid":"YC1"}`), []string{"sid", " factor_sid"}, "approved")
	var missing *MissingFieldError
	if !errors.As(err, &missing) || missing.Field != " factor_sid" {
		t.Fatalf("err = %v, want MissingFieldError for the unlisted name", err)
	}
}

func TestPublicKeyRoundTrip(t *testing.T) {
	key := newKey(t)
	enc, err := EncodePublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE") {
		t.Errorf("encoding %q does not start with the P-256 SPKI prefix", enc)
	}
	der, _ := base64.StdEncoding.DecodeString(enc)
	if len(der) != 91 {
		t.Errorf("SPKI is %d bytes, want 91", len(der))
	}
	back, err := DecodePublicKey(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Equal(&key.PublicKey) {
		t.Error("decoded key differs")
	}

	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if _, err := EncodePublicKey(&p384.PublicKey); !errors.Is(err, ErrNotP256) {
		t.Errorf("P-384 encode err = %v", err)
	}
	if _, err := DeviceJWT(p384, "CR", "AC", time.Now()); !errors.Is(err, ErrNotP256) {
		t.Errorf("P-384 sign err = %v", err)
	}
}

func TestDecodeRejects(t *testing.T) {
	for name, token := range map[string]string{
		"two segments":  "eyJhIjoxfQ.eyJiIjoyfQ",
		"four segments": "eyJhIjoxfQ.eyJiIjoyfQ.AA.AA",
		"padded":        "eyJhIjoxfQ==.eyJiIjoyfQ.AA",
		"array header":  base64.RawURLEncoding.EncodeToString([]byte(`[1]`)) + ".eyJiIjoyfQ.AA",
		"null payload":  "eyJhIjoxfQ." + base64.RawURLEncoding.EncodeToString([]byte(`null`)) + ".AA",
	} {
		if _, err := Decode(token); err == nil {
			t.Errorf("%s: Decode accepted %q", name, token)
		}
	}
}

func FuzzDecode(f *testing.F) {
	key := newKey(f)
	good, _ := DeviceJWT(key, "CR1", "AC1", time.Unix(1700000000, 0))
	f.Add(good)
	f.Add("a.b.c")
	f.Add("..")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("e30.e30.e30.e30")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := Decode(token)
		if err != nil {
			return
		}
		if !json.Valid(c.Header) || !json.Valid(c.Payload) {
			t.Fatalf("Decode returned invalid JSON for %q", token)
		}
		if _, err := c.HeaderKeys(); err != nil {
			t.Fatalf("HeaderKeys on decoded header: %v", err)
		}
		if _, err := c.PayloadKeys(); err != nil {
			t.Fatalf("PayloadKeys on decoded payload: %v", err)
		}
		if !strings.HasPrefix(token, c.SigningInput+".") {
			t.Fatalf("signing input %q is not the token's prefix", c.SigningInput)
		}
	})
}
