package bounded

import "testing"

func TestText(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want string
	}{
		{"short", 8, "short"},
		{"exactly8", 8, "exactly8"},
		{"nine char", 8, "nine cha…"},
		{"aé", 2, "a…"}, // é is two bytes: not cut in half
		{"ééé", 3, "é…"},
		{"é", 0, "…"},
	} {
		if got := Text(c.in, c.max); got != c.want {
			t.Errorf("Text(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}
