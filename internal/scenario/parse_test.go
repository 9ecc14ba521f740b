package scenario

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLexLine(t *testing.T) {
	for _, tc := range []struct {
		line string
		want []token
	}{
		{``, nil},
		{`   # only a comment`, nil},
		{`phone alice user=alice # her phone`, []token{{value: "phone", col: 1}, {value: "alice", col: 7}, {key: "user", value: "alice", col: 13}}},
		{`scenario "Sign in, \"quoted\" \\ done"`, []token{{value: "scenario", col: 1}, {value: `Sign in, "quoted" \ done`, col: 10}}},
		{`sign-in alice message="Log in? #1" as=x`, []token{{value: "sign-in", col: 1}, {value: "alice", col: 9}, {key: "message", value: "Log in? #1", col: 15}, {key: "as", value: "x", col: 36}}},
		{`detail="Location=Lisbon"`, []token{{key: "detail", value: "Location=Lisbon", col: 1}}},
		{"clock\t+6m", []token{{value: "clock", col: 1}, {value: "+6m", col: 7}}},
		{`message=""`, []token{{key: "message", value: "", col: 1}}},
	} {
		got, err := lexLine(tc.line)
		if err != nil {
			t.Errorf("%q: %v", tc.line, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.line, got, tc.want)
		}
	}
}

func TestLexLineErrors(t *testing.T) {
	for line, want := range map[string]string{
		`scenario "open`:           "not closed",
		`scenario "bad \n escape"`: `unknown escape \n`,
		`message="a"b`:             "space after the closing quote",
		`say hel"lo"`:              "a quote may only start a word",
		`=value`:                   "needs a name before =",
		`a.b=c`:                    "not an option name",
		`scenario "ends in \`:      `lone \`,
	} {
		_, err := lexLine(line)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one saying %q", line, err, want)
		}
	}
}

// TestParseErrors: every mistake names the file, the line and what is
// wrong, and nothing of a broken file is run.
func TestParseErrors(t *testing.T) {
	const head = "scenario \"S\"\nphone alice user=alice\nsign-in alice as=login\n"
	for _, tc := range []struct {
		name, src string
		line      int
		want      string
	}{
		{"misspelt step", head + "aprove alice login\n", 4, `unknown step "aprove": did you mean approve?`},
		{"no suggestion", head + "frobnicate\n", 4, `unknown step "frobnicate" (the steps are phone, sign-in`},
		{"no scenario line", "phone alice user=alice\n", 1, `a scenario starts with scenario "Its name"`},
		{"two scenario lines", head + "scenario \"T\"\n", 4, "a file holds one scenario"},
		{"unquoted name", "scenario Happy path\n", 1, `put the name in quotes: scenario "Happy path"`},
		{"about after steps", head + "about \"late\"\n", 4, "about lines come before the first step"},
		{"unknown phone", head + "approve bob login\n", 4, `unknown phone "bob" (the phones are alice)`},
		{"phone without user", "scenario \"S\"\nphone alice\n", 2, "phone alice needs user=USER"},
		{"phone twice", head + "phone alice user=bob\n", 4, "phone alice is declared twice"},
		{"reserved phone name", "scenario \"S\"\nphone webhook user=w\n", 2, "webhook cannot name a phone"},
		{"unknown option", "scenario \"S\"\nphone alice usr=alice\n", 2, "phone does not take usr= (it takes auto=, poll=, push=, user=)"},
		{"bad push value", "scenario \"S\"\nphone alice user=a push=maybe\n", 2, `push must be on or off, not "maybe"`},
		{"bad duration", head + "wait soon\n", 4, `wait: "soon" is not a positive duration`},
		{"clock backwards", head + "clock -5m\n", 4, "the server's clock only moves forward"},
		{"clock without plus", head + "clock 5m\n", 4, "write +5m"},
		{"unknown challenge", head + "approve alice logon\n", 4, `unknown challenge "logon" (the challenges are login)`},
		{"challenge name taken", head + "sign-in alice as=login\n", 4, "line 3 already named a challenge login"},
		{"other phone's challenge", head + "phone tab user=alice\napprove tab login@alice\n", 5, "login@alice is alice's challenge, not tab's"},
		{"expect error first", "scenario \"S\"\nexpect error 429\n", 2, "expect error checks the step just before it, which must be an action"},
		{"expect error after expect", head + "expect alice badge 1\nexpect error 429\n", 5, "must be an action"},
		{"bad status", head + "expect login status aproved\n", 4, `status must be pending, approved, denied or expired, not "aproved"`},
		{"bad event kind", head + "expect alice event pushed\n", 4, `"pushed" is not an event kind`},
		{"bad webhook type", head + "expect webhook challenge.approve\n", 4, `"challenge.approve" is not a webhook type`},
		{"expect what", head + "expect alice colour blue\n", 4, "expect alice colour: write expect PHONE badge|inbox|event"},
		{"repeat naming", head + "repeat 3 sign-in alice as=x\n", 4, "a repeated step cannot name its challenge"},
		{"repeat expect", head + "repeat 3 expect alice badge 1\n", 4, "repeat repeats actions"},
		{"repeat count", head + "repeat lots resend login\n", 4, `repeat: "lots" is not a whole number from 1 to 100`},
		{"leftover word", head + "restart now\n", 4, `restart: unexpected "now"`},
		{"wrong user's phone", head + "phone bob user=bob\nsign-in alice factor=bob\n", 5, "factor=bob: that phone is bob's, not alice's"},
		{"unknown user", head + "expect user carol factors 1\n", 4, "no phone was declared for carol"},
		{"bad code", head + "approve alice login code=abc\n", 4, `code="abc": give the digits to type`},
		{"unclosed string", head + "sign-in alice message=\"oops\n", 4, "not closed"},
		{"option first", head + "as=x\n", 4, "a step starts with what to do"},
		{"empty file", "# nothing\n", 0, "no scenario line"},
		{"no steps", "scenario \"Empty\"\n", 0, "the scenario has no steps"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.scenario", []byte(tc.src))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v, want a *ParseError", err)
			}
			if pe.File != "x.scenario" || pe.Line != tc.line || !strings.Contains(pe.Msg, tc.want) {
				t.Errorf("got %q (line %d), want line %d saying %q", err, pe.Line, tc.line, tc.want)
			}
			prefix := "x.scenario:"
			if tc.line == 0 {
				prefix = "x.scenario: "
			}
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("%q does not start with %q", err, prefix)
			}
		})
	}
}

// TestParse reads a scenario with every kind of step into what the runner
// needs.
func TestParse(t *testing.T) {
	src := `# A comment, then the header.
scenario "Every step"  # trailing comment
about "First half"
about "second half."

phone alice user=alice poll=1s auto=approve
phone tab user=alice push=off
sign-in alice message="Hi \"there\"" detail="Where=Lisbon" detail="How=Firefox" number-match as=login
challenge tab message=direct as=direct
approve alice login code=shown
deny tab
ignore tab direct
open alice
close alice
offline alice
online alice
phone-clock alice -90s
reinstall tab
silent alice on
resend login@alice
expire direct
fault push delay 10m alice
fault webhook status 503
faults off
clock +6m
restart
wait 10ms
repeat 3 resend direct
expect error 429 code=60309
expect alice badge 2 within=2s
expect tab inbox direct expired
expect alice event challenge challenge=login via=push count=1 op=poll silent
expect login@tab status expired reason=not_needed
expect push direct state=dropped attempts=1
expect webhook challenge.approved challenge=login signed attempts=1 state=done
expect user alice factors 2 status=verified
`
	sc, err := Parse("every.scenario", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Name != "Every step" || sc.About != "First half second half." || sc.File != "every.scenario" {
		t.Errorf("header: %q %q %q", sc.Name, sc.About, sc.File)
	}
	if !sc.Exclusive {
		t.Error("a scenario with a webhook fault, the clock and a restart must run alone on a shared server")
	}
	if len(sc.Steps) != 31 {
		t.Fatalf("%d steps, want 31", len(sc.Steps))
	}
	first := sc.Steps[0]
	if first.Number != 1 || first.Line != 6 || first.Text != "phone alice user=alice poll=1s auto=approve" {
		t.Errorf("first step: %+v", first)
	}
	if got := *first.do.(*phoneStep); !reflect.DeepEqual(got, phoneStep{name: "alice", user: "alice", push: true, poll: time.Second, auto: "approved"}) {
		t.Errorf("phone step %+v", got)
	}
	signIn := sc.Steps[2].do.(*signInStep)
	want := signInStep{user: "alice", message: `Hi "there"`, details: [][2]string{{"Where", "Lisbon"}, {"How", "Firefox"}}, numberMatch: true, as: "login"}
	if !reflect.DeepEqual(*signIn, want) {
		t.Errorf("sign-in %+v\nwant %+v", *signIn, want)
	}
	if a := sc.Steps[5].do.(*answerStep); a.ch != nil || a.status != "denied" || a.phone != "tab" {
		t.Errorf("deny without a challenge: %+v", a)
	}
	if a := sc.Steps[4].do.(*answerStep); a.ch == nil || *a.ch != (chRef{"login", "alice"}) || a.code != codeShown {
		t.Errorf("approve: %+v", a)
	}
	repeat := sc.Steps[22]
	if r, ok := repeat.do.(*repeatStep); !ok || r.times != 3 || !repeat.mayFail {
		t.Errorf("repeat before expect error: %+v (may fail %v)", repeat.do, repeat.mayFail)
	}
	if e := sc.Steps[23].do.(*expectError); e.status != 429 || e.code != 60309 {
		t.Errorf("expect error: %+v", e)
	}
	ev := sc.Steps[26].do.(*expectEvent)
	if ev.kind != "challenge" || ev.via != "push" || ev.count != 1 || ev.op != "poll" || !ev.silent || *ev.ch != (chRef{"login", "alice"}) {
		t.Errorf("expect event: %+v", ev)
	}
	if b := sc.Steps[24].do.(*expectBadge); time.Duration(b.within) != 2*time.Second || b.n != 2 {
		t.Errorf("expect badge: %+v", b)
	}
}

// TestExclusive: only steps that change what every scenario sees make a
// scenario run alone on a shared server.
func TestExclusive(t *testing.T) {
	const head = "scenario \"S\"\nphone alice user=alice\n"
	for step, want := range map[string]bool{
		"fault push drop alice":    false,
		"fault push drop":          true,
		"fault push delay 5s":      true,
		"fault webhook status 500": true,
		"faults off":               true,
		"clock +1m":                true,
		"restart":                  true,
		"reinstall alice":          false,
		"phone-clock alice +1h":    false,
	} {
		sc, err := Parse("x", []byte(head+step+"\n"))
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if sc.Exclusive != want {
			t.Errorf("%s: exclusive %v, want %v", step, sc.Exclusive, want)
		}
	}
}

// TestLibraryParses keeps the library free of parse errors even when only
// this test runs.
func TestLibraryParses(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "assets", "scenarios", "*"))
	for _, f := range files {
		if _, err := ParseFile(f); err != nil {
			t.Error(err)
		}
	}
}

func TestParseFileNamesAMissingFile(t *testing.T) {
	_, err := ParseFile(filepath.Join(t.TempDir(), "gone.scenario"))
	if err == nil || !strings.Contains(err.Error(), "gone.scenario: cannot read the scenario") {
		t.Fatalf("error %v", err)
	}
}
