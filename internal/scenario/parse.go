package scenario

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Scenario is one parsed scenario file.
type Scenario struct {
	Name  string
	About string
	// File is the path the scenario was read from, as given.
	File  string
	Steps []*Step
	// Exclusive is set when a step changes what every scenario on the
	// server sees (a fault for all phones, the webhook sink, the server's
	// clock, a restart): against a shared server such a scenario runs
	// alone.
	Exclusive bool
}

// Step is one line that does or checks something.
type Step struct {
	// Number counts the scenario's steps from 1; the scenario and about
	// lines are not steps.
	Number int
	Line   int
	// Text is the line as written, without its comment.
	Text string

	do stepAction
	// mayFail is set on an action that an "expect error" follows: its
	// failure is that expectation's to judge.
	mayFail bool
}

// ParseError is a scenario file that cannot be run, with where and why.
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// ParseFile reads and parses one scenario file.
func ParseFile(path string) (*Scenario, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, &ParseError{File: path, Msg: "cannot read the scenario: " + unwrapPathError(err)}
	}
	return Parse(path, src)
}

func unwrapPathError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// Parse parses a scenario; file names it in errors and reports.
func Parse(file string, src []byte) (*Scenario, error) {
	p := &parser{
		sc:         &Scenario{File: file},
		phones:     map[string]*phoneStep{},
		challenges: map[string]int{},
		users:      map[string]bool{},
	}
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		raw := sc.Text()
		if lineNo == 1 {
			raw = strings.TrimPrefix(raw, "\ufeff")
		}
		tokens, err := lexLine(raw)
		if err != nil {
			return nil, &ParseError{File: file, Line: lineNo, Msg: err.Error()}
		}
		if len(tokens) == 0 {
			continue
		}
		if err := p.line(lineNo, lineText(raw), tokens); err != nil {
			return nil, &ParseError{File: file, Line: lineNo, Msg: err.Error()}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &ParseError{File: file, Line: lineNo + 1, Msg: err.Error()}
	}
	if p.sc.Name == "" {
		return nil, &ParseError{File: file, Msg: `no scenario line: a scenario starts with scenario "Its name"`}
	}
	if len(p.sc.Steps) == 0 {
		return nil, &ParseError{File: file, Msg: "the scenario has no steps"}
	}
	return p.sc, nil
}

// lineText is the line without its comment and surrounding space, for
// reports; it is only called on lines that lexed.
func lineText(raw string) string {
	inString := false
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case !inString && c == '#' && (i == 0 || raw[i-1] == ' ' || raw[i-1] == '\t'):
			return strings.TrimSpace(raw[:i])
		}
	}
	return strings.TrimSpace(raw)
}

// parser holds what earlier lines declared, so that later lines can be
// checked against it.
type parser struct {
	sc         *Scenario
	phones     map[string]*phoneStep
	challenges map[string]int // name -> line that named it
	users      map[string]bool
	previous   *Step // the step before this one, if any
	lineNo     int   // the line being parsed
}

func (p *parser) line(lineNo int, text string, tokens []token) error {
	verb := tokens[0]
	if verb.key != "" {
		return fmt.Errorf("a step starts with what to do, not with an option (%s)", verb.text())
	}
	a := &args{verb: verb.value, rest: tokens[1:]}
	p.lineNo = lineNo
	switch verb.value {
	case "scenario":
		if p.sc.Name != "" {
			return errors.New("a file holds one scenario: this is a second scenario line")
		}
		if len(p.sc.Steps) > 0 || p.sc.About != "" {
			return errors.New("the scenario line comes first")
		}
		if quote := unquoted(a.rest); quote != "" {
			return fmt.Errorf("put the name in quotes: scenario %s", quote)
		}
		name := a.word("its name, in quotes")
		if err := a.finish(); err != nil {
			return err
		}
		if strings.TrimSpace(name) == "" {
			return errors.New("the scenario's name is empty")
		}
		p.sc.Name = name
		return nil
	case "about":
		if p.sc.Name == "" {
			return errors.New(`the scenario line comes first: scenario "Its name"`)
		}
		if len(p.sc.Steps) > 0 {
			return errors.New("about lines come before the first step")
		}
		if quote := unquoted(a.rest); quote != "" {
			return fmt.Errorf("put the description in quotes: about %s", quote)
		}
		text := a.word("a description, in quotes")
		if err := a.finish(); err != nil {
			return err
		}
		p.sc.About = strings.TrimSpace(p.sc.About + " " + text)
		return nil
	}
	if p.sc.Name == "" {
		return errors.New(`a scenario starts with scenario "Its name"`)
	}
	do, err := p.step(a, false)
	if err != nil {
		return err
	}
	st := &Step{Number: len(p.sc.Steps) + 1, Line: lineNo, Text: text, do: do}
	if _, ok := do.(*expectError); ok {
		prev := p.previous
		if prev == nil || !isAction(prev.do) {
			return errors.New("expect error checks the step just before it, which must be an action (not an expectation or a wait)")
		}
		prev.mayFail = true
	}
	p.sc.Steps = append(p.sc.Steps, st)
	p.previous = st
	return nil
}

// unquoted is the quoted form of several plain words that were meant as
// one, or "" when they are not that.
func unquoted(words []token) string {
	if len(words) < 2 {
		return ""
	}
	var parts []string
	for _, w := range words {
		if w.key != "" {
			return ""
		}
		parts = append(parts, w.value)
	}
	return strconv.Quote(strings.Join(parts, " "))
}

// isAction reports whether a step acts (and so may fail in a way expect
// error can check) rather than checks or waits.
func isAction(s stepAction) bool {
	switch s.(type) {
	case expectation, *expectError, *waitStep:
		return false
	}
	return true
}

// args reads one step's words. Each lookup records what the step knows,
// so that finish can name what it did not.
type args struct {
	verb  string
	rest  []token
	used  []bool
	known []string // options and flags the step takes
	err   error
}

func (a *args) fail(format string, v ...any) {
	if a.err == nil {
		a.err = fmt.Errorf(format, v...)
	}
}

func (a *args) mark(i int) {
	if a.used == nil {
		a.used = make([]bool, len(a.rest))
	}
	a.used[i] = true
}

func (a *args) isUsed(i int) bool { return a.used != nil && a.used[i] }

// word takes the next positional word; what says what belongs there.
func (a *args) word(what string) string {
	w, ok := a.optionalWord()
	if !ok {
		a.fail("%s needs %s", a.verb, what)
	}
	return w
}

// optionalWord takes the next positional word, if any.
func (a *args) optionalWord() (string, bool) {
	for i, t := range a.rest {
		if a.isUsed(i) || t.key != "" {
			continue
		}
		if slices.Contains(a.known, t.value) {
			continue // a flag read earlier
		}
		a.mark(i)
		return t.value, true
	}
	return "", false
}

// flag reports whether the positional word name is present anywhere, and
// takes it.
func (a *args) flag(name string) bool {
	a.known = append(a.known, name)
	found := false
	for i, t := range a.rest {
		if t.key == "" && t.value == name && !a.isUsed(i) {
			if found {
				a.fail("%s is given twice", name)
			}
			a.mark(i)
			found = true
		}
	}
	return found
}

// opt takes the option name=value, once at most.
func (a *args) opt(name string) (string, bool) {
	vs := a.opts(name)
	if len(vs) > 1 {
		a.fail("%s= is given %d times", name, len(vs))
	}
	if len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

// opts takes every name=value.
func (a *args) opts(name string) []string {
	a.known = append(a.known, name+"=")
	var out []string
	for i, t := range a.rest {
		if t.key == name {
			a.mark(i)
			out = append(out, t.value)
		}
	}
	return out
}

// finish reports what the step does not take, then the first problem
// met, then anything else left unread. An unknown option comes first: a
// misspelt option name also makes a required option look missing.
func (a *args) finish() error {
	known := ""
	if len(a.known) > 0 {
		sorted := slices.Clone(a.known)
		sort.Strings(sorted)
		known = " (it takes " + strings.Join(sorted, ", ") + ")"
	}
	for i, t := range a.rest {
		if t.key != "" && !a.isUsed(i) {
			return fmt.Errorf("%s does not take %s=%s", a.verb, t.key, known)
		}
	}
	if a.err != nil {
		return a.err
	}
	for i, t := range a.rest {
		if !a.isUsed(i) {
			return fmt.Errorf("%s: unexpected %q%s", a.verb, t.value, known)
		}
	}
	return nil
}

// within reads within=DUR, the time an expectation may take.
func (a *args) within() time.Duration {
	v, ok := a.opt("within")
	if !ok {
		return 0
	}
	return a.duration("within", v)
}

func (a *args) duration(what, v string) time.Duration {
	d, err := time.ParseDuration(strings.TrimPrefix(v, "+"))
	if err != nil || d <= 0 {
		a.fail("%s: %q is not a positive duration such as 30s, 5m or 1h30m", what, v)
		return 0
	}
	return d
}

func (a *args) count(what, v string, min, max int) int {
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		a.fail("%s: %q is not a whole number from %d to %d", what, v, min, max)
		return 0
	}
	return n
}

func (a *args) oneOf(what, v string, choices ...string) string {
	if !slices.Contains(choices, v) {
		a.fail("%s must be %s, not %q", what, orList(choices), v)
	}
	return v
}

// orList is "a, b or c".
func orList(words []string) string {
	if len(words) == 1 {
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// phone reads a phone's name and checks it was declared.
func (p *parser) phone(a *args, v string) string {
	if a.err != nil {
		return v
	}
	if _, ok := p.phones[v]; !ok {
		a.fail("unknown phone %q%s", v, p.declaredPhones())
	}
	return v
}

func (p *parser) declaredPhones() string {
	if len(p.phones) == 0 {
		return ": declare it first with phone NAME user=USER"
	}
	names := make([]string, 0, len(p.phones))
	for n := range p.phones {
		names = append(names, n)
	}
	sort.Strings(names)
	return " (the phones are " + strings.Join(names, ", ") + ")"
}

// challenge reads NAME or NAME@PHONE and checks both were declared.
func (p *parser) challenge(a *args, v string) chRef {
	name, phone, qualified := strings.Cut(v, "@")
	ref := chRef{name: name, phone: phone}
	if a.err != nil {
		return ref
	}
	if _, ok := p.challenges[name]; !ok {
		if len(p.challenges) == 0 {
			a.fail("unknown challenge %q: name one first with as=NAME on a sign-in or challenge step", name)
		} else {
			a.fail("unknown challenge %q (the challenges are %s)", name, p.declaredChallenges())
		}
		return ref
	}
	if qualified {
		p.phone(a, phone)
	}
	return ref
}

func (p *parser) declaredChallenges() string {
	names := make([]string, 0, len(p.challenges))
	for n := range p.challenges {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// name declares a challenge name given with as=.
func (p *parser) name(a *args, inRepeat bool) string {
	v, ok := a.opt("as")
	if !ok || a.err != nil {
		return ""
	}
	if inRepeat {
		a.fail("a repeated step cannot name its challenge: every round would take the name %s", v)
		return ""
	}
	if !isName(v) {
		a.fail("as=%q: a challenge's name is letters, digits, dashes and underscores", v)
		return ""
	}
	if line, taken := p.challenges[v]; taken {
		a.fail("as=%s: line %d already named a challenge %s", v, line, v)
		return ""
	}
	p.challenges[v] = p.lineNo
	return v
}
