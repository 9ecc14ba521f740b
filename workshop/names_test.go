package workshop

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/server/servertest"
	"github.com/pushsim/pushsim/server/verify"
)

// TestNamesGetDirectoriesOfTheirOwn: today's collisions (accents, no
// ASCII at all, empty slugs, long names sharing a prefix, case) each get a
// directory of their own, and the directory stays readable.
func TestNamesGetDirectoriesOfTheirOwn(t *testing.T) {
	names := []string{
		"alice", "Alice", "ALICE", "alice.", "alice_", "a-lice",
		"é-ünï-cödé", "e-uni-code", "n-cd", "中文", "日本", "__", "..",
		strings.Repeat("x", 63), strings.Repeat("x", 64), strings.Repeat("x", 40) + "a", strings.Repeat("x", 40) + "b",
	}
	seen := map[string]string{}
	for _, n := range names {
		d := dirName(n)
		if other, ok := seen[d]; ok {
			t.Errorf("%q and %q share the directory %q", n, other, d)
		}
		seen[d] = n
		if filepath.Base(d) != d || strings.ContainsAny(d, `./\`) || len(d) > maxSlugLen+1+12+1 {
			t.Errorf("directory for %q is %q", n, d)
		}
	}
	for name, prefix := range map[string]string{"alice": "alice-", "Bob.Smith": "bob-smith-", "é-ünï-cödé": "e-uni-code-", "Łódź": "od-", "中文": ""} {
		if d := dirName(name); !strings.HasPrefix(d, prefix) || len(d) != len(prefix)+12 {
			t.Errorf("dirName(%q) = %q, want %q and 12 hex digits", name, d, prefix)
		}
	}
}

func TestNameRules(t *testing.T) {
	for _, c := range []struct {
		name string
		raw  bool
		ok   bool
	}{
		{"alice", false, true},
		{"é-ünï-cödé", false, true},
		{"Ada Lovelace", false, true},
		{"中文", false, true},
		{"", false, false},
		{" alice", false, false},
		{"alice\t", false, false},
		{"a\x9b31m", false, false},                            // C1 control
		{"a\u202eb", false, false},                            // bidi override
		{"a\u200bb", false, false},                            // zero-width space
		{"\xff\xfe", false, false},                            // not UTF-8
		{"Jos\u00e9", false, true},                            // é composed, as keyboards type it
		{"Jose\u0301", false, false},                          // the same on screen, decomposed
		{"\u0939\u093f\u0928\u094d\u0926\u0940", false, true}, // हिन्दी: marks with no composed form
		{strings.Repeat("é", 64), false, true},
		{strings.Repeat("é", 65), false, false},
		{"alice", true, false}, // too short for Verify
		{"ada-lovelace", true, true},
		{"é-ünï-cödé", true, false},
	} {
		got := nameRefusal(c.name, c.raw, "2222") == ""
		if got != c.ok {
			t.Errorf("name %q (raw %v) accepted = %v, want %v: %s", c.name, c.raw, got, c.ok, nameRefusal(c.name, c.raw, "2222"))
		}
	}
}

// A decomposed name is told what to type instead, not that it holds
// control characters.
func TestDecomposedNameIsToldToCompose(t *testing.T) {
	got := nameRefusal("Jose\u0301", false, "2222")
	if !strings.Contains(got, "accented letter as one character") || !strings.Contains(got, "ssh -p 2222") {
		t.Errorf("refusal: %q", got)
	}
}

// TestVerifyIdentityRuleMatchesServer holds the workshop's copy of the
// rule to the server's.
func TestVerifyIdentityRuleMatchesServer(t *testing.T) {
	for _, s := range []string{
		"", "alice", "alice-sm", "ada-lovelace", "-ada-lovelace", "ada--lovelace", "ada-lovelace-",
		"Ada-Lovelace-1815", strings.Repeat("a", 64), strings.Repeat("a", 65), "ada_lovelace", "é-ünï-cödé-x",
	} {
		if got, want := validVerifyIdentity(s), verify.ValidIdentity(s); got != want {
			t.Errorf("validVerifyIdentity(%q) = %v, server says %v", s, got, want)
		}
	}
}

// TestPhoneEnrollsOnlyAsItsOwner: an attendee typing someone else's name
// on their phone's enrolment screen gets no factor for that name.
func TestPhoneEnrollsOnlyAsItsOwner(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	tokenURL, _ := url.Parse(srv.URL + "/backend/access-token")
	d, err := device.New(device.Config{
		ServerURL: srv.URL, Home: filepath.Join(t.TempDir(), "phone"),
		HTTPClient: &http.Client{Transport: enrollOnlyAs{name: "mallory", accessToken: tokenURL, next: http.DefaultTransport}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = d.CreateFactor(ctx, device.EnrollParams{Identity: "alice"})
	if err == nil || !strings.Contains(err.Error(), `this workshop phone enrolls only as "mallory", the name your SSH key owns`) {
		t.Fatalf("enrolling as alice: %v", err)
	}
	resp, err := http.Get(srv.URL + "/backend/list-factors?identity=alice")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("alice has factors after the refusal: %d", resp.StatusCode)
	}
	if _, err := d.CreateFactor(ctx, device.EnrollParams{Identity: "mallory"}); err != nil {
		t.Fatalf("enrolling as the owner: %v", err)
	}
}
