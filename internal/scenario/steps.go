package scenario

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// stepAction is what a step does. Actions act and may fail; expectations
// (see expectation) check, again and again, until what they expect holds.
type stepAction interface {
	run(ctx context.Context, r *run) error
}

// chRef names a challenge: name is what as= called the sign-in or
// challenge, phone (optional) picks one phone's challenge of a sign-in
// that reached several.
type chRef struct{ name, phone string }

func (c chRef) String() string {
	if c.phone == "" {
		return c.name
	}
	return c.name + "@" + c.phone
}

// The steps. Their run methods are in actions.go and expect.go.
type (
	phoneStep struct {
		name, user string
		push       bool
		poll       time.Duration // 0: the runner's default for the phone
		auto       string        // approved, denied or ""
	}
	signInStep struct {
		user, message string
		details       [][2]string
		numberMatch   bool
		factor        string // a phone: challenge only its factor
		as            string
	}
	challengeStep struct{ phone, message, as string }
	answerStep    struct {
		phone  string
		ch     *chRef
		status string // approved, denied, or "" to ignore
		code   string // typed number; codeShown for the sign-in's
	}
	// appStep changes how the phone's app runs.
	appStep struct {
		phone string
		what  string // open, close, offline, online, reinstall
	}
	phoneClockStep struct {
		phone  string
		offset time.Duration
	}
	silentStep struct {
		phone string
		on    bool
	}
	resendStep    struct{ ch chRef }
	expireStep    struct{ ch chRef }
	pushFaultStep struct {
		mode  string
		delay time.Duration
		phone string // "" for every phone
	}
	webhookFaultStep struct {
		mode   string
		status int
	}
	clearFaultsStep struct{}
	clockStep       struct{ advance time.Duration }
	restartStep     struct{}
	waitStep        struct{ d time.Duration }
	repeatStep      struct {
		times int
		do    stepAction
	}
)

// defaultMessage is a challenge's message when the step gives none.
const defaultMessage = "Sign in?"

// codeShown is code=shown: type the number the sign-in page shows.
const codeShown = "shown"

// reservedNames cannot name a phone: expect reads them as keywords.
var reservedNames = []string{"error", "push", "user", "webhook"}

// challengeStatuses are the statuses Verify gives a challenge.
var challengeStatuses = []string{"pending", "approved", "denied", "expired"}

// eventKinds are the phone's event kinds an expectation may name.
var eventKinds = []string{
	"ready", "enrolled", "factor_deleted", "challenge", "approved", "denied", "expired",
	"push_connected", "push_disconnected", "push_duplicate", "error",
}

// webhookTypes are the events Verify sends webhooks for.
var webhookTypes = []string{"factor.created", "factor.verified", "factor.deleted", "challenge.approved", "challenge.denied"}

// verbs are the steps there are, for suggestions.
var verbs = []string{
	"phone", "sign-in", "challenge", "approve", "deny", "ignore", "open", "close", "offline", "online",
	"phone-clock", "reinstall", "silent", "resend", "expire", "fault", "faults", "clock", "restart",
	"wait", "repeat", "expect",
}

// step parses one step after its verb.
func (p *parser) step(a *args, inRepeat bool) (stepAction, error) {
	var do stepAction
	switch a.verb {
	case "phone":
		if inRepeat {
			return nil, errors.New("repeat cannot declare phones: each phone needs its own name")
		}
		do = p.phoneStep(a)
	case "sign-in":
		s := &signInStep{user: a.word("the user who signs in")}
		s.message = defaultMessage
		if v, ok := a.opt("message"); ok {
			s.message = v
		}
		for _, d := range a.opts("detail") {
			label, value, ok := strings.Cut(d, "=")
			if !ok || strings.TrimSpace(label) == "" {
				a.fail(`detail=%q: write detail="Label=Value"`, d)
			}
			s.details = append(s.details, [2]string{label, value})
		}
		s.numberMatch = a.flag("number-match")
		if v, ok := a.opt("factor"); ok {
			s.factor = p.phone(a, v)
			if ph := p.phones[v]; ph != nil && ph.user != s.user && a.err == nil {
				a.fail("factor=%s: that phone is %s's, not %s's", v, ph.user, s.user)
			}
		}
		s.as = p.name(a, inRepeat)
		do = s
	case "challenge":
		s := &challengeStep{phone: p.phone(a, a.word("a phone"))}
		s.message = defaultMessage
		if v, ok := a.opt("message"); ok {
			s.message = v
		}
		s.as = p.name(a, inRepeat)
		do = s
	case "approve", "deny", "ignore":
		s := &answerStep{phone: p.phone(a, a.word("a phone"))}
		if w, ok := a.optionalWord(); ok {
			ref := p.challenge(a, w)
			if ref.phone != "" && ref.phone != s.phone && a.err == nil {
				a.fail("%s is %s's challenge, not %s's", ref, ref.phone, s.phone)
			}
			ref.phone = s.phone
			s.ch = &ref
		}
		switch a.verb {
		case "approve":
			s.status = "approved"
			if v, ok := a.opt("code"); ok {
				if v != codeShown && (v == "" || strings.Trim(v, "0123456789") != "") {
					a.fail("code=%q: give the digits to type, or code=shown for the number the sign-in shows", v)
				}
				s.code = v
			}
		case "deny":
			s.status = "denied"
		}
		do = s
	case "open", "close", "offline", "online", "reinstall":
		do = &appStep{what: a.verb, phone: p.phone(a, a.word("a phone"))}
	case "phone-clock":
		s := &phoneClockStep{phone: p.phone(a, a.word("a phone"))}
		v := a.word("how far off its clock is, such as +10m, -2h or 0")
		if v != "0" && a.err == nil {
			d, err := time.ParseDuration(v)
			if err != nil || !strings.HasPrefix(v, "+") && !strings.HasPrefix(v, "-") {
				a.fail("phone-clock: %q is not a signed duration such as +10m, -2h or 0", v)
			}
			s.offset = d
		}
		do = s
	case "silent":
		s := &silentStep{phone: p.phone(a, a.word("a phone"))}
		s.on = a.oneOf("silent", a.word("on or off"), "on", "off") == "on"
		do = s
	case "resend":
		do = &resendStep{ch: p.challenge(a, a.word("a challenge"))}
	case "expire":
		do = &expireStep{ch: p.challenge(a, a.word("a challenge"))}
	case "fault":
		do = p.faultStep(a)
	case "faults":
		a.oneOf("faults", a.word("off"), "off")
		p.sc.Exclusive = true
		do = &clearFaultsStep{}
	case "clock":
		v := a.word("how far to move the server's clock forward, such as +10m")
		if !strings.HasPrefix(v, "+") && a.err == nil {
			a.fail("clock: the server's clock only moves forward: write +%s", v)
		}
		do = &clockStep{advance: a.duration("clock", v)}
		p.sc.Exclusive = true
	case "restart":
		do = &restartStep{}
		p.sc.Exclusive = true
	case "wait":
		do = &waitStep{d: a.duration("wait", a.word("how long, such as 2s"))}
	case "repeat":
		if inRepeat {
			return nil, errors.New("repeat cannot repeat a repeat")
		}
		return p.repeatStep(a)
	case "expect":
		if inRepeat {
			return nil, errors.New("repeat repeats actions; an expectation already waits")
		}
		do = p.expectStep(a)
	default:
		return nil, unknownVerb(a.verb)
	}
	if err := a.finish(); err != nil {
		return nil, err
	}
	return do, nil
}

func unknownVerb(v string) error {
	best, bestDist := "", 3
	for _, known := range append([]string{"scenario", "about"}, verbs...) {
		if d := editDistance(v, known); d < bestDist {
			best, bestDist = known, d
		}
	}
	if best != "" {
		return fmt.Errorf("unknown step %q: did you mean %s?", v, best)
	}
	return fmt.Errorf("unknown step %q (the steps are %s)", v, strings.Join(verbs, ", "))
}

// editDistance is the Levenshtein distance, for suggesting a misspelt
// step.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func (p *parser) phoneStep(a *args) stepAction {
	s := &phoneStep{name: a.word("a name for the phone"), push: true}
	switch {
	case a.err != nil:
	case !isName(s.name):
		a.fail("phone %q: a phone's name is letters, digits, dashes and underscores", s.name)
	case slices.Contains(reservedNames, s.name):
		a.fail("phone %q: %s cannot name a phone (expect reads it as a keyword)", s.name, s.name)
	case p.phones[s.name] != nil:
		a.fail("phone %s is declared twice", s.name)
	}
	user, ok := a.opt("user")
	if !ok && a.err == nil {
		a.fail("phone %s needs user=USER: the user it enrolls", s.name)
	}
	if ok && strings.TrimSpace(user) == "" {
		a.fail("phone %s: user= is empty", s.name)
	}
	s.user = user
	if v, ok := a.opt("push"); ok {
		s.push = a.oneOf("push", v, "on", "off") == "on"
	}
	if v, ok := a.opt("poll"); ok {
		s.poll = a.duration("poll", v)
	}
	if v, ok := a.opt("auto"); ok {
		s.auto = map[string]string{"approve": "approved", "deny": "denied", "ignore": ""}[a.oneOf("auto", v, "approve", "deny", "ignore")]
	}
	if a.err == nil {
		p.phones[s.name] = s
		p.users[s.user] = true
	}
	return s
}

func (p *parser) faultStep(a *args) stepAction {
	switch a.oneOf("fault", a.word("push or webhook"), "push", "webhook") {
	case "push":
		s := &pushFaultStep{mode: a.oneOf("fault push", a.word("drop, delay, duplicate or off"), "drop", "delay", "duplicate", "off")}
		if s.mode == "delay" {
			s.delay = a.duration("fault push delay", a.word("how long, such as 10m"))
		}
		if w, ok := a.optionalWord(); ok {
			s.phone = p.phone(a, w)
		} else {
			p.sc.Exclusive = true
		}
		return s
	case "webhook":
		p.sc.Exclusive = true
		s := &webhookFaultStep{mode: a.oneOf("fault webhook", a.word("status CODE, timeout, close or off"), "status", "timeout", "close", "off")}
		if s.mode == "status" {
			s.status = a.count("fault webhook status", a.word("the HTTP status to answer, such as 500"), 100, 599)
		}
		return s
	}
	return nil
}

func (p *parser) repeatStep(a *args) (stepAction, error) {
	if len(a.rest) < 2 || a.rest[0].key != "" {
		return nil, errors.New("repeat needs how many times and a step: repeat 3 resend login")
	}
	s := &repeatStep{times: a.count("repeat", a.rest[0].value, 1, 100)}
	if a.err != nil {
		return nil, a.err
	}
	inner := a.rest[1]
	if inner.key != "" {
		return nil, fmt.Errorf("repeat %d needs a step after it, not %s", s.times, inner.text())
	}
	do, err := p.step(&args{verb: inner.value, rest: a.rest[2:]}, true)
	if err != nil {
		return nil, err
	}
	s.do = do
	return s, nil
}

// Expectations.
type (
	// expectBadge: the phone's badge, its challenges still to answer.
	expectBadge struct {
		within
		phone string
		n     int
	}
	// expectInbox: how the phone shows a challenge.
	expectInbox struct {
		within
		phone  string
		ch     chRef
		status string
	}
	// expectEvent: the phone reported an event (count times, when given).
	expectEvent struct {
		within
		phone, kind string
		ch          *chRef
		via, op     string
		silent      bool
		count       int // -1: at least once
	}
	// expectStatus: the challenge's status as Verify has it.
	expectStatus struct {
		within
		ch             chRef
		status, reason string
	}
	// expectWebhook: a webhook the sample backend's sink was sent.
	expectWebhook struct {
		within
		typ      string
		ch       *chRef
		signed   bool
		attempts int // -1: any
		state    string
	}
	// expectPush: what became of a challenge's push.
	expectPush struct {
		within
		ch       chRef
		state    string
		attempts int // -1: any
	}
	// expectFactors: how many factors Verify holds for a user.
	expectFactors struct {
		within
		user   string
		n      int
		status string
	}
	// expectError: the action before failed as stated.
	expectError struct {
		status, code int // code 0: any
	}
)

// within is how long an expectation may wait for what it expects; zero
// means the runner's default.
type within time.Duration

func (within) isExpectation() {}

// expectation is a step that checks.
type expectation interface {
	stepAction
	isExpectation()
}

func (p *parser) expectStep(a *args) stepAction {
	subject := a.word("what to expect: a phone, a challenge, push, webhook, user or error")
	if a.err != nil {
		return nil
	}
	switch subject {
	case "error":
		s := &expectError{status: a.count("expect error", a.word("the HTTP status, such as 429"), 100, 599)}
		if v, ok := a.opt("code"); ok {
			s.code = a.count("expect error code", v, 1, 99999)
		}
		return s
	case "webhook":
		s := &expectWebhook{typ: a.word("the webhook's type, such as challenge.approved"), attempts: -1}
		if a.err == nil && !slices.Contains(webhookTypes, s.typ) {
			a.fail("expect webhook: %q is not a webhook type (%s)", s.typ, orList(webhookTypes))
		}
		if v, ok := a.opt("challenge"); ok {
			ref := p.challenge(a, v)
			s.ch = &ref
		}
		s.signed = a.flag("signed")
		if v, ok := a.opt("attempts"); ok {
			s.attempts = a.count("attempts", v, 0, 100)
		}
		if v, ok := a.opt("state"); ok {
			s.state = a.oneOf("state", v, "pending", "done", "failed")
		}
		s.within = within(a.within())
		return s
	case "push":
		s := &expectPush{ch: p.challenge(a, a.word("a challenge")), attempts: -1}
		if v, ok := a.opt("state"); ok {
			s.state = a.oneOf("state", v, "pending", "done", "dropped")
		}
		if v, ok := a.opt("attempts"); ok {
			s.attempts = a.count("attempts", v, 0, 100)
		}
		s.within = within(a.within())
		return s
	case "user":
		s := &expectFactors{user: a.word("a user")}
		if a.err == nil && !p.users[s.user] {
			a.fail("expect user %s: no phone was declared for %s", s.user, s.user)
		}
		a.oneOf("expect user", a.word("factors"), "factors")
		s.n = a.count("expect user factors", a.word("how many factors"), 0, 1000)
		if v, ok := a.opt("status"); ok {
			s.status = a.oneOf("status", v, "verified", "unverified")
		}
		s.within = within(a.within())
		return s
	}
	what := a.word("what to check: badge, inbox, event (of a phone) or status (of a challenge)")
	if a.err != nil {
		return nil
	}
	switch what {
	case "badge":
		s := &expectBadge{phone: p.phone(a, subject)}
		s.n = a.count("badge", a.word("a number"), 0, 1000)
		s.within = within(a.within())
		return s
	case "inbox":
		s := &expectInbox{phone: p.phone(a, subject)}
		s.ch = p.challenge(a, a.word("a challenge"))
		if s.ch.phone != "" && s.ch.phone != s.phone && a.err == nil {
			a.fail("%s is %s's challenge, not %s's", s.ch, s.ch.phone, s.phone)
		}
		s.ch.phone = s.phone
		s.status = a.oneOf("inbox status", a.word("a status"), challengeStatuses...)
		s.within = within(a.within())
		return s
	case "event":
		s := &expectEvent{phone: p.phone(a, subject), count: -1}
		s.kind = a.word("an event kind")
		if a.err == nil && !slices.Contains(eventKinds, s.kind) {
			a.fail("expect event: %q is not an event kind (%s)", s.kind, orList(eventKinds))
		}
		if v, ok := a.opt("challenge"); ok {
			ref := p.challenge(a, v)
			if ref.phone != "" && ref.phone != s.phone && a.err == nil {
				a.fail("%s is %s's challenge, not %s's", ref, ref.phone, s.phone)
			}
			ref.phone = s.phone
			s.ch = &ref
		}
		if v, ok := a.opt("via"); ok {
			s.via = a.oneOf("via", v, "push", "poll")
		}
		if v, ok := a.opt("count"); ok {
			s.count = a.count("count", v, 0, 1000)
		}
		s.op, _ = a.opt("op")
		s.silent = a.flag("silent")
		s.within = within(a.within())
		return s
	case "status":
		s := &expectStatus{ch: p.challenge(a, subject)}
		s.status = a.oneOf("status", a.word("a status"), challengeStatuses...)
		if v, ok := a.opt("reason"); ok {
			s.reason = a.oneOf("reason", v, "none", "not_needed", "not_requested")
		}
		s.within = within(a.within())
		return s
	}
	a.fail("expect %s %s: write expect PHONE badge|inbox|event …, CH status …, push CH …, webhook …, user … or error …", subject, what)
	return nil
}

// keys lists a map's keys, sorted.
func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
