// Package sdkjose owns the signing formats of the Verify Push mobile SDK: the
// device JWT that authenticates every call after enrollment, the DER
// AuthPayload that proves possession of a new factor's key, the JWS that
// answers a challenge, and the base64 SPKI encoding of a factor's public key.
//
// The encodings are built by hand rather than with a JOSE library so that the
// bytes match the Android SDK exactly (header key order, raw r||s signatures,
// unpadded base64url). The package has no state and no I/O, so server tests
// can use it to play the phone.
package sdkjose

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

const (
	// DeviceJWTContentType is the cty header of every device JWT.
	DeviceJWTContentType = "twilio-pba;v=1"
	// DeviceJWTLifetime is how long after nbf a device JWT's exp lies.
	DeviceJWTLifetime = 600 * time.Second
	// Algorithm is the only signing algorithm the SDK uses.
	Algorithm = "ES256"
)

// ErrNotP256 reports a key that is not an ECDSA P-256 key.
var ErrNotP256 = errors.New("sdkjose: key is not an ECDSA P-256 key")

// DeviceJWT returns the compact JWT the SDK sends as the Basic-auth password
// of every request after create-factor. The header keys appear in the order
// Android writes them (cty, kid, typ, alg); the claims are sub, exp, nbf with
// nbf = now and exp = now + DeviceJWTLifetime, in whole Unix seconds.
func DeviceJWT(key *ecdsa.PrivateKey, credentialSid, accountSid string, now time.Time) (string, error) {
	var h bytes.Buffer
	h.WriteString(`{"cty":`)
	writeJSONString(&h, DeviceJWTContentType)
	h.WriteString(`,"kid":`)
	writeJSONString(&h, credentialSid)
	h.WriteString(`,"typ":"JWT","alg":"ES256"}`)

	nbf := now.Unix()
	var p bytes.Buffer
	p.WriteString(`{"sub":`)
	writeJSONString(&p, accountSid)
	p.WriteString(`,"exp":`)
	p.WriteString(strconv.FormatInt(nbf+int64(DeviceJWTLifetime/time.Second), 10))
	p.WriteString(`,"nbf":`)
	p.WriteString(strconv.FormatInt(nbf, 10))
	p.WriteString(`}`)
	return signCompact(key, h.Bytes(), p.Bytes())
}

// FactorAuthPayload returns the verify-factor AuthPayload: an ECDSA P-256
// SHA-256 signature over the UTF-8 bytes of the factor SID, DER-encoded and
// then base64 with the standard, padded alphabet. Unlike JWT signatures this
// one stays in DER form; the asymmetry is the SDK's.
func FactorAuthPayload(key *ecdsa.PrivateKey, factorSid string) (string, error) {
	if err := checkPrivateKey(key); err != nil {
		return "", err
	}
	digest := sha256.Sum256([]byte(factorSid))
	der, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		return "", fmt.Errorf("sdkjose: sign factor sid: %w", err)
	}
	return base64.StdEncoding.EncodeToString(der), nil
}

// ChallengeAuthPayload returns the update-challenge AuthPayload: a compact
// JWS whose header is only {"typ":"JWT","alg":"ES256"} and whose payload holds,
// in order, each field named in fields copied as the raw JSON value it had in
// body (the GET challenge response), followed by status. When status is one
// of the listed fields its value is replaced in place, as Android's JSONObject
// does. A listed field that body lacks is an error: the SDK refuses to sign a
// payload it cannot build faithfully.
func ChallengeAuthPayload(key *ecdsa.PrivateKey, body []byte, fields []string, status string) (string, error) {
	var values map[string]json.RawMessage
	if err := json.Unmarshal(body, &values); err != nil {
		return "", fmt.Errorf("sdkjose: challenge body is not a JSON object: %w", err)
	}
	var p bytes.Buffer
	p.WriteByte('{')
	written := make(map[string]bool, len(fields)+1)
	for _, name := range fields {
		if written[name] {
			continue
		}
		var value []byte
		if name == "status" {
			value = jsonString(status)
		} else {
			raw, ok := values[name]
			if !ok {
				return "", &MissingFieldError{Field: name}
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, raw); err != nil {
				return "", fmt.Errorf("sdkjose: field %q: %w", name, err)
			}
			value = compact.Bytes()
		}
		if len(written) > 0 {
			p.WriteByte(',')
		}
		writeJSONString(&p, name)
		p.WriteByte(':')
		p.Write(value)
		written[name] = true
	}
	if !written["status"] {
		if len(written) > 0 {
			p.WriteByte(',')
		}
		p.WriteString(`"status":`)
		writeJSONString(&p, status)
	}
	p.WriteByte('}')
	return signCompact(key, []byte(`{"typ":"JWT","alg":"ES256"}`), p.Bytes())
}

// MissingFieldError reports a signature field that the challenge body lacks.
type MissingFieldError struct{ Field string }

func (e *MissingFieldError) Error() string {
	return fmt.Sprintf("sdkjose: signature field %q is not in the challenge", e.Field)
}

// EncodePublicKey returns Binding.PublicKey: the DER X.509
// SubjectPublicKeyInfo of a P-256 key in standard, padded base64.
func EncodePublicKey(pub *ecdsa.PublicKey) (string, error) {
	if pub == nil || pub.Curve != elliptic.P256() {
		return "", ErrNotP256
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("sdkjose: encode public key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(der), nil
}

// DecodePublicKey parses a Binding.PublicKey value and accepts only P-256.
func DecodePublicKey(s string) (*ecdsa.PublicKey, error) {
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("sdkjose: public key is not standard base64: %w", err)
	}
	parsed, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("sdkjose: public key is not DER SubjectPublicKeyInfo: %w", err)
	}
	pub, ok := parsed.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, ErrNotP256
	}
	return pub, nil
}

// Compact is a compact JWS split into its decoded parts, for inspection.
type Compact struct {
	Header    json.RawMessage // the decoded header JSON, byte for byte
	Payload   json.RawMessage // the decoded payload JSON, byte for byte
	Signature []byte          // the raw signature bytes
	// SigningInput is the ASCII "header.payload" that was signed.
	SigningInput string
}

// Decode splits a compact JWS without verifying it. It requires exactly three
// unpadded base64url segments whose first two decode to JSON objects; it
// exists so that tests and tools can look at header key order and claims the
// way a server sees them before verifying with a JOSE library.
func Decode(token string) (*Compact, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("sdkjose: token has %d segments, want 3", len(parts))
	}
	var c Compact
	var err error
	if c.Header, err = decodeObject("header", parts[0]); err != nil {
		return nil, err
	}
	if c.Payload, err = decodeObject("payload", parts[1]); err != nil {
		return nil, err
	}
	if c.Signature, err = base64.RawURLEncoding.DecodeString(parts[2]); err != nil {
		return nil, fmt.Errorf("sdkjose: signature is not unpadded base64url: %w", err)
	}
	c.SigningInput = parts[0] + "." + parts[1]
	return &c, nil
}

// HeaderKeys returns the header's top-level keys in the order they appear.
func (c *Compact) HeaderKeys() ([]string, error) { return objectKeys(c.Header) }

// PayloadKeys returns the payload's top-level keys in the order they appear.
func (c *Compact) PayloadKeys() ([]string, error) { return objectKeys(c.Payload) }

func decodeObject(what, segment string) (json.RawMessage, error) {
	raw, err := base64.RawURLEncoding.DecodeString(segment)
	if err != nil {
		return nil, fmt.Errorf("sdkjose: %s is not unpadded base64url: %w", what, err)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("sdkjose: %s is not a JSON object", what)
	}
	return raw, nil
}

func objectKeys(obj []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("sdkjose: not a JSON object")
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("sdkjose: %w", err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, fmt.Errorf("sdkjose: %w", err)
		}
	}
	return keys, nil
}

// signCompact signs header.payload with ES256 and returns the compact form,
// converting the signature to the fixed-width r||s that JWS requires.
func signCompact(key *ecdsa.PrivateKey, header, payload []byte) (string, error) {
	if err := checkPrivateKey(key); err != nil {
		return "", err
	}
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		return "", fmt.Errorf("sdkjose: sign: %w", err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

func checkPrivateKey(key *ecdsa.PrivateKey) error {
	if key == nil || key.Curve != elliptic.P256() {
		return ErrNotP256
	}
	return nil
}

func jsonString(s string) []byte {
	var b bytes.Buffer
	writeJSONString(&b, s)
	return b.Bytes()
}

// writeJSONString writes s as a JSON string without HTML escaping, which
// json.Marshal would add and no SDK does.
func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // encoding a string cannot fail
	b.Truncate(b.Len() - 1) // Encode appends a newline
}
