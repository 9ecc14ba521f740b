package store

import (
	"context"
	"errors"
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
		keep(l, l.entities, sid, Entity{Sid: sid}, l.generation(), cloneEntity)
	}
	if len(l.entities) != 2 {
		t.Fatalf("%d entities kept, bound 2", len(l.entities))
	}
	if _, ok := lookup(l, l.entities, "d", cloneEntity); !ok {
		t.Fatal("the newest entity was not kept")
	}
}
