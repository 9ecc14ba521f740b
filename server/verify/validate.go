package verify

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// requireText checks a required string parameter's presence and length.
func requireText(name, v string, max int) error {
	if v == "" {
		return MissingParam(name)
	}
	return optionalText(name, v, max)
}

func optionalText(name, v string, max int) error {
	if !utf8.ValidString(v) {
		return InvalidParam(name, "must be UTF-8 text")
	}
	if n := utf8.RuneCountInString(v); n > max {
		return InvalidParam(name, "must be at most "+strconv.Itoa(max)+" characters")
	}
	for _, r := range v {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return InvalidParam(name, "must not contain control characters")
		}
	}
	return nil
}

// ValidIdentity reports whether s is an entity identity: 8 to 64
// dash-separated alphanumerics.
func ValidIdentity(s string) bool {
	if len(s) < 8 || len(s) > 64 || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func checkIdentity(identity string) error {
	if identity == "" {
		return MissingParam("Identity")
	}
	if !ValidIdentity(identity) {
		return InvalidParam("Identity", "must be 8 to 64 dash-separated alphanumeric characters")
	}
	return nil
}

func checkSID(name, v, prefix string) error {
	if v == "" {
		return MissingParam(name)
	}
	if !IsSID(v, prefix) {
		return InvalidParam(name, "must match ^"+prefix+"[0-9a-fA-F]{32}$")
	}
	return nil
}

// stringMap parses a JSON object whose values are all strings, the form of
// HiddenDetails and Metadata.
func stringMap(name, raw string, max int) (map[string]string, error) {
	if utf8.RuneCountInString(raw) > max {
		return nil, InvalidParam(name, "must be at most "+strconv.Itoa(max)+" characters")
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(raw), &m); err != nil || m == nil {
		return nil, InvalidParam(name, "must be a JSON object with string values")
	}
	return m, nil
}

func parseBool(name, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, InvalidParam(name, "must be true or false")
}

func parseIntIn(name, v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, InvalidParam(name, "must be an integer from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))
	}
	return n, nil
}

func oneOf(name, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return InvalidParam(name, "must be one of "+strings.Join(allowed, ", "))
}
