package api

import (
	"net/url"
	"strings"
	"testing"

	"github.com/pushsim/pushsim/server/verify"
)

func TestParseForm(t *testing.T) {
	cases := []struct {
		raw      string
		wantCode int // 0 = ok
		check    func(url.Values) bool
	}{
		{"", 0, func(v url.Values) bool { return len(v) == 0 }},
		{"FriendlyName=My%20App&Push.IncludeDate=true", 0, func(v url.Values) bool {
			return v.Get("FriendlyName") == "My App" && v.Get("Push.IncludeDate") == "true"
		}},
		// iOS leaves = and / unescaped inside values.
		{"AuthPayload=MEUCIQ/abc+def==", 0, func(v url.Values) bool { return v.Get("AuthPayload") == "MEUCIQ/abc def==" }},
		{"EventTypes=factor.created&EventTypes=challenge.approved", 0, func(v url.Values) bool { return len(v["EventTypes"]) == 2 }},
		{"FriendlyName=a&FriendlyName=b", 60306, nil},
		{"FriendlyName=%zz", 60306, nil},
		{"=value", 60306, nil},
		{strings.Repeat("a=1&", maxFormPairs), 60306, nil},
	}
	for _, c := range cases {
		v, err := parseForm(c.raw)
		if c.wantCode != 0 {
			e, ok := verify.AsError(err)
			if !ok || e.Code != c.wantCode {
				t.Errorf("parseForm(%.40q) = %v, want code %d", c.raw, err, c.wantCode)
			}
			continue
		}
		if err != nil || !c.check(v) {
			t.Errorf("parseForm(%.40q) = %v, %v", c.raw, v, err)
		}
	}
}

// FuzzParseForm: no input panics, and an accepted form never holds a
// repeated scalar or an empty name.
func FuzzParseForm(f *testing.F) {
	for _, seed := range []string{
		"", "a=b", "FriendlyName=x&FriendlyName=y", "Details.Fields=%7B%22label%22%3A%22a%22%7D&Details.Fields=x",
		"%", "a=%2", "&&&", "=", "a", "a=b;c=d", strings.Repeat("x=1&", 300), "Binding.PublicKey=MFkwEwYH%2B%2F%3D",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := parseForm(raw)
		if err != nil {
			if _, ok := verify.AsError(err); !ok {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		for name, values := range v {
			if name == "" || (len(values) > 1 && !repeatable[name]) {
				t.Fatalf("accepted %q = %q", name, values)
			}
		}
	})
}
