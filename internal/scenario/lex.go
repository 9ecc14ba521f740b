package scenario

import (
	"fmt"
	"strings"
	"unicode"
)

// token is one word of a step: a positional word, or an option written
// key=value. Either part may be double-quoted.
type token struct {
	key   string // "" for a positional word
	value string
	col   int // 1-based, for messages
}

// text is the token as it is best quoted back in a message.
func (t token) text() string {
	if t.key != "" {
		return t.key + "=" + t.value
	}
	return t.value
}

// lexLine splits one line into tokens, dropping a # comment. Words are
// separated by spaces or tabs; a double-quoted string may hold spaces, \"
// and \\; a word that starts with # starts a comment.
func lexLine(line string) ([]token, error) {
	var out []token
	runes := []rune(line)
	i := 0
	for {
		for i < len(runes) && (runes[i] == ' ' || runes[i] == '\t') {
			i++
		}
		if i == len(runes) || runes[i] == '#' {
			return out, nil
		}
		start := i
		var word strings.Builder
		key, sawKey, quoted := "", false, false
		for i < len(runes) && runes[i] != ' ' && runes[i] != '\t' {
			r := runes[i]
			switch {
			case r == '"':
				if quoted || word.Len() > 0 {
					return nil, fmt.Errorf("column %d: a quote may only start a word or the value after key=; put spaces around quoted text", i+1)
				}
				s, next, err := lexString(runes, i)
				if err != nil {
					return nil, err
				}
				word.WriteString(s)
				quoted, i = true, next
				if i < len(runes) && runes[i] != ' ' && runes[i] != '\t' {
					return nil, fmt.Errorf("column %d: put a space after the closing quote", i+1)
				}
				continue
			case r == '=' && !sawKey && !quoted:
				key, sawKey = word.String(), true
				word.Reset()
				if key == "" {
					return nil, fmt.Errorf("column %d: an option needs a name before =", i+1)
				}
				if !isName(key) {
					return nil, fmt.Errorf("column %d: %q is not an option name (letters, digits and dashes)", start+1, key)
				}
			case unicode.IsControl(r):
				return nil, fmt.Errorf("column %d: control character %U", i+1, r)
			default:
				word.WriteRune(r)
			}
			i++
		}
		out = append(out, token{key: key, value: word.String(), col: start + 1})
	}
}

// lexString reads the double-quoted string that starts at runes[at] and
// returns it unescaped with the index after its closing quote.
func lexString(runes []rune, at int) (string, int, error) {
	var s strings.Builder
	for i := at + 1; i < len(runes); i++ {
		switch r := runes[i]; r {
		case '"':
			return s.String(), i + 1, nil
		case '\\':
			if i+1 == len(runes) {
				return "", 0, fmt.Errorf("column %d: the string ends in a lone \\", i+1)
			}
			i++
			switch runes[i] {
			case '"', '\\':
				s.WriteRune(runes[i])
			default:
				return "", 0, fmt.Errorf(`column %d: unknown escape \%c: a string knows only \" and \\`, i, runes[i])
			}
		default:
			if unicode.IsControl(r) && r != '\t' {
				return "", 0, fmt.Errorf("column %d: control character %U in a string", i+1, r)
			}
			s.WriteRune(r)
		}
	}
	return "", 0, fmt.Errorf("column %d: the string is not closed (a \" is missing)", at+1)
}

// isName reports whether s is a name a scenario may give a phone, a
// challenge or an option: a letter or digit, then letters, digits, dashes
// and underscores.
func isName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || i > 0 && (r == '-' || r == '_')
		if !ok {
			return false
		}
	}
	return true
}
