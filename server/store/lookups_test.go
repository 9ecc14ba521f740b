package store

import (
	"context"
	"errors"
	"fmt"
	"runtime/metrics"
	"slices"
	"strings"
	"testing"
	"time"
)

// lookupsFixture is one service with one entity and one verified factor,
// each read once so that the lookups hold them.
type lookupsFixture struct {
	s   *SQLite
	svc Service
	en  Entity
	f   Factor
}

func newLookupsFixture(t *testing.T) *lookupsFixture {
	t.Helper()
	s, err := OpenSQLite(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	now := time.Unix(1_800_000_000, 0).UTC()
	x := &lookupsFixture{
		s:   s,
		svc: Service{Sid: "VA" + hex32(1), FriendlyName: "Acme", Settings: map[string]string{"push.include_date": "true"}, DateCreated: now, DateUpdated: now},
		en:  Entity{Sid: "YE" + hex32(2), ServiceSid: "VA" + hex32(1), Identity: "alice", DateCreated: now, DateUpdated: now},
		f: Factor{Sid: "YF" + hex32(3), ServiceSid: "VA" + hex32(1), EntitySid: "YE" + hex32(2), Identity: "alice",
			FactorType: "push", Status: "verified", CredentialSid: "CR" + hex32(4), Metadata: map[string]string{"os": "Android"},
			DateCreated: now, DateUpdated: now},
	}
	x.write(t, func(tx Tx) error {
		return errors.Join(tx.PutService(x.svc), tx.PutEntity(x.en), tx.PutFactor(x.f))
	})
	x.read(t)
	return x
}

func hex32(n int) string {
	const digits = "0123456789abcdef"
	b := []byte("00000000000000000000000000000000")
	b[31] = digits[n%16]
	return string(b)
}

func (x *lookupsFixture) write(t *testing.T, fn func(Tx) error) {
	t.Helper()
	if err := x.s.Write(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// read looks up all four ways, as a create and a device request do; a
// missing one is reported as its ErrNotFound.
func (x *lookupsFixture) read(t *testing.T) (svc Service, en Entity, bySid, byCredential Factor, errs [4]error) {
	t.Helper()
	err := x.s.Read(context.Background(), func(tx Tx) error {
		svc, errs[0] = tx.GetService(x.svc.Sid)
		en, errs[1] = tx.GetEntity(x.en.ServiceSid, x.en.Identity)
		bySid, errs[2] = tx.GetFactor(x.f.Sid)
		byCredential, errs[3] = tx.FactorByCredential(x.f.CredentialSid)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range errs {
		if err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
	}
	return svc, en, bySid, byCredential, errs
}

// Every change to a service, entity or factor is seen by the next read,
// though the read before it was answered from memory.
func TestLookupsSeeEveryCommittedChange(t *testing.T) {
	t.Run("service renamed", func(t *testing.T) {
		x := newLookupsFixture(t)
		x.svc.FriendlyName = "Acme Bank"
		x.write(t, func(tx Tx) error { return tx.PutService(x.svc) })
		if svc, _, _, _, _ := x.read(t); svc.FriendlyName != "Acme Bank" {
			t.Fatalf("service read after its rename: %q", svc.FriendlyName)
		}
	})
	t.Run("factor changed", func(t *testing.T) {
		x := newLookupsFixture(t)
		x.f.Status = "unverified"
		x.write(t, func(tx Tx) error { return tx.PutFactor(x.f) })
		if _, _, bySid, byCredential, _ := x.read(t); bySid.Status != "unverified" || byCredential.Status != "unverified" {
			t.Fatalf("factor read after its change: by SID %q, by credential %q", bySid.Status, byCredential.Status)
		}
	})
	t.Run("factor read in the write that changed it", func(t *testing.T) {
		x := newLookupsFixture(t)
		x.f.Status = "unverified"
		x.write(t, func(tx Tx) error {
			if err := tx.PutFactor(x.f); err != nil {
				return err
			}
			status, err := tx.FactorStatus(x.f.Sid)
			bySid, err2 := tx.GetFactor(x.f.Sid)
			byCredential, err3 := tx.FactorByCredential(x.f.CredentialSid)
			if err := errors.Join(err, err2, err3); err != nil {
				return err
			}
			if status != "unverified" || bySid.Status != "unverified" || byCredential.Status != "unverified" {
				t.Errorf("the changing write read %q, by SID %q, by credential %q", status, bySid.Status, byCredential.Status)
			}
			return nil
		})
	})
	deletions := map[string]struct {
		del     func(tx Tx, x *lookupsFixture) error
		missing [4]bool // service, entity, factor by SID, by credential
	}{
		"factor":     {func(tx Tx, x *lookupsFixture) error { return tx.DeleteFactor(x.f.Sid) }, [4]bool{false, false, true, true}},
		"entity":     {func(tx Tx, x *lookupsFixture) error { return tx.DeleteEntity(x.en.Sid) }, [4]bool{false, true, true, true}},
		"service":    {func(tx Tx, x *lookupsFixture) error { return tx.DeleteService(x.svc.Sid) }, [4]bool{true, true, true, true}},
		"everything": {func(tx Tx, _ *lookupsFixture) error { return tx.DeleteAll() }, [4]bool{true, true, true, true}},
	}
	for name, c := range deletions {
		t.Run(name+" deleted", func(t *testing.T) {
			x := newLookupsFixture(t)
			x.write(t, func(tx Tx) error { return c.del(tx, x) })
			_, _, _, _, errs := x.read(t)
			for i, want := range c.missing {
				if got := errors.Is(errs[i], ErrNotFound); got != want {
					t.Errorf("look-up %d after the deletion: not found %v, want %v", i, got, want)
				}
			}
		})
	}
}

// A read whose transaction began before a change committed reads the old
// document, as its snapshot must; it must not leave that copy behind for
// the reads that come after the change.
func TestReadFromBeforeAChangeLeavesNoStaleCopy(t *testing.T) {
	x := newLookupsFixture(t)
	ctx := context.Background()
	err := x.s.Read(ctx, func(tx Tx) error {
		// Not a cached look-up: this begins the transaction, and its
		// snapshot, now.
		if _, err := tx.CountFactors(x.en.Sid, "push"); err != nil {
			return err
		}
		changed := x.f
		changed.Status = "unverified"
		if err := x.s.Write(ctx, func(tx Tx) error { return tx.PutFactor(changed) }); err != nil {
			return err
		}
		f, err := tx.GetFactor(x.f.Sid)
		if err == nil && f.Status != "verified" {
			t.Errorf("the snapshot from before the change read %q", f.Status)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, bySid, _, _ := x.read(t); bySid.Status != "unverified" {
		t.Fatalf("read after the change: %q, the copy from before it", bySid.Status)
	}
}

// What a read returns is the caller's own: changing its maps changes
// nothing the next read gets.
func TestLookedUpDocumentsAreCopies(t *testing.T) {
	x := newLookupsFixture(t)
	svc, _, f, _, _ := x.read(t)
	svc.Settings["push.include_date"] = "false"
	f.Metadata["os"] = "iOS"
	svc, _, f, _, _ = x.read(t)
	if svc.Settings["push.include_date"] != "true" || f.Metadata["os"] != "Android" {
		t.Fatalf("a caller's change reached the next read: settings %v, metadata %v", svc.Settings, f.Metadata)
	}
}

func TestLookupsStayBounded(t *testing.T) {
	l := newLookups(2)
	for _, sid := range []string{"a", "b", "c", "d"} {
		gen, _ := l.generations()
		keep(l, l.entities, sid, Entity{Sid: sid}, gen, cloneEntity)
	}
	if len(l.entities) != 2 {
		t.Fatalf("%d entities kept, bound 2", len(l.entities))
	}
	if _, ok := lookup(l, l.entities, "d", cloneEntity); !ok {
		t.Fatal("the newest entity was not kept")
	}
}

// putChallenge stores a pending challenge for the fixture's factor and
// reads it once.
func (x *lookupsFixture) putChallenge(t *testing.T) Challenge {
	t.Helper()
	now := time.Unix(1_800_000_000, 0).UTC()
	c := Challenge{Sid: "YC" + hex32(5), ServiceSid: x.svc.Sid, EntitySid: x.en.Sid, Identity: x.en.Identity, FactorSid: x.f.Sid,
		FactorType: "push", Status: "pending", Details: []byte(`{"message":"Sign in?"}`), DateCreated: now, DateUpdated: now,
		ExpirationDate: now.Add(5 * time.Minute)}
	x.write(t, func(tx Tx) error { return tx.PutChallenge(c) })
	x.readChallenge(t, c.Sid)
	return c
}

func (x *lookupsFixture) readChallenge(t *testing.T, sid string) (c Challenge, err error) {
	t.Helper()
	if rerr := x.s.Read(context.Background(), func(tx Tx) error {
		c, err = tx.GetChallenge(sid)
		return nil
	}); rerr != nil {
		t.Fatal(rerr)
	}
	return c, err
}

// A challenge is read from memory once written, and every later write of
// it, or deletion, is what the next read sees.
func TestChallengeReadsSeeEveryWrite(t *testing.T) {
	answer := func(c Challenge) Challenge {
		c.Status = "approved"
		return c
	}
	t.Run("answered", func(t *testing.T) {
		x := newLookupsFixture(t)
		c := x.putChallenge(t)
		x.write(t, func(tx Tx) error { return tx.UpdateChallengeFrom(answer(c), "pending") })
		if got, err := x.readChallenge(t, c.Sid); err != nil || got.Status != "approved" {
			t.Fatalf("read after the answer: %q, %v", got.Status, err)
		}
	})
	t.Run("answer undone", func(t *testing.T) {
		x := newLookupsFixture(t)
		c := x.putChallenge(t)
		undone := errors.New("undone")
		err := x.s.Write(context.Background(), func(tx Tx) error {
			if err := tx.UpdateChallengeFrom(answer(c), "pending"); err != nil {
				return err
			}
			return undone
		})
		if !errors.Is(err, undone) {
			t.Fatalf("write: %v", err)
		}
		if got, err := x.readChallenge(t, c.Sid); err != nil || got.Status != "pending" {
			t.Fatalf("read after an undone answer: %q, %v", got.Status, err)
		}
	})
	t.Run("read in the write that answered it", func(t *testing.T) {
		x := newLookupsFixture(t)
		c := x.putChallenge(t)
		x.write(t, func(tx Tx) error {
			if err := tx.UpdateChallengeFrom(answer(c), "pending"); err != nil {
				return err
			}
			got, err := tx.GetChallenge(c.Sid)
			if err == nil && got.Status != "approved" {
				t.Errorf("the answering write read %q", got.Status)
			}
			return err
		})
	})
	for name, del := range map[string]func(tx Tx, x *lookupsFixture) error{
		"entity deleted":     func(tx Tx, x *lookupsFixture) error { return tx.DeleteEntity(x.en.Sid) },
		"service deleted":    func(tx Tx, x *lookupsFixture) error { return tx.DeleteService(x.svc.Sid) },
		"everything deleted": func(tx Tx, _ *lookupsFixture) error { return tx.DeleteAll() },
	} {
		t.Run(name, func(t *testing.T) {
			x := newLookupsFixture(t)
			c := x.putChallenge(t)
			x.write(t, func(tx Tx) error { return del(tx, x) })
			if got, err := x.readChallenge(t, c.Sid); !errors.Is(err, ErrNotFound) {
				t.Fatalf("read after the deletion: %q, %v", got.Status, err)
			}
		})
	}
}

// A read whose snapshot predates an answer, and which misses the copy in
// memory (here it was made room for), reads the pending challenge; it must
// not leave that behind for the reads after the answer.
func TestChallengeReadFromBeforeAnAnswerLeavesNoStaleCopy(t *testing.T) {
	x := newLookupsFixture(t)
	c := x.putChallenge(t)
	ctx := context.Background()
	err := x.s.Read(ctx, func(tx Tx) error {
		if _, err := tx.CountFactors(x.en.Sid, "push"); err != nil {
			return err
		}
		answered := c
		answered.Status = "approved"
		if err := x.s.Write(ctx, func(tx Tx) error { return tx.UpdateChallengeFrom(answered, "pending") }); err != nil {
			return err
		}
		x.s.lookups.mu.Lock()
		x.s.lookups.challenges.clear()
		x.s.lookups.mu.Unlock()
		got, err := tx.GetChallenge(c.Sid)
		if err == nil && got.Status != "pending" {
			t.Errorf("the snapshot from before the answer read %q", got.Status)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := x.readChallenge(t, c.Sid); err != nil || got.Status != "approved" {
		t.Fatalf("read after the answer: %q, %v, the copy from before it", got.Status, err)
	}
}

// The challenge written longest ago makes room, and a reader may keep
// what it read unless room was made for a challenge written after its
// transaction began: that one may be what it read, from before the write.
func TestHeldChallengesMakeRoomForTheNewest(t *testing.T) {
	l := newLookups(3)
	write := func(sids ...string) {
		var w []writtenDoc
		for _, sid := range sids {
			w = append(w, writtenDoc{sid, "written " + sid})
		}
		l.committed(w, nil)
	}
	held := func() string {
		var keys []string
		for k := range l.challenges.docs {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return strings.Join(keys, " ")
	}
	write("a", "b", "c")
	write("b")
	write("d", "e")
	if got := held(); got != "b d e" {
		t.Fatalf("held %q after writing a, b, c, b, d, e into room for 3; want b d e", got)
	}

	_, since := l.generations()
	write("f") // makes room by dropping b, written before the read began
	if got := held(); got != "d e f" {
		t.Fatalf("held %q after writing f; want d e f, b having been written longest ago", got)
	}
	l.keepChallenge("x", "read x", since)
	if doc, _ := l.challenge("x"); doc != "read x" {
		t.Fatalf("a read was not kept though only what came before it made room: %q", doc)
	}

	_, since = l.generations()
	write("g", "h", "i", "j", "k") // the last makes room by dropping g
	if _, ok := l.challenge("g"); ok {
		t.Fatalf("g still held: %q", held())
	}
	l.keepChallenge("g", "read g before it was written", since)
	if doc, ok := l.challenge("g"); ok {
		t.Fatalf("kept %q, read before g was written", doc)
	}

	for i := range 100 {
		write("k")           // the same challenge answered again and again
		write(fmt.Sprint(i)) // and new ones, each making room
	}
	if n := len(l.challenges.order); n > 2*l.challenges.max {
		t.Fatalf("%d puts remembered for %d documents", n, len(l.challenges.docs))
	}
}

// The SQLite driver watches a statement's context from a goroutine of its
// own when that context can end. A write's and a read's statements run
// under contexts that cannot, though the callers' can, so what goroutines
// a write or a read starts do not grow with its statements: each of these
// writes runs five (a savepoint, two inserts, its release, a count) and
// each read two queries.
func TestStatementsStartNoGoroutineEach(t *testing.T) {
	x := newLookupsFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	now := time.Unix(1_800_000_000, 0).UTC()
	const n = 50
	created := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(created)
	before := created[0].Value.Uint64()
	for i := range n {
		c := Challenge{Sid: "YC" + hex32(i), EntitySid: x.en.Sid, FactorSid: x.f.Sid, Status: "pending", ExpirationDate: now.Add(time.Minute)}
		err := x.s.Write(ctx, func(tx Tx) error {
			if _, err := tx.CountPendingChallenges(x.f.Sid, now); err != nil {
				return err
			}
			return errors.Join(tx.PutChallenge(c), tx.PutSecret(c.Sid, []byte("v")))
		})
		if err != nil {
			t.Fatal(err)
		}
		err = x.s.Read(ctx, func(tx Tx) error {
			_, err1 := tx.CountPendingChallenges(x.f.Sid, now)
			_, err2 := tx.Secret(c.Sid)
			return errors.Join(err1, err2)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	metrics.Read(created)
	// database/sql and the driver still watch each transaction's own
	// context: five goroutines for a write and a read here, sixteen when
	// every statement had its watcher.
	if per := float64(created[0].Value.Uint64()-before) / n; per > 8 {
		t.Errorf("a write and a read started %.1f goroutines, want at most 8", per)
	}
}
