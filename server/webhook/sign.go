package webhook

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// Sign computes X-Twilio-Signature: base64 of HMAC-SHA1 keyed with the
// account's auth token over the URL exactly as configured, followed by every
// parameter as name+value, names sorted and, for a repeated name, values
// sorted. Stock Twilio validators accept it.
func Sign(authToken, rawURL string, params url.Values) string {
	var b strings.Builder
	b.WriteString(rawURL)
	for _, name := range slices.Sorted(maps.Keys(params)) {
		for _, v := range slices.Sorted(slices.Values(params[name])) {
			b.WriteString(name)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Verify reports in constant time whether signature is Sign's output for
// these inputs, for a receiver that knows the exact URL it was configured
// with (such as the bundled sample backend).
func Verify(authToken, rawURL string, params url.Values, signature string) bool {
	want := Sign(authToken, rawURL, params)
	return hmac.Equal([]byte(want), []byte(signature))
}
