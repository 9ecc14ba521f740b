// Package storetest is the conformance suite every store.Store engine
// passes: the contract store.go documents, checked the same way on each
// engine, so that the server behaves alike on SQLite and on PostgreSQL and a
// new engine, or a change to one, is held to what the others do.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pushsim/pushsim/server/store"
)

// base is the suite's "now": whole seconds in UTC, as the engine stores
// them.
var base = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// Run runs the suite; open returns an empty store for one subtest and
// arranges for it to be closed when the subtest ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Secrets", testSecrets},
		{"Services", testServices},
		{"Paging", testPaging},
		{"Entities", testEntities},
		{"Factors", testFactors},
		{"UnverifiedFactorsBefore", testUnverifiedFactorsBefore},
		{"Challenges", testChallenges},
		{"PendingChallengesExpiredBy", testPendingChallengesExpiredBy},
		{"CountPendingChallenges", testCountPendingChallenges},
		{"Notifications", testNotifications},
		{"AccessTokens", testAccessTokens},
		{"Webhooks", testWebhooks},
		{"OutboxAddGetUpdate", testOutboxAddGetUpdate},
		{"OutboxDue", testOutboxDue},
		{"OutboxFinish", testOutboxFinish},
		{"OutboxRecent", testOutboxRecent},
		{"OutboxClaim", testOutboxClaim},
		{"OutboxPendingFor", testOutboxPendingFor},
		{"DeleteAllKeepsSecrets", testDeleteAll},
		{"DeleteServiceCascades", testDeleteService},
		{"DeleteEntityCascades", testDeleteEntity},
		{"FailedWriteLeavesNothing", testFailedWrite},
		{"PanickingWriteLeavesNothing", testPanickingWrite},
		{"CancelledWriteIsNotDone", testCancelledWrite},
		{"ConcurrentWritesAllLand", testConcurrentWrites},
		{"ReadSeesOneSnapshot", testReadSnapshot},
		{"CreatesSeenByLaterStatements", testCreatesSeenByLaterStatements},
		{"FailedCreateLeavesNothing", testFailedCreate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func write(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Write(context.Background(), fn); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func read(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Read(context.Background(), fn); err != nil {
		t.Fatalf("read: %v", err)
	}
}

// same compares records by their JSON, which is what the engines keep.
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: error %v, want %v", what, err, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func service(sid string) store.Service {
	return store.Service{Sid: sid, AccountSid: "AC1", FriendlyName: "svc " + sid,
		Settings: map[string]string{"Push.IncludeDate": "true"}, DateCreated: base, DateUpdated: base}
}

func entity(sid, serviceSid, identity string) store.Entity {
	return store.Entity{Sid: sid, ServiceSid: serviceSid, Identity: identity, DateCreated: base, DateUpdated: base}
}

func factor(sid, entitySid, status string, created time.Time) store.Factor {
	return store.Factor{Sid: sid, ServiceSid: "VA1", EntitySid: entitySid, Identity: "id-" + entitySid,
		FriendlyName: "phone " + sid, FactorType: "push", Status: status, PublicKey: "MFkw", Alg: "ES256",
		CredentialSid: "CR" + sid, NotificationPlatform: "fcm", NotificationToken: "tok-" + sid,
		Metadata: map[string]string{"os": "Android"}, DateCreated: created, DateUpdated: created}
}

func challenge(sid, entitySid, factorSid, status string, expires time.Time) store.Challenge {
	return store.Challenge{Sid: sid, ServiceSid: "VA1", EntitySid: entitySid, Identity: "id-" + entitySid,
		FactorSid: factorSid, FactorType: "push", Status: status, RespondedReason: "none",
		Details:       json.RawMessage(`{"message":"Sign in?","date":"2030-01-02T03:04:05Z","fields":[]}`),
		HiddenDetails: json.RawMessage(`{"ip":"10.0.0.1"}`), DateCreated: base, DateUpdated: base, ExpirationDate: expires}
}

func webhook(sid, serviceSid string) store.Webhook {
	return store.Webhook{Sid: sid, ServiceSid: serviceSid, FriendlyName: "hook " + sid,
		EventTypes: []string{"factor.created", "challenge.approved"}, Status: "enabled", Version: "v2",
		WebhookURL: "https://example.com/" + sid, DateCreated: base, DateUpdated: base}
}

func outbox(kind, ref, target string, next time.Time) store.OutboxItem {
	return store.OutboxItem{Kind: kind, Ref: ref, Target: target,
		Params:      url.Values{"challenge_sid": {"YC" + ref}, "message": {"Sign in? é&="}},
		NextAttempt: next, DateCreated: base}
}

func sids[T any](items []T, sid func(T) string) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, sid(it))
	}
	return out
}

func serviceSids(l store.Listed[store.Service]) []string {
	return sids(l.Items, func(s store.Service) string { return s.Sid })
}

func challengeSids(cs []store.Challenge) []string {
	return sids(cs, func(c store.Challenge) string { return c.Sid })
}

func factorSids(fs []store.Factor) []string {
	return sids(fs, func(f store.Factor) string { return f.Sid })
}

func outboxRefs(items []store.OutboxItem) []string {
	return sids(items, func(o store.OutboxItem) string { return o.Ref })
}

func equalStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: got %q, want %q", what, got, want)
	}
}

func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	equalStrings(t, what, slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want)))
}

func testSecrets(t *testing.T, s store.Store) {
	read(t, s, func(tx store.Tx) error {
		_, err := tx.Secret("key")
		wantErr(t, "missing secret", err, store.ErrNotFound)
		return nil
	})
	write(t, s, func(tx store.Tx) error { return tx.PutSecret("key", []byte{0, 1, 0xff}) })
	write(t, s, func(tx store.Tx) error { return tx.PutSecret("other", []byte("x")) })
	write(t, s, func(tx store.Tx) error { return tx.PutSecret("key", []byte{2, 0}) })
	read(t, s, func(tx store.Tx) error {
		v, err := tx.Secret("key")
		must(t, err)
		if string(v) != "\x02\x00" {
			t.Errorf("replaced secret: %x", v)
		}
		return nil
	})
}

func testServices(t *testing.T, s store.Store) {
	read(t, s, func(tx store.Tx) error {
		_, err := tx.GetService("VA1")
		wantErr(t, "missing service", err, store.ErrNotFound)
		return nil
	})
	a := service("VA1")
	write(t, s, func(tx store.Tx) error { return tx.PutService(a) })
	a.FriendlyName, a.DateUpdated = "renamed", base.Add(time.Minute)
	write(t, s, func(tx store.Tx) error { return tx.PutService(a) })
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetService("VA1")
		must(t, err)
		same(t, "replaced service", got, a)
		return nil
	})
}

// Lists are in creation order, a replaced record keeps its place, and the
// cursors lead forward and back whichever the direction.
func testPaging(t *testing.T, s store.Store) {
	read(t, s, func(tx store.Tx) error {
		l, err := tx.ListServices(store.Page{Size: 3})
		must(t, err)
		if len(l.Items) != 0 || l.First != 0 || l.HasNext || l.HasPrev {
			t.Errorf("empty list: %+v", l)
		}
		return nil
	})
	for i := 1; i <= 7; i++ {
		write(t, s, func(tx store.Tx) error { return tx.PutService(service(fmt.Sprint("VA", i))) })
	}
	renamed := service("VA3")
	renamed.FriendlyName = "renamed"
	write(t, s, func(tx store.Tx) error { return tx.PutService(renamed) })

	type step struct {
		page              store.Page
		want              []string
		hasPrev, hasNext  bool
		fromFirst, toLast bool // cursors taken from the previous page
	}
	check := func(name string, descending bool, steps []step) {
		t.Helper()
		read(t, s, func(tx store.Tx) error {
			var prev store.Listed[store.Service]
			for i, st := range steps {
				p := st.page
				p.Descending = descending
				if st.toLast {
					p.After = prev.Last
				}
				if st.fromFirst {
					p.Before = prev.First
				}
				l, err := tx.ListServices(p)
				must(t, err)
				what := fmt.Sprintf("%s step %d", name, i)
				equalStrings(t, what, serviceSids(l), st.want)
				if l.HasPrev != st.hasPrev || l.HasNext != st.hasNext {
					t.Errorf("%s: HasPrev %v HasNext %v, want %v %v", what, l.HasPrev, l.HasNext, st.hasPrev, st.hasNext)
				}
				prev = l
			}
			return nil
		})
	}
	three := store.Page{Size: 3}
	check("ascending", false, []step{
		{page: three, want: []string{"VA1", "VA2", "VA3"}, hasNext: true},
		{page: three, toLast: true, want: []string{"VA4", "VA5", "VA6"}, hasPrev: true, hasNext: true},
		{page: three, toLast: true, want: []string{"VA7"}, hasPrev: true},
		{page: three, fromFirst: true, want: []string{"VA4", "VA5", "VA6"}, hasPrev: true, hasNext: true},
		{page: three, fromFirst: true, want: []string{"VA1", "VA2", "VA3"}, hasNext: true},
	})
	check("descending", true, []step{
		{page: three, want: []string{"VA7", "VA6", "VA5"}, hasNext: true},
		{page: three, toLast: true, want: []string{"VA4", "VA3", "VA2"}, hasPrev: true, hasNext: true},
		{page: three, toLast: true, want: []string{"VA1"}, hasPrev: true},
		{page: three, fromFirst: true, want: []string{"VA4", "VA3", "VA2"}, hasPrev: true, hasNext: true},
		{page: three, fromFirst: true, want: []string{"VA7", "VA6", "VA5"}, hasNext: true},
	})
	check("default size", false, []step{
		{want: []string{"VA1", "VA2", "VA3", "VA4", "VA5", "VA6", "VA7"}},
	})
	read(t, s, func(tx store.Tx) error {
		l, err := tx.ListServices(store.Page{Size: 7})
		must(t, err)
		if len(l.Items) == 7 {
			same(t, "replaced service in its place", l.Items[2], renamed)
		}
		return nil
	})
}

func testEntities(t *testing.T, s store.Store) {
	write(t, s, func(tx store.Tx) error {
		for _, e := range []store.Entity{entity("YE1", "VA1", "alice"), entity("YE2", "VA1", "bob"), entity("YE3", "VA2", "alice")} {
			if err := tx.PutEntity(e); err != nil {
				return err
			}
		}
		return nil
	})
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetEntity("VA2", "alice")
		must(t, err)
		same(t, "alice of VA2", got, entity("YE3", "VA2", "alice"))
		_, err = tx.GetEntity("VA2", "bob")
		wantErr(t, "bob of VA2", err, store.ErrNotFound)
		l, err := tx.ListEntities("VA1", store.Page{})
		must(t, err)
		equalStrings(t, "entities of VA1", sids(l.Items, func(e store.Entity) string { return e.Sid }), []string{"YE1", "YE2"})
		return nil
	})
	write(t, s, func(tx store.Tx) error { return tx.DeleteEntity("YE1") })
	write(t, s, func(tx store.Tx) error {
		wantErr(t, "deleting a deleted entity", tx.DeleteEntity("YE1"), store.ErrNotFound)
		return nil
	})
}

func testFactors(t *testing.T, s store.Store) {
	f1 := factor("YF1", "YE1", "unverified", base)
	write(t, s, func(tx store.Tx) error {
		for _, f := range []store.Factor{f1, factor("YF2", "YE1", "verified", base), factor("YF3", "YE2", "verified", base)} {
			if err := tx.PutFactor(f); err != nil {
				return err
			}
		}
		return nil
	})
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetFactor("YF1")
		must(t, err)
		same(t, "factor", got, f1)
		got, err = tx.FactorByCredential("CRYF1")
		must(t, err)
		same(t, "factor by credential", got, f1)
		_, err = tx.FactorByCredential("CRnone")
		wantErr(t, "unknown credential", err, store.ErrNotFound)
		status, err := tx.FactorStatus("YF1")
		must(t, err)
		if status != "unverified" {
			t.Errorf("status %q", status)
		}
		_, err = tx.FactorStatus("YFnone")
		wantErr(t, "status of an unknown factor", err, store.ErrNotFound)
		n, err := tx.CountFactors("YE1", "push")
		must(t, err)
		if n != 2 {
			t.Errorf("YE1 has %d push factors, want 2", n)
		}
		n, err = tx.CountFactors("YE1", "totp")
		must(t, err)
		if n != 0 {
			t.Errorf("YE1 has %d totp factors", n)
		}
		l, err := tx.ListFactors("YE1", store.Page{})
		must(t, err)
		equalStrings(t, "factors of YE1", factorSids(l.Items), []string{"YF1", "YF2"})
		return nil
	})
	f1.Status, f1.FriendlyName = "verified", "renamed"
	write(t, s, func(tx store.Tx) error { return tx.PutFactor(f1) })
	write(t, s, func(tx store.Tx) error { return tx.DeleteFactor("YF2") })
	write(t, s, func(tx store.Tx) error {
		wantErr(t, "deleting a deleted factor", tx.DeleteFactor("YF2"), store.ErrNotFound)
		return nil
	})
	read(t, s, func(tx store.Tx) error {
		status, err := tx.FactorStatus("YF1")
		must(t, err)
		if status != "verified" {
			t.Errorf("status after replace %q", status)
		}
		got, err := tx.GetFactor("YF1")
		must(t, err)
		same(t, "replaced factor", got, f1)
		_, err = tx.GetFactor("YF2")
		wantErr(t, "deleted factor", err, store.ErrNotFound)
		return nil
	})
}

func testUnverifiedFactorsBefore(t *testing.T, s store.Store) {
	write(t, s, func(tx store.Tx) error {
		for _, f := range []store.Factor{
			factor("YFlate", "YE1", "unverified", base.Add(-time.Hour)),
			factor("YFverified", "YE1", "verified", base.Add(-3*time.Hour)),
			factor("YFnow", "YE1", "unverified", base),
			factor("YFearly", "YE2", "unverified", base.Add(-2*time.Hour)),
		} {
			if err := tx.PutFactor(f); err != nil {
				return err
			}
		}
		return nil
	})
	read(t, s, func(tx store.Tx) error {
		fs, err := tx.UnverifiedFactorsBefore(base, 10)
		must(t, err)
		equalStrings(t, "unverified before now, oldest first", factorSids(fs), []string{"YFearly", "YFlate"})
		fs, err = tx.UnverifiedFactorsBefore(base, 1)
		must(t, err)
		equalStrings(t, "limited to one", factorSids(fs), []string{"YFearly"})
		return nil
	})
}

func testChallenges(t *testing.T, s store.Store) {
	c := challenge("YC1", "YE1", "YF1", "pending", base.Add(5*time.Minute))
	write(t, s, func(tx store.Tx) error {
		for _, c := range []store.Challenge{c,
			challenge("YC2", "YE1", "YF2", "pending", base.Add(5*time.Minute)),
			challenge("YC3", "YE1", "YF1", "denied", base.Add(5*time.Minute)),
			challenge("YC4", "YE2", "YF3", "pending", base.Add(5*time.Minute)),
		} {
			if err := tx.PutChallenge(c); err != nil {
				return err
			}
		}
		return nil
	})
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetChallenge("YC1")
		must(t, err)
		same(t, "challenge", got, c)
		_, err = tx.GetChallenge("YCnone")
		wantErr(t, "unknown challenge", err, store.ErrNotFound)
		for _, tc := range []struct {
			f    store.ChallengeFilter
			want []string
		}{
			{store.ChallengeFilter{EntitySid: "YE1"}, []string{"YC1", "YC2", "YC3"}},
			{store.ChallengeFilter{EntitySid: "YE1", FactorSid: "YF1"}, []string{"YC1", "YC3"}},
			{store.ChallengeFilter{EntitySid: "YE1", Status: "pending"}, []string{"YC1", "YC2"}},
			{store.ChallengeFilter{EntitySid: "YE1", FactorSid: "YF1", Status: "pending"}, []string{"YC1"}},
		} {
			l, err := tx.ListChallenges(tc.f, store.Page{})
			must(t, err)
			equalStrings(t, fmt.Sprintf("challenges %+v", tc.f), challengeSids(l.Items), tc.want)
		}
		return nil
	})

	approved := c
	approved.Status, approved.RespondedReason = "approved", "none"
	responded := base.Add(time.Minute)
	approved.DateResponded, approved.DateUpdated = &responded, responded
	write(t, s, func(tx store.Tx) error { return tx.UpdateChallengeFrom(approved, "pending") })
	denied := c
	denied.Status = "denied"
	err := s.Write(context.Background(), func(tx store.Tx) error { return tx.UpdateChallengeFrom(denied, "pending") })
	wantErr(t, "second answer", err, store.ErrConflict)
	err = s.Write(context.Background(), func(tx store.Tx) error {
		return tx.UpdateChallengeFrom(challenge("YCnone", "YE1", "YF1", "approved", base), "pending")
	})
	wantErr(t, "answer to an unknown challenge", err, store.ErrConflict)
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetChallenge("YC1")
		must(t, err)
		same(t, "answered challenge", got, approved)
		l, err := tx.ListChallenges(store.ChallengeFilter{EntitySid: "YE1", Status: "pending"}, store.Page{})
		must(t, err)
		equalStrings(t, "pending after the answer", challengeSids(l.Items), []string{"YC2"})
		return nil
	})
}

func testPendingChallengesExpiredBy(t *testing.T, s store.Store) {
	write(t, s, func(tx store.Tx) error {
		for _, c := range []store.Challenge{
			challenge("YCpast", "YE1", "YF1", "pending", base.Add(-10*time.Second)),
			challenge("YCnow", "YE1", "YF1", "pending", base),
			challenge("YCfuture", "YE1", "YF1", "pending", base.Add(time.Second)),
			challenge("YCanswered", "YE1", "YF1", "approved", base.Add(-20*time.Second)),
			challenge("YCother", "YE2", "YF2", "pending", base.Add(-5*time.Second)),
		} {
			if err := tx.PutChallenge(c); err != nil {
				return err
			}
		}
		return nil
	})
	read(t, s, func(tx store.Tx) error {
		cs, err := tx.PendingChallengesExpiredBy("", base, 10)
		must(t, err)
		sameSet(t, "expired by now, all entities", challengeSids(cs), []string{"YCpast", "YCnow", "YCother"})
		cs, err = tx.PendingChallengesExpiredBy("YE1", base, 10)
		must(t, err)
		sameSet(t, "expired by now, YE1", challengeSids(cs), []string{"YCpast", "YCnow"})
		cs, err = tx.PendingChallengesExpiredBy("", base, 2)
		must(t, err)
		if len(cs) != 2 {
			t.Errorf("limit 2 gave %q", challengeSids(cs))
		}
		cs, err = tx.PendingChallengesExpiredBy("YE1", base, 1)
		must(t, err)
		if len(cs) != 1 {
			t.Errorf("limit 1 gave %q", challengeSids(cs))
		}
		return nil
	})
}

func testCountPendingChallenges(t *testing.T, s store.Store) {
	write(t, s, func(tx store.Tx) error {
		for _, c := range []store.Challenge{
			challenge("YClive", "YE1", "YF1", "pending", base.Add(time.Second)),
			challenge("YCexpiring", "YE1", "YF1", "pending", base),
			challenge("YCanswered", "YE1", "YF1", "approved", base.Add(time.Hour)),
			challenge("YCother", "YE1", "YF2", "pending", base.Add(time.Hour)),
		} {
			if err := tx.PutChallenge(c); err != nil {
				return err
			}
		}
		return nil
	})
	read(t, s, func(tx store.Tx) error {
		n, err := tx.CountPendingChallenges("YF1", base)
		must(t, err)
		if n != 1 {
			t.Errorf("YF1 has %d pending challenges expiring after now, want 1", n)
		}
		return nil
	})
}

func testNotifications(t *testing.T, s store.Store) {
	write(t, s, func(tx store.Tx) error {
		for i := range 2 {
			n := store.Notification{Sid: fmt.Sprint("NT", i), ServiceSid: "VA1", EntitySid: "YE1", Identity: "alice",
				ChallengeSid: "YC1", Priority: "high", TTL: 300, DateCreated: base}
			if err := tx.PutNotification(n); err != nil {
				return err
			}
		}
		return nil
	})
	read(t, s, func(tx store.Tx) error {
		for sid, want := range map[string]int{"YC1": 2, "YC2": 0} {
			n, err := tx.CountNotifications(sid)
			must(t, err)
			if n != want {
				t.Errorf("%s has %d notifications, want %d", sid, n, want)
			}
		}
		return nil
	})
}

func testAccessTokens(t *testing.T, s store.Store) {
	a := store.AccessToken{Sid: "YK1", ServiceSid: "VA1", EntityIdentity: "alice", FactorType: "push",
		Token: "eyJ.token", TTL: 60, DateCreated: base}
	write(t, s, func(tx store.Tx) error {
		_, err := tx.GetAccessToken("YK1")
		wantErr(t, "unknown token", err, store.ErrNotFound)
		return tx.PutAccessToken(a)
	})
	a.Used = true
	write(t, s, func(tx store.Tx) error { return tx.PutAccessToken(a) })
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetAccessToken("YK1")
		must(t, err)
		same(t, "used token", got, a)
		return nil
	})
}

func testWebhooks(t *testing.T, s store.Store) {
	w := webhook("YW1", "VA1")
	write(t, s, func(tx store.Tx) error {
		for _, w := range []store.Webhook{w, webhook("YW2", "VA1"), webhook("YW3", "VA2")} {
			if err := tx.PutWebhook(w); err != nil {
				return err
			}
		}
		return nil
	})
	w.Status = "disabled"
	write(t, s, func(tx store.Tx) error { return tx.PutWebhook(w) })
	write(t, s, func(tx store.Tx) error { return tx.DeleteWebhook("YW2") })
	write(t, s, func(tx store.Tx) error {
		wantErr(t, "deleting a deleted webhook", tx.DeleteWebhook("YW2"), store.ErrNotFound)
		return nil
	})
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetWebhook("YW1")
		must(t, err)
		same(t, "replaced webhook", got, w)
		_, err = tx.GetWebhook("YW2")
		wantErr(t, "deleted webhook", err, store.ErrNotFound)
		l, err := tx.ListWebhooks("VA1", store.Page{})
		must(t, err)
		equalStrings(t, "webhooks of VA1", sids(l.Items, func(w store.Webhook) string { return w.Sid }), []string{"YW1"})
		return nil
	})
}

// Outbox times keep what the engines keep: the push expiry in seconds, the
// others in milliseconds.
func testOutboxAddGetUpdate(t *testing.T, s store.Store) {
	expires := base.Add(5 * time.Minute)
	push := outbox(store.OutboxPush, "m1", "tok-1", base.Add(1234*time.Millisecond))
	push.ExpiresAt = &expires
	hook := outbox(store.OutboxWebhook, "d1", "https://example.com/hook", base)
	var ids []int64
	write(t, s, func(tx store.Tx) error {
		for _, o := range []store.OutboxItem{push, hook} {
			id, err := tx.AddOutbox(o)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if ids[0] <= 0 || ids[1] <= ids[0] {
		t.Fatalf("ids %v: want positive and increasing", ids)
	}
	push.ID, push.State, push.DateUpdated = ids[0], store.OutboxPending, base
	hook.ID, hook.State, hook.DateUpdated = ids[1], store.OutboxPending, base
	read(t, s, func(tx store.Tx) error {
		for _, want := range []store.OutboxItem{push, hook} {
			got, err := tx.GetOutbox(want.ID)
			must(t, err)
			sameOutbox(t, "added", got, want)
		}
		_, err := tx.GetOutbox(ids[1] + 100)
		wantErr(t, "unknown outbox item", err, store.ErrNotFound)
		return nil
	})

	hook.State, hook.Attempts, hook.LastStatus, hook.LastError = store.OutboxFailed, 3, 500, "sink said no"
	hook.NextAttempt, hook.DateUpdated = base.Add(90*time.Second+7*time.Millisecond), base.Add(time.Minute)
	write(t, s, func(tx store.Tx) error { return tx.UpdateOutbox(hook) })
	err := s.Write(context.Background(), func(tx store.Tx) error {
		missing := hook
		missing.ID = ids[1] + 100
		return tx.UpdateOutbox(missing)
	})
	wantErr(t, "updating an unknown item", err, store.ErrNotFound)
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetOutbox(hook.ID)
		must(t, err)
		sameOutbox(t, "updated", got, hook)
		return nil
	})
}

func sameOutbox(t *testing.T, what string, got, want store.OutboxItem) {
	t.Helper()
	expiry := func(e *time.Time) string {
		if e == nil {
			return "none"
		}
		return e.UTC().Format(time.RFC3339Nano)
	}
	g := fmt.Sprintf("%d %s %s %s %s %s %s %d %s %d %q %s %s", got.ID, got.Kind, got.Ref, got.Target, got.Params.Encode(),
		expiry(got.ExpiresAt), got.State, got.Attempts, got.NextAttempt.UTC().Format(time.RFC3339Nano), got.LastStatus,
		got.LastError, got.DateCreated.UTC().Format(time.RFC3339Nano), got.DateUpdated.UTC().Format(time.RFC3339Nano))
	w := fmt.Sprintf("%d %s %s %s %s %s %s %d %s %d %q %s %s", want.ID, want.Kind, want.Ref, want.Target, want.Params.Encode(),
		expiry(want.ExpiresAt), want.State, want.Attempts, want.NextAttempt.UTC().Format(time.RFC3339Nano), want.LastStatus,
		want.LastError, want.DateCreated.UTC().Format(time.RFC3339Nano), want.DateUpdated.UTC().Format(time.RFC3339Nano))
	if g != w {
		t.Errorf("%s outbox item:\n got %s\nwant %s", what, g, w)
	}
}

func addOutbox(t *testing.T, s store.Store, items ...store.OutboxItem) []int64 {
	t.Helper()
	var ids []int64
	write(t, s, func(tx store.Tx) error {
		ids = ids[:0]
		for _, o := range items {
			id, err := tx.AddOutbox(o)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	return ids
}

func testOutboxDue(t *testing.T, s store.Store) {
	sec := func(n int) time.Time { return base.Add(time.Duration(n) * time.Second) }
	addOutbox(t, s,
		outbox(store.OutboxPush, "a1", "tok-a1", sec(-2)),
		outbox(store.OutboxPush, "a2", "tok-a2", sec(-1)),
		outbox(store.OutboxPush, "other", "other-1", sec(-3)),
		outbox(store.OutboxPush, "short", "to", sec(-6)),
		outbox(store.OutboxPush, "omega", "ωmega", sec(-7)),
		outbox(store.OutboxPush, "later", "tok-a3", sec(1)),
		outbox(store.OutboxPush, "done", "tok-done", sec(-4)),
		outbox(store.OutboxWebhook, "hook", "tok-hook", sec(-5)),
	)
	write(t, s, func(tx store.Tx) error {
		return tx.FinishOutbox(store.OutboxPush, []string{"done"}, store.OutboxDone, base)
	})
	read(t, s, func(tx store.Tx) error {
		for _, tc := range []struct {
			q    store.DueQuery
			want []string
		}{
			{store.DueQuery{Kind: store.OutboxPush, Now: base, Limit: 10}, []string{"omega", "short", "other", "a1", "a2"}},
			{store.DueQuery{Kind: store.OutboxPush, Now: base, Limit: 2}, []string{"omega", "short"}},
			{store.DueQuery{Kind: store.OutboxPush, Now: sec(1), Limit: 10}, []string{"omega", "short", "other", "a1", "a2", "later"}},
			{store.DueQuery{Kind: store.OutboxPush, Now: base, Limit: 10, TargetPrefix: "tok-"}, []string{"a1", "a2"}},
			{store.DueQuery{Kind: store.OutboxPush, Now: base, Limit: 10, TargetPrefix: "tok-", OutsidePrefix: true}, []string{"omega", "short", "other"}},
			{store.DueQuery{Kind: store.OutboxPush, Now: base, Limit: 10, TargetPrefix: "ω"}, []string{"omega"}},
			{store.DueQuery{Kind: store.OutboxPush, Now: base, Limit: 10, TargetPrefix: "ω", OutsidePrefix: true}, []string{"short", "other", "a1", "a2"}},
			{store.DueQuery{Kind: store.OutboxWebhook, Now: base, Limit: 10}, []string{"hook"}},
		} {
			items, err := tx.DueOutbox(tc.q)
			must(t, err)
			equalStrings(t, fmt.Sprintf("due %+v", tc.q), outboxRefs(items), tc.want)
		}
		return nil
	})
}

func testOutboxFinish(t *testing.T, s store.Store) {
	var items []store.OutboxItem
	var refs []string
	for i := range 150 { // past any batching of refs an engine may do
		ref := fmt.Sprint("r", i)
		refs = append(refs, ref)
		items = append(items, outbox(store.OutboxPush, ref, "tok", base))
	}
	items = append(items, outbox(store.OutboxWebhook, "r0", "https://example.com", base))
	ids := addOutbox(t, s, items...)
	write(t, s, func(tx store.Tx) error {
		return tx.FinishOutbox(store.OutboxPush, []string{"r5"}, store.OutboxDropped, base)
	})
	at := base.Add(time.Minute + time.Millisecond)
	write(t, s, func(tx store.Tx) error {
		if err := tx.FinishOutbox(store.OutboxPush, nil, store.OutboxDone, at); err != nil {
			return err
		}
		return tx.FinishOutbox(store.OutboxPush, append(refs, "unknown"), store.OutboxDone, at)
	})
	read(t, s, func(tx store.Tx) error {
		for i, id := range ids {
			o, err := tx.GetOutbox(id)
			must(t, err)
			wantState, wantUpdated := store.OutboxDone, at
			switch {
			case o.Kind == store.OutboxWebhook:
				wantState, wantUpdated = store.OutboxPending, base
			case o.Ref == "r5":
				wantState, wantUpdated = store.OutboxDropped, base
			}
			if o.State != wantState || !o.DateUpdated.Equal(wantUpdated) {
				t.Errorf("item %d (%s %s): %s at %v, want %s at %v", i, o.Kind, o.Ref, o.State, o.DateUpdated, wantState, wantUpdated)
			}
		}
		return nil
	})
}

func testOutboxRecent(t *testing.T, s store.Store) {
	var items []store.OutboxItem
	for i := range 5 {
		items = append(items, outbox(store.OutboxPush, fmt.Sprint("p", i), "tok", base))
	}
	items = append(items, outbox(store.OutboxWebhook, "hook", "https://example.com", base))
	addOutbox(t, s, items...)
	write(t, s, func(tx store.Tx) error {
		return tx.FinishOutbox(store.OutboxPush, []string{"p3"}, store.OutboxDone, base)
	})
	read(t, s, func(tx store.Tx) error {
		recent, err := tx.RecentOutbox(store.OutboxPush, 3)
		must(t, err)
		equalStrings(t, "three newest pushes", outboxRefs(recent), []string{"p4", "p3", "p2"})
		recent, err = tx.RecentOutbox(store.OutboxWebhook, 3)
		must(t, err)
		equalStrings(t, "newest webhooks", outboxRefs(recent), []string{"hook"})
		return nil
	})
}

func testOutboxClaim(t *testing.T, s store.Store) {
	sec := func(n int) time.Time { return base.Add(time.Duration(n) * time.Second) }
	addOutbox(t, s,
		outbox(store.OutboxWebhook, "h1", "https://a.example/1", sec(-3)),
		outbox(store.OutboxWebhook, "h2", "https://a.example/2", sec(-2)),
		outbox(store.OutboxWebhook, "self", "http://self/hook", sec(-4)),
		outbox(store.OutboxWebhook, "later", "https://a.example/3", sec(5)),
		outbox(store.OutboxPush, "push", "tok", sec(-5)),
	)
	lease := sec(30)
	claim := func(q store.DueQuery) (refs []string) {
		write(t, s, func(tx store.Tx) error {
			items, err := tx.ClaimOutbox(q, lease)
			for _, o := range items {
				if !o.NextAttempt.Equal(lease) {
					t.Errorf("claimed %s: next attempt %v, want %v", o.Ref, o.NextAttempt, lease)
				}
			}
			refs = outboxRefs(items)
			return err
		})
		return refs
	}
	hooks := store.DueQuery{Kind: store.OutboxWebhook, Now: base, Limit: 1, TargetPrefix: "http://self/", OutsidePrefix: true}
	equalStrings(t, "first claim, one item", claim(hooks), []string{"h1"})
	hooks.Limit = 10
	equalStrings(t, "second claim: the first one's item is not due", claim(hooks), []string{"h2"})
	equalStrings(t, "third claim: nothing left", claim(hooks), nil)
	equalStrings(t, "the sink's own", claim(store.DueQuery{Kind: store.OutboxWebhook, Now: base, Limit: 10, TargetPrefix: "http://self/"}), []string{"self"})
	hooks.Now = lease
	equalStrings(t, "once the claims lapse, in due order", claim(hooks), []string{"later", "h1", "h2"})
	read(t, s, func(tx store.Tx) error {
		items, err := tx.DueOutbox(store.DueQuery{Kind: store.OutboxPush, Now: base, Limit: 10})
		must(t, err)
		equalStrings(t, "pushes untouched by webhook claims", outboxRefs(items), []string{"push"})
		return nil
	})
}

func testOutboxPendingFor(t *testing.T, s store.Store) {
	var items []store.OutboxItem
	var targets []string
	for i := range 150 { // past any batching of targets an engine may do
		target := fmt.Sprint("tok-", i)
		targets = append(targets, target)
		items = append(items, outbox(store.OutboxPush, fmt.Sprint("p", i), target, base.Add(time.Hour)))
	}
	items = append(items,
		outbox(store.OutboxPush, "p0-again", "tok-0", base),
		outbox(store.OutboxPush, "done", "tok-1", base),
		outbox(store.OutboxPush, "elsewhere", "tok-x", base),
		outbox(store.OutboxWebhook, "hook", "tok-2", base),
	)
	addOutbox(t, s, items...)
	write(t, s, func(tx store.Tx) error {
		return tx.FinishOutbox(store.OutboxPush, []string{"done"}, store.OutboxDone, base)
	})
	read(t, s, func(tx store.Tx) error {
		got, err := tx.PendingOutboxFor(store.OutboxPush, []string{"tok-1", "tok-0"}, 10)
		must(t, err)
		equalStrings(t, "pending for two tokens", outboxRefs(got), []string{"p0", "p1", "p0-again"})
		got, err = tx.PendingOutboxFor(store.OutboxPush, []string{"tok-0"}, 1)
		must(t, err)
		equalStrings(t, "limited", outboxRefs(got), []string{"p0"})
		got, err = tx.PendingOutboxFor(store.OutboxPush, nil, 10)
		must(t, err)
		equalStrings(t, "no tokens", outboxRefs(got), nil)
		got, err = tx.PendingOutboxFor(store.OutboxPush, targets, 1000)
		must(t, err)
		if len(got) != 151 || got[0].Ref != "p0" || got[149].Ref != "p149" || got[150].Ref != "p0-again" {
			t.Errorf("pending for %d tokens: %d items, %v", len(targets), len(got), outboxRefs(got))
		}
		return nil
	})
}

// populate writes one of everything under service VA<n>.
func populate(t *testing.T, s store.Store, n int) {
	t.Helper()
	svc, ent, fac, chal := fmt.Sprint("VA", n), fmt.Sprint("YE", n), fmt.Sprint("YF", n), fmt.Sprint("YC", n)
	write(t, s, func(tx store.Tx) error {
		return errors.Join(
			tx.PutService(service(svc)),
			tx.PutEntity(entity(ent, svc, fmt.Sprint("user", n))),
			tx.PutFactor(factor(fac, ent, "verified", base)),
			tx.PutChallenge(challenge(chal, ent, fac, "pending", base)),
			tx.PutNotification(store.Notification{Sid: fmt.Sprint("NT", n), ChallengeSid: chal, DateCreated: base}),
			tx.PutAccessToken(store.AccessToken{Sid: fmt.Sprint("YK", n), ServiceSid: svc, DateCreated: base}),
			tx.PutWebhook(webhook(fmt.Sprint("YW", n), svc)),
			func() error {
				_, err := tx.AddOutbox(outbox(store.OutboxPush, fmt.Sprint("m", n), "tok", base))
				return err
			}(),
		)
	})
}

// present reports which of VA<n>'s records exist.
func present(t *testing.T, s store.Store, n int) map[string]bool {
	t.Helper()
	got := map[string]bool{}
	read(t, s, func(tx store.Tx) error {
		check := func(what string, err error) {
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%s: %v", what, err)
			}
			got[what] = err == nil
		}
		_, err := tx.GetService(fmt.Sprint("VA", n))
		check("service", err)
		_, err = tx.GetEntity(fmt.Sprint("VA", n), fmt.Sprint("user", n))
		check("entity", err)
		_, err = tx.GetFactor(fmt.Sprint("YF", n))
		check("factor", err)
		_, err = tx.GetChallenge(fmt.Sprint("YC", n))
		check("challenge", err)
		_, err = tx.GetWebhook(fmt.Sprint("YW", n))
		check("webhook", err)
		_, err = tx.GetAccessToken(fmt.Sprint("YK", n))
		check("access token", err)
		notes, err := tx.CountNotifications(fmt.Sprint("YC", n))
		must(t, err)
		got["notification"] = notes > 0
		return nil
	})
	return got
}

func testDeleteAll(t *testing.T, s store.Store) {
	write(t, s, func(tx store.Tx) error { return tx.PutSecret("account", []byte("kept")) })
	populate(t, s, 1)
	populate(t, s, 2)
	write(t, s, func(tx store.Tx) error { return tx.DeleteAll() })
	for n := 1; n <= 2; n++ {
		for what, ok := range present(t, s, n) {
			if ok {
				t.Errorf("%s %d survived DeleteAll", what, n)
			}
		}
	}
	read(t, s, func(tx store.Tx) error {
		v, err := tx.Secret("account")
		if err != nil || string(v) != "kept" {
			t.Errorf("secret after DeleteAll: %q, %v", v, err)
		}
		recent, err := tx.RecentOutbox(store.OutboxPush, 10)
		must(t, err)
		if len(recent) != 0 {
			t.Errorf("outbox after DeleteAll: %q", outboxRefs(recent))
		}
		l, err := tx.ListServices(store.Page{})
		must(t, err)
		if len(l.Items) != 0 {
			t.Errorf("services after DeleteAll: %q", serviceSids(l))
		}
		return nil
	})
}

func testDeleteService(t *testing.T, s store.Store) {
	populate(t, s, 1)
	populate(t, s, 2)
	write(t, s, func(tx store.Tx) error { return tx.DeleteService("VA1") })
	gone := present(t, s, 1)
	for _, what := range []string{"service", "entity", "factor", "challenge", "webhook"} {
		if gone[what] {
			t.Errorf("the deleted service's %s survived", what)
		}
	}
	for what, ok := range present(t, s, 2) {
		if !ok {
			t.Errorf("another service's %s was deleted", what)
		}
	}
	err := s.Write(context.Background(), func(tx store.Tx) error { return tx.DeleteService("VA1") })
	wantErr(t, "deleting a deleted service", err, store.ErrNotFound)
}

func testDeleteEntity(t *testing.T, s store.Store) {
	populate(t, s, 1)
	populate(t, s, 2)
	write(t, s, func(tx store.Tx) error { return tx.DeleteEntity("YE1") })
	gone := present(t, s, 1)
	for _, what := range []string{"entity", "factor", "challenge"} {
		if gone[what] {
			t.Errorf("the deleted entity's %s survived", what)
		}
	}
	if !gone["service"] {
		t.Error("deleting an entity deleted its service")
	}
	for what, ok := range present(t, s, 2) {
		if !ok {
			t.Errorf("another entity's %s was deleted", what)
		}
	}
}

// writeEverything writes a secret, a service and an outbox item, for the
// writes that must leave none of them behind.
func writeEverything(tx store.Tx) error {
	return errors.Join(
		tx.PutSecret("ghost", []byte("boo")),
		tx.PutService(service("VAghost")),
		func() error { _, err := tx.AddOutbox(outbox(store.OutboxPush, "ghost", "tok", base)); return err }(),
	)
}

func nothingWritten(t *testing.T, s store.Store) {
	t.Helper()
	read(t, s, func(tx store.Tx) error {
		_, err := tx.Secret("ghost")
		wantErr(t, "secret of an undone write", err, store.ErrNotFound)
		_, err = tx.GetService("VAghost")
		wantErr(t, "service of an undone write", err, store.ErrNotFound)
		recent, err := tx.RecentOutbox(store.OutboxPush, 10)
		must(t, err)
		if len(recent) != 0 {
			t.Errorf("outbox of an undone write: %q", outboxRefs(recent))
		}
		return nil
	})
}

func testFailedWrite(t *testing.T, s store.Store) {
	refused := errors.New("refused")
	err := s.Write(context.Background(), func(tx store.Tx) error {
		if err := writeEverything(tx); err != nil {
			return err
		}
		return fmt.Errorf("the engine says: %w", refused)
	})
	wantErr(t, "failed write", err, refused)
	nothingWritten(t, s)
}

func testPanickingWrite(t *testing.T, s store.Store) {
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("the write's panic reached the caller as %v", p)
			}
		}()
		s.Write(context.Background(), func(tx store.Tx) error {
			if err := writeEverything(tx); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	nothingWritten(t, s)
	// The store is still usable.
	write(t, s, func(tx store.Tx) error { return tx.PutSecret("after", []byte("v")) })
}

func testCancelledWrite(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	err := s.Write(ctx, func(tx store.Tx) error { ran = true; return writeEverything(tx) })
	wantErr(t, "write of a caller who gave up", err, context.Canceled)
	if ran {
		t.Error("the write ran for a caller who had given up")
	}
	nothingWritten(t, s)
}

// Read-modify-write from many goroutines loses no update: writes are
// serialised, which is what makes a count-then-insert or an answer safe.
func testConcurrentWrites(t *testing.T, s store.Store) {
	const writers, each = 16, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				err := s.Write(context.Background(), func(tx store.Tx) error {
					n := 0
					v, err := tx.Secret("counter")
					switch {
					case err == nil:
						if n, err = strconv.Atoi(string(v)); err != nil {
							return err
						}
					case !errors.Is(err, store.ErrNotFound):
						return err
					}
					return tx.PutSecret("counter", []byte(strconv.Itoa(n+1)))
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	read(t, s, func(tx store.Tx) error {
		v, err := tx.Secret("counter")
		must(t, err)
		if string(v) != strconv.Itoa(writers*each) {
			t.Errorf("counter %s after %d increments", v, writers*each)
		}
		return nil
	})
}

// A read transaction sees one snapshot: a write committed while it runs is
// not half-visible to it.
func testReadSnapshot(t *testing.T, s store.Store) {
	write(t, s, func(tx store.Tx) error { return tx.PutSecret("k", []byte("old")) })
	read(t, s, func(tx store.Tx) error {
		v, err := tx.Secret("k")
		must(t, err)
		if string(v) != "old" {
			t.Fatalf("before: %q", v)
		}
		write(t, s, func(tx store.Tx) error {
			return errors.Join(tx.PutSecret("k", []byte("new")), tx.PutService(service("VAnew")))
		})
		v, err = tx.Secret("k")
		must(t, err)
		if string(v) != "old" {
			t.Errorf("the snapshot saw a later write: %q", v)
		}
		_, err = tx.GetService("VAnew")
		wantErr(t, "service written after the snapshot", err, store.ErrNotFound)
		return nil
	})
	read(t, s, func(tx store.Tx) error {
		v, err := tx.Secret("k")
		must(t, err)
		if string(v) != "new" {
			t.Errorf("a new read: %q", v)
		}
		return nil
	})
}

// createChallenge writes a challenge and its push as a create does: rows
// an engine may hold outside its tables for a while before copying them
// in, which every later statement must still see.
func createChallenge(tx store.Tx, c store.Challenge) (int64, error) {
	if err := tx.PutChallenge(c); err != nil {
		return 0, err
	}
	item := outbox(store.OutboxPush, "m-"+c.Sid, "tok-"+c.FactorSid, base)
	expires := c.ExpirationDate
	item.ExpiresAt = &expires
	return tx.AddOutbox(item)
}

func testCreatesSeenByLaterStatements(t *testing.T, s store.Store) {
	later := base.Add(time.Hour)
	var first, second int64
	write(t, s, func(tx store.Tx) (err error) {
		first, err = createChallenge(tx, challenge("YC1", "YE1", "YF1", "pending", later))
		return err
	})
	// In one write: a create, then statements that must find it, and
	// an outbox row added after it.
	write(t, s, func(tx store.Tx) error {
		id, err := createChallenge(tx, challenge("YC2", "YE1", "YF1", "pending", later))
		if err != nil {
			return err
		}
		second = id
		l, err := tx.ListChallenges(store.ChallengeFilter{EntitySid: "YE1"}, store.Page{Size: 10})
		must(t, err)
		equalStrings(t, "challenges listed in the write that created one", challengeSids(l.Items), []string{"YC1", "YC2"})
		n, err := tx.CountPendingChallenges("YF1", base)
		must(t, err)
		if n != 2 {
			t.Errorf("pending counted in the write that created one: %d, want 2", n)
		}
		hook, err := tx.AddOutbox(outbox(store.OutboxWebhook, "w1", "https://example.com/hook", base))
		must(t, err)
		if !(first < second && second < hook) {
			t.Errorf("outbox IDs in write order: push %d, push %d, webhook %d", first, second, hook)
		}
		return nil
	})
	// A later write answers one; a read then sees both, the answer and
	// the pushes.
	write(t, s, func(tx store.Tx) error {
		c, err := tx.GetChallenge("YC1")
		must(t, err)
		c.Status = "approved"
		return tx.UpdateChallengeFrom(c, "pending")
	})
	write(t, s, func(tx store.Tx) (err error) {
		_, err = createChallenge(tx, challenge("YC3", "YE1", "YF1", "pending", later))
		return err
	})
	read(t, s, func(tx store.Tx) error {
		l, err := tx.ListChallenges(store.ChallengeFilter{EntitySid: "YE1", Status: "pending"}, store.Page{Size: 10})
		must(t, err)
		equalStrings(t, "pending challenges", challengeSids(l.Items), []string{"YC2", "YC3"})
		pushes, err := tx.PendingOutboxFor(store.OutboxPush, []string{"tok-YF1"}, 10)
		must(t, err)
		equalStrings(t, "pending pushes", outboxRefs(pushes), []string{"m-YC1", "m-YC2", "m-YC3"})
		got, err := tx.GetOutbox(second)
		must(t, err)
		if got.Ref != "m-YC2" {
			t.Errorf("outbox %d is %q, want m-YC2", second, got.Ref)
		}
		return nil
	})
}

func testFailedCreate(t *testing.T, s store.Store) {
	later := base.Add(time.Hour)
	refused := errors.New("refused")
	// A create that fails before any other statement, and one that fails
	// after one.
	err := s.Write(context.Background(), func(tx store.Tx) error {
		if _, err := createChallenge(tx, challenge("YCgone1", "YE1", "YF1", "pending", later)); err != nil {
			return err
		}
		return refused
	})
	wantErr(t, "failed create", err, refused)
	err = s.Write(context.Background(), func(tx store.Tx) error {
		if _, err := createChallenge(tx, challenge("YCgone2", "YE1", "YF1", "pending", later)); err != nil {
			return err
		}
		if _, err := tx.CountPendingChallenges("YF1", base); err != nil {
			return err
		}
		return refused
	})
	wantErr(t, "failed create", err, refused)
	write(t, s, func(tx store.Tx) (err error) {
		_, err = createChallenge(tx, challenge("YCkept", "YE1", "YF1", "pending", later))
		return err
	})
	read(t, s, func(tx store.Tx) error {
		for _, sid := range []string{"YCgone1", "YCgone2"} {
			_, err := tx.GetChallenge(sid)
			wantErr(t, "challenge of a failed create", err, store.ErrNotFound)
		}
		l, err := tx.ListChallenges(store.ChallengeFilter{EntitySid: "YE1"}, store.Page{Size: 10})
		must(t, err)
		equalStrings(t, "challenges", challengeSids(l.Items), []string{"YCkept"})
		pushes, err := tx.RecentOutbox(store.OutboxPush, 10)
		must(t, err)
		equalStrings(t, "pushes", outboxRefs(pushes), []string{"m-YCkept"})
		return nil
	})
}
