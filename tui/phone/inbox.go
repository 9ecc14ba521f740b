package phone

import (
	"sort"
	"time"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/verifyclient"
)

// inbox is what the phone knows: its factors and every challenge it has
// seen, from list loads and from the event stream. Screens draw from it, so
// a challenge approved from the inbox row shows as approved on its detail
// screen too.
type inbox struct {
	factors       []device.Factor
	factorsLoaded bool
	silent        map[string]bool
	challenges    map[string]*device.Challenge // by challenge SID
	byFactor      map[string][]*device.Challenge
	via           map[string]string // how a challenge reached the phone
}

func newInbox() *inbox {
	return &inbox{
		silent:     map[string]bool{},
		challenges: map[string]*device.Challenge{},
		byFactor:   map[string][]*device.Challenge{},
		via:        map[string]string{},
	}
}

func (in *inbox) setFactors(factors []device.Factor, silent map[string]bool) {
	in.factors = make([]device.Factor, len(factors))
	for i, f := range factors {
		in.factors[i] = shownFactor(f)
	}
	in.factorsLoaded = true
	if silent != nil {
		in.silent = silent
	}
	keep := map[string]bool{}
	for _, f := range factors {
		keep[f.Sid] = true
	}
	for sid := range in.byFactor {
		if !keep[sid] {
			in.forgetFactor(sid)
		}
	}
}

func (in *inbox) factor(sid string) (device.Factor, bool) {
	for _, f := range in.factors {
		if f.Sid == sid {
			return f, true
		}
	}
	return device.Factor{}, false
}

func (in *inbox) forgetFactor(sid string) {
	for _, ch := range in.byFactor[sid] {
		delete(in.challenges, ch.Sid)
		delete(in.via, ch.Sid)
	}
	delete(in.byFactor, sid)
}

// upsert stores the newest copy of a challenge, made safe to draw,
// keeping each factor's list newest first.
func (in *inbox) upsert(ch device.Challenge) *device.Challenge {
	ch = shownChallenge(ch)
	if old, ok := in.challenges[ch.Sid]; ok {
		// A challenge never returns to pending: a read that started before
		// an answer and finished after it must not undo the answer.
		if old.Status != verifyclient.ChallengePending && ch.Status == verifyclient.ChallengePending {
			ch.Status = old.Status
		}
		// A partial copy (from an event without a fetched challenge) must
		// not wipe what a fetch already told us.
		if ch.CreatedAt.IsZero() {
			old.Status = ch.Status
			return old
		}
		*old = ch
		return old
	}
	c := &ch
	in.challenges[ch.Sid] = c
	list := append(in.byFactor[ch.FactorSid], c)
	sortNewestFirst(list)
	in.byFactor[ch.FactorSid] = list
	return c
}

// setStatus records a status learnt without a fetch.
func (in *inbox) setStatus(challengeSid, status string) {
	if c, ok := in.challenges[challengeSid]; ok && c.Status == verifyclient.ChallengePending {
		c.Status = status
	}
}

// replaceFactorPage merges the newest page of a factor's challenges.
func (in *inbox) replaceFactorPage(factorSid string, page []device.Challenge) {
	for _, ch := range page {
		if ch.FactorSid == "" {
			ch.FactorSid = factorSid
		}
		in.upsert(ch)
	}
}

func sortNewestFirst(list []*device.Challenge) {
	sort.SliceStable(list, func(i, j int) bool {
		if !list[i].CreatedAt.Equal(list[j].CreatedAt) {
			return list[i].CreatedAt.After(list[j].CreatedAt)
		}
		return list[i].Sid > list[j].Sid
	})
}

// isPending reports whether a challenge can still be answered at now.
func isPending(ch *device.Challenge, now time.Time) bool {
	return ch.Status == verifyclient.ChallengePending && (ch.ExpirationDate.IsZero() || now.Before(ch.ExpirationDate))
}

// displayStatus is the status to show at now: a pending challenge past its
// expiry shows as expired at once, before the server says so.
func displayStatus(ch *device.Challenge, now time.Time) string {
	if ch.Status == verifyclient.ChallengePending && !isPending(ch, now) {
		return verifyclient.ChallengeExpired
	}
	return ch.Status
}

// pendingCount is the badge: challenges that can still be answered.
func (in *inbox) pendingCount(now time.Time) int {
	n := 0
	for _, ch := range in.challenges {
		if isPending(ch, now) {
			n++
		}
	}
	return n
}

// pendingFor counts one factor's answerable challenges.
func (in *inbox) pendingFor(factorSid string, now time.Time) int {
	n := 0
	for _, ch := range in.byFactor[factorSid] {
		if isPending(ch, now) {
			n++
		}
	}
	return n
}

// numberToMatch is the code the user must type before approving, or "" for
// a challenge without number matching.
func numberToMatch(ch *device.Challenge) string {
	if ch == nil {
		return ""
	}
	return ch.HiddenDetails[device.NumberMatchKey]
}

// answeredElsewhere reports a challenge the app backend expired because its
// user answered the same sign-in on another of their phones.
func answeredElsewhere(ch *device.Challenge) bool {
	return ch != nil && ch.Status == verifyclient.ChallengeExpired && ch.RespondedReason == respondedNotNeeded
}

// respondedNotNeeded is Verify's responded_reason for a challenge that no
// longer needs an answer.
const respondedNotNeeded = "not_needed"
