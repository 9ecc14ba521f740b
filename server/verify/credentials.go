package verify

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Limits on credentials that arrive from the network, checked before any
// parsing so a hostile token costs nothing.
const (
	maxDeviceJWT       = 8 << 10
	maxAccessToken     = 4 << 10
	maxPushAuthPayload = 5456
	// deviceJWTLifetime is the SDK's exp - nbf; anything longer was not
	// minted by a phone.
	deviceJWTLifetime = 600 * time.Second
	deviceJWTType     = "twilio-pba;v=1"
	accessTokenType   = "twilio-fpa;v=1"
)

// ParsePublicKey decodes Binding.PublicKey: standard base64 of a PKIX DER
// ECDSA key on P-256, spelled as the SDK writes it. Factors are told apart
// by this text, so a key must have one.
func ParsePublicKey(b64 string) (*ecdsa.PublicKey, error) {
	if len(b64) > 1024 {
		return nil, ErrInvalidBinding
	}
	der, ok := decodeAsWritten(base64.StdEncoding, b64)
	if !ok {
		return nil, ErrInvalidBinding
	}
	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, ErrInvalidBinding
	}
	ec, ok := key.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, ErrInvalidBinding
	}
	// The parser skips elements after the algorithm and after the key,
	// so the same key had other DER too: it is taken only as encoded.
	if canonical, err := x509.MarshalPKIXPublicKey(ec); err != nil || !bytes.Equal(canonical, der) {
		return nil, ErrInvalidBinding
	}
	return ec, nil
}

// decodeAsWritten decodes s only if it is spelled as enc writes what it
// decodes to: Go's decoder skips line breaks and ignores the unused low
// bits of the last character, so other spellings decode to the same bytes.
func decodeAsWritten(enc *base64.Encoding, s string) ([]byte, bool) {
	b, err := enc.DecodeString(s)
	if err != nil || enc.EncodeToString(b) != s {
		return nil, false
	}
	return b, true
}

// verifyFactorPayload checks the proof of possession: a DER ECDSA signature
// over the factor SID, standard base64.
func verifyFactorPayload(pub *ecdsa.PublicKey, factorSid, payload string) bool {
	if len(payload) > maxPushAuthPayload {
		return false
	}
	sig, ok := decodeAsWritten(base64.StdEncoding, payload)
	if !ok {
		return false
	}
	digest := sha256.Sum256([]byte(factorSid))
	return ecdsa.VerifyASN1(pub, digest[:], sig)
}

// compactAsWritten reports whether token is a compact JWS or JWE of n
// segments, each unpadded base64url spelled as the encoder writes it. Go's
// decoder, and so go-jose, skips line breaks and ignores a segment's unused
// low bits, and go-jose checks a signature against the segments encoded
// again: one token would have many spellings, none of them the one a phone
// or this server wrote.
func compactAsWritten(token string, n int) bool {
	if strings.Count(token, ".") != n-1 {
		return false
	}
	for segment := range strings.SplitSeq(token, ".") {
		if _, ok := decodeAsWritten(base64.RawURLEncoding, segment); !ok {
			return false
		}
	}
	return true
}

// DeviceJWT is the unverified content of a phone's Authorization token.
type DeviceJWT struct {
	token *jwt.JSONWebToken
	// KeyID names the factor's credential SID.
	KeyID string
}

// ParseDeviceJWT parses a device token without verifying it, accepting only
// the compact form, ES256, and the SDK's cty. The caller looks up the factor
// by KeyID and then calls Verify with that factor's key.
func ParseDeviceJWT(s string) (*DeviceJWT, error) {
	if len(s) > maxDeviceJWT || !compactAsWritten(s, 3) {
		return nil, errors.New("malformed device token")
	}
	tok, err := jwt.ParseSigned(s, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return nil, err
	}
	if len(tok.Headers) != 1 {
		return nil, errors.New("device token must carry one signature")
	}
	h := tok.Headers[0]
	if cty, _ := h.ExtraHeaders[jose.HeaderContentType].(string); cty != deviceJWTType {
		return nil, fmt.Errorf("device token cty must be %s", deviceJWTType)
	}
	if h.KeyID == "" {
		return nil, errors.New("device token has no kid")
	}
	return &DeviceJWT{token: tok, KeyID: h.KeyID}, nil
}

// deviceClaims are the only claims a phone sends.
type deviceClaims struct {
	Subject   string           `json:"sub"`
	NotBefore *jwt.NumericDate `json:"nbf"`
	Expiry    *jwt.NumericDate `json:"exp"`
}

// Verify checks the signature with pub and the claims against accountSid and
// now: sub must match, nbf and exp are required, the window must contain now
// (with leeway) and may not be longer than a phone would mint.
func (d *DeviceJWT) Verify(pub *ecdsa.PublicKey, accountSid string, now time.Time, leeway time.Duration) error {
	var c deviceClaims
	if err := d.token.Claims(pub, &c); err != nil {
		return err
	}
	if c.NotBefore == nil || c.Expiry == nil {
		return errors.New("device token needs nbf and exp")
	}
	if c.Subject != accountSid {
		return errors.New("device token sub is not this account")
	}
	nbf, exp := c.NotBefore.Time(), c.Expiry.Time()
	if exp.Sub(nbf) > deviceJWTLifetime+leeway || !exp.After(nbf) {
		return errors.New("device token lifetime out of range")
	}
	if now.Add(leeway).Before(nbf) || now.Add(-leeway).After(exp) {
		return errors.New("device token outside its validity window")
	}
	return nil
}

// verifyChallengePayload checks a challenge answer: a compact ES256 JWS by
// pub whose payload repeats every signed field of the challenge as served and
// adds the new status. It returns that status.
func verifyChallengePayload(pub *ecdsa.PublicKey, payload string, signed map[string]any) (string, error) {
	if len(payload) > maxPushAuthPayload || !compactAsWritten(payload, 3) {
		return "", ErrChallengeVerification
	}
	jws, err := jose.ParseSignedCompact(payload, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return "", ErrChallengeVerification
	}
	body, err := jws.Verify(pub)
	if err != nil {
		return "", ErrChallengeVerification
	}
	var got map[string]any
	if err := decodeJSON(body, &got); err != nil {
		return "", ErrChallengeVerification
	}
	for name, want := range signed {
		have, ok := got[name]
		if !ok || !jsonEqual(have, want) {
			return "", ErrChallengeVerification
		}
	}
	status, _ := got["status"].(string)
	if status != StatusApproved && status != StatusDenied {
		return "", ErrChallengeVerification
	}
	return status, nil
}

// decodeJSON decodes with numbers kept as json.Number so that values compare
// exactly, whatever escaping or key order the phone's serializer used.
func decodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

// jsonEqual compares two values decoded by decodeJSON: key order and
// escaping are gone by then, and numbers compare as the digits sent.
func jsonEqual(a, b any) bool {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for k, x := range av {
			y, ok := bv[k]
			if !ok || !jsonEqual(x, y) {
				return false
			}
		}
		return true
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for i := range av {
			if !jsonEqual(av[i], bv[i]) {
				return false
			}
		}
		return true
	default:
		return a == b
	}
}

// accessTokenClaims are sealed inside an access token.
type accessTokenClaims struct {
	ID           string `json:"jti"`
	AccountSid   string `json:"sub"`
	ServiceSid   string `json:"service_sid"`
	Identity     string `json:"identity"`
	FactorType   string `json:"factor_type"`
	FriendlyName string `json:"factor_friendly_name,omitempty"`
	Expiry       int64  `json:"exp"`
}

// tokenSealer seals access tokens as JWEs (dir, A256GCM, DEFLATE) under a
// server key, the shape Twilio's tokens have.
type tokenSealer struct {
	key   []byte
	keyID string
}

func (s tokenSealer) seal(c accessTokenClaims) (string, error) {
	enc, err := jose.NewEncrypter(jose.A256GCM,
		jose.Recipient{Algorithm: jose.DIRECT, Key: s.key, KeyID: s.keyID},
		(&jose.EncrypterOptions{Compression: jose.DEFLATE}).WithContentType(accessTokenType))
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	obj, err := enc.Encrypt(body)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

func (s tokenSealer) open(token string) (accessTokenClaims, error) {
	var c accessTokenClaims
	if len(token) > maxAccessToken || !compactAsWritten(token, 5) {
		return c, errors.New("malformed access token")
	}
	// alg dir has no encrypted key: the second segment is empty in every
	// token this server seals, and go-jose would ignore whatever it held.
	if _, rest, _ := strings.Cut(token, "."); !strings.HasPrefix(rest, ".") {
		return c, errors.New("access token has an encrypted key; alg dir has none")
	}
	obj, err := jose.ParseEncryptedCompact(token, []jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		return c, err
	}
	if obj.Header.KeyID != s.keyID {
		return c, errors.New("access token sealed by another key")
	}
	if cty, _ := obj.Header.ExtraHeaders[jose.HeaderContentType].(string); cty != accessTokenType {
		return c, errors.New("access token cty mismatch")
	}
	body, err := obj.Decrypt(s.key)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(body, &c); err != nil {
		return c, err
	}
	return c, nil
}
