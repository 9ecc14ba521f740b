package verify

import (
	"strings"
	"testing"
	"time"

	"github.com/pushsim/pushsim/device/sdkjose"
)

// respellings are other spellings of the same compact token: the decoded
// segments, and so the signature or the seal, are unchanged, but the text
// is not what was signed or sealed. Base64 decoders commonly skip line
// breaks and ignore the unused bits of the last character.
func respellings(token string) map[string]string {
	segments := strings.Split(token, ".")
	last := len(segments) - 1
	out := map[string]string{
		"a line break in the first segment": segments[0][:4] + "\n" + token[4:],
		"CRLF before the last segment":      strings.Join(segments[:last], ".") + ".\r\n" + segments[last],
		"padding on the last segment":       token + strings.Repeat("=", (4-len(segments[last])%4)%4),
	}
	// The last character of an unpadded segment whose length is 2 or 3
	// mod 4 carries 4 or 2 unused bits: setting its lowest decodes the same.
	for i, s := range segments {
		if len(s)%4 < 2 {
			continue
		}
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		v := strings.IndexByte(alphabet, s[len(s)-1])
		respelled := append([]string(nil), segments...)
		respelled[i] = s[:len(s)-1] + string(alphabet[v|1])
		out["unused bits set in segment "+string(rune('1'+i))] = strings.Join(respelled, ".")
		break
	}
	return out
}

// A token is taken only as it was written: every respelling of a genuine
// device token, answer and access token is refused.
func TestCompactTokensAreTakenOnlyAsWritten(t *testing.T) {
	key := fixedKey(t, "canonical")
	now := time.Unix(1_800_000_000, 0)
	device, err := sdkjose.DeviceJWT(key, "CR"+strings.Repeat("b", 32), answerAccount, now)
	if err != nil {
		t.Fatal(err)
	}
	signed, body := answerBody(t)
	fields := make([]string, 0, len(signed))
	for k := range signed {
		fields = append(fields, k)
	}
	answer, err := sdkjose.ChallengeAuthPayload(key, body, fields, StatusApproved)
	if err != nil {
		t.Fatal(err)
	}
	access, err := testSealer.seal(testTokenClaims[0])
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]struct {
		token string
		take  func(string) error
	}{
		"device token": {device, func(s string) error {
			d, err := ParseDeviceJWT(s)
			if err != nil {
				return err
			}
			return d.Verify(&key.PublicKey, answerAccount, now, DefaultLeeway)
		}},
		"answer": {answer, func(s string) error {
			_, err := verifyChallengePayload(&key.PublicKey, s, signed)
			return err
		}},
		"access token": {access, func(s string) error {
			_, err := testSealer.open(s)
			return err
		}},
	}
	for what, c := range checks {
		if err := c.take(c.token); err != nil {
			t.Fatalf("genuine %s refused: %v", what, err)
		}
		spellings := respellings(c.token)
		if len(spellings) < 4 {
			t.Fatalf("%s: only %d respellings", what, len(spellings))
		}
		for how, s := range spellings {
			if err := c.take(s); err == nil {
				t.Errorf("%s with %s: taken", what, how)
			}
		}
	}
}
