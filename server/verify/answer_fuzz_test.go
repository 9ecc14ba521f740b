package verify

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pushsim/pushsim/device/sdkjose"
	"github.com/pushsim/pushsim/server/store"
)

// fixedKey is a P-256 key derived from label, the same on every run, so
// that answers signed for the committed seed corpora still verify.
func fixedKey(tb testing.TB, label string) *ecdsa.PrivateKey {
	tb.Helper()
	scalar := sha256.Sum256([]byte(label))
	key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), scalar[:])
	if err != nil {
		tb.Fatal(err)
	}
	return key
}

const answerAccount = "AC22222222222222222222222222222222"

// answerChallenge is the challenge the fuzzed answers are for.
var answerChallenge = store.Challenge{
	Sid: "YC11111111111111111111111111111111", ServiceSid: "VA33333333333333333333333333333333",
	EntitySid: "YE44444444444444444444444444444444", Identity: "alice-0001",
	FactorSid: "YF55555555555555555555555555555555", FactorType: "push", Status: StatusPending,
	Details:        json.RawMessage(`{"message":"Sign in?","fields":[{"label":"Location","value":"Paris"}]}`),
	HiddenDetails:  json.RawMessage(`{"ip":"1.2.3.4"}`),
	DateCreated:    time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC),
	ExpirationDate: time.Date(2026, 3, 4, 5, 11, 7, 0, time.UTC),
}

// answerBody is the challenge as the phone GETs it: the signed values plus
// status and the rest, as the API renders them.
func answerBody(tb testing.TB) (signed map[string]any, body []byte) {
	tb.Helper()
	signed, err := SignedValues(answerChallenge, answerAccount)
	if err != nil {
		tb.Fatal(err)
	}
	served := map[string]any{"status": StatusPending, "responded_reason": "none", "date_updated": "2026-03-04T05:06:07Z", "date_responded": nil}
	for k, v := range signed {
		served[k] = v
	}
	body, err = json.Marshal(served)
	if err != nil {
		tb.Fatal(err)
	}
	return signed, body
}

// answerOracle decides, without go-jose and without the verifier's JSON
// comparison, whether payload is an answer by pub to the challenge whose
// signed values are signed: a compact JWS with alg ES256 whose raw r||s
// signature verifies over the signing input, whose payload is one JSON
// object holding every signed value, and whose status is approved or
// denied. It returns that status.
func answerOracle(pub *ecdsa.PublicKey, payload string, signed map[string]any) (string, bool) {
	parts := strings.Split(payload, ".")
	if len(parts) != 3 {
		return "", false
	}
	rawHeader, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	body, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || len(sig) != 64 {
		return "", false
	}
	var header map[string]any
	if json.Unmarshal(rawHeader, &header) != nil || header["alg"] != "ES256" {
		return "", false
	}
	// The signing input is re-encoded from the decoded bytes, as RFC 7515
	// defines it; with "b64": false (RFC 7797) the payload goes in raw.
	input := base64.RawURLEncoding.EncodeToString(rawHeader) + "."
	if header["b64"] == false {
		input += string(body)
	} else {
		input += base64.RawURLEncoding.EncodeToString(body)
	}
	digest := sha256.Sum256([]byte(input))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(pub, digest[:], r, s) {
		return "", false
	}
	return contentOracle(body, signed)
}

// contentOracle: body is one JSON object that repeats every signed value
// (compared as decoded JSON) and carries status approved or denied.
func contentOracle(body []byte, signed map[string]any) (string, bool) {
	var got map[string]any
	if json.Unmarshal(body, &got) != nil || got == nil {
		return "", false
	}
	for name, want := range signed {
		have, ok := got[name]
		if !ok || !reflect.DeepEqual(have, viaJSON(want)) {
			return "", false
		}
	}
	status, _ := got["status"].(string)
	return status, status == StatusApproved || status == StatusDenied
}

func viaJSON(v any) any {
	b, _ := json.Marshal(v)
	var out any
	json.Unmarshal(b, &out)
	return out
}

// FuzzAnswerJWS: the approval the server checks, a compact ES256 JWS over
// the challenge's signed fields plus status. No input is accepted unless
// the factor's key signed exactly what was accepted (checked here with
// crypto/ecdsa, not go-jose) and it repeats every signed value; what is
// accepted says approved or denied, and the status returned is the one
// signed; a key that did not sign accepts nothing.
func FuzzAnswerJWS(f *testing.F) {
	key, other := fixedKey(f, "pushsim fuzz answer key"), fixedKey(f, "pushsim fuzz other key")
	// stranger signs nothing, in the seeds or anywhere else.
	stranger := fixedKey(f, "pushsim fuzz stranger key")
	signed, body := answerBody(f)
	fields := strings.Split(SignatureFields, ",")
	for _, status := range []string{StatusApproved, StatusDenied, StatusPending} {
		good, err := sdkjose.ChallengeAuthPayload(key, body, fields, status)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(good)
	}
	foreign, _ := sdkjose.ChallengeAuthPayload(other, body, fields, StatusApproved)
	short, _ := sdkjose.ChallengeAuthPayload(key, body, fields[:3], StatusApproved)
	for _, s := range []string{foreign, short, "", "a.b.c", "..", "eyJhbGciOiJub25lIn0.e30.", strings.Repeat("A", 6000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		if status, err := verifyChallengePayload(&stranger.PublicKey, payload, signed); err == nil {
			t.Fatalf("answer %q verified with a key that did not sign it", status)
		}
		status, err := verifyChallengePayload(&key.PublicKey, payload, signed)
		if err != nil {
			if err != ErrChallengeVerification {
				t.Fatalf("refused with %v, not 60324", err)
			}
			return
		}
		want, ok := answerOracle(&key.PublicKey, payload, signed)
		if !ok {
			t.Fatalf("accepted %q as %s, but its signature or its content does not check out", payload, status)
		}
		if status != want {
			t.Fatalf("accepted as %s, but %s was signed", status, want)
		}
	})
}

// FuzzAnswerContent: what a genuinely signed answer must say. Whatever
// payload the factor's key signs under the SDK's header, the verifier
// accepts it exactly when it is one JSON object repeating every signed
// value and saying approved or denied, and returns that status: no
// escaping, key order, duplicate key or type trick gets a changed field or
// another status past it, and nothing correct is refused.
func FuzzAnswerContent(f *testing.F) {
	key := fixedKey(f, "pushsim fuzz answer key")
	signed, body := answerBody(f)
	var served map[string]json.RawMessage
	if err := json.Unmarshal(body, &served); err != nil {
		f.Fatal(err)
	}
	// The SDK's payload: the signed fields in order, then status.
	var sdk bytes.Buffer
	sdk.WriteByte('{')
	for _, name := range strings.Split(SignatureFields, ",") {
		sdk.WriteString(`"` + name + `":`)
		sdk.Write(served[name])
		sdk.WriteByte(',')
	}
	genuine := sdk.String() + `"status":"approved"}`
	for _, s := range []string{
		genuine,
		strings.Replace(genuine, `"approved"`, `"denied"`, 1),
		strings.Replace(genuine, `"approved"`, `"pending"`, 1),
		strings.Replace(genuine, `Paris`, `Pari\u0073`, 1),
		strings.Replace(genuine, `Paris`, `Lyon`, 1),
		strings.Replace(genuine, `"status":"approved"}`, `"status":"approved","status":"pending"}`, 1),
		strings.Replace(genuine, `"hidden_details":{"ip":"1.2.3.4"}`, `"hidden_details":null`, 1),
		genuine + ` {}`,
		`{"status":"approved"}`,
		`[]`, `null`, ``,
	} {
		f.Add(s)
	}
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"JWT","alg":"ES256"}`))
	f.Fuzz(func(t *testing.T, payload string) {
		input := header + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
		digest := sha256.Sum256([]byte(input))
		r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		jws := input + "." + base64.RawURLEncoding.EncodeToString(sig)

		status, err := verifyChallengePayload(&key.PublicKey, jws, signed)
		want, ok := contentOracle([]byte(payload), signed)
		if len(jws) > maxPushAuthPayload {
			if err == nil {
				t.Fatalf("accepted a %d-byte answer, over the %d limit", len(jws), maxPushAuthPayload)
			}
			return
		}
		switch {
		case err == nil && !ok:
			t.Fatalf("accepted %q as %s", payload, status)
		case err != nil && ok:
			t.Fatalf("refused a correct answer %q (%s): %v", payload, want, err)
		case err == nil && status != want:
			t.Fatalf("accepted as %s, but %s was signed", status, want)
		}
	})
}
