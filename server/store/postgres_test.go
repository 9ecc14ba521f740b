package store_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pushsim/pushsim/server/store"
	"github.com/pushsim/pushsim/server/store/storetest"
)

// Servers sharing a schema write one at a time between them, not just
// each within itself: increments through two stores lose nothing.
func TestPostgresServersShareTheWriteLock(t *testing.T) {
	storetest.SkipWithoutPostgres(t)
	t.Parallel()
	url := storetest.PostgresURL(t)
	// Both open at once on the empty schema: the migrations run once.
	stores := make([]*store.Postgres, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = store.OpenPostgres(context.Background(), url, store.PostgresOptions{})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("store %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}

	const writers, each = 8, 25
	failures := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[w%2]
			for range each {
				err := s.Write(context.Background(), func(tx store.Tx) error {
					v, err := tx.Secret("counter")
					if errors.Is(err, store.ErrNotFound) {
						v, err = []byte("0"), nil
					}
					if err != nil {
						return err
					}
					n, err := strconv.Atoi(string(v))
					if err != nil {
						return err
					}
					return tx.PutSecret("counter", []byte(strconv.Itoa(n+1)))
				})
				if err != nil {
					failures <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(failures)
	for err := range failures {
		t.Error(err)
	}
	stores[1].Read(context.Background(), func(tx store.Tx) error {
		v, err := tx.Secret("counter")
		if err != nil || string(v) != strconv.Itoa(writers*each) {
			t.Errorf("counter %q (%v) after %d increments", v, err, writers*each)
		}
		return nil
	})
}

// A write waiting for another server's write gives up with its caller,
// and is not done.
func TestPostgresWriteWaitingForTheLockGivesUp(t *testing.T) {
	storetest.SkipWithoutPostgres(t)
	t.Parallel()
	url := storetest.PostgresURL(t)
	s := openPostgres(t, url)
	other := openPostgres(t, url) // another server on the same schema
	release, held := make(chan struct{}), make(chan struct{})
	holder := make(chan error)
	go func() {
		holder <- s.Write(context.Background(), func(tx store.Tx) error {
			close(held)
			<-release
			return tx.PutSecret("first", []byte("v"))
		})
	}()
	<-held

	ctx, cancel := context.WithCancel(context.Background())
	waiter := make(chan error)
	ran := false
	go func() {
		waiter <- other.Write(ctx, func(tx store.Tx) error { ran = true; return tx.PutSecret("late", []byte("v")) })
	}()
	waitForLockWaiters(t, url, 1)
	cancel()
	if err := <-waiter; !errors.Is(err, context.Canceled) {
		t.Errorf("write that gave up waiting: %v", err)
	}
	close(release)
	if err := <-holder; err != nil {
		t.Fatal(err)
	}
	if ran {
		t.Error("the write ran after its caller gave up")
	}
	s.Read(context.Background(), func(tx store.Tx) error {
		if _, err := tx.Secret("first"); err != nil {
			t.Errorf("the holder's write: %v", err)
		}
		if _, err := tx.Secret("late"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the abandoned write was done: %v", err)
		}
		return nil
	})
}

// Installations in different schemas of one database do not wait for each
// other's writes.
func TestPostgresSchemasWriteIndependently(t *testing.T) {
	storetest.SkipWithoutPostgres(t)
	t.Parallel()
	a := openPostgres(t, storetest.PostgresURL(t))
	b := openPostgres(t, storetest.PostgresURL(t))
	release, held := make(chan struct{}), make(chan struct{})
	holder := make(chan error)
	go func() {
		holder <- a.Write(context.Background(), func(store.Tx) error { close(held); <-release; return nil })
	}()
	<-held
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := b.Write(ctx, func(tx store.Tx) error { return tx.PutSecret("k", []byte("v")) })
	close(release)
	if err != nil {
		t.Fatalf("a write in another schema waited: %v", err)
	}
	if err := <-holder; err != nil {
		t.Fatal(err)
	}
}

// The schema survives a reopen, and the migrations do not run again.
func TestPostgresReopens(t *testing.T) {
	storetest.SkipWithoutPostgres(t)
	t.Parallel()
	url := storetest.PostgresURL(t)
	s, err := store.OpenPostgres(context.Background(), url, store.PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(context.Background(), func(tx store.Tx) error { return tx.PutSecret("k", []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := s.Write(context.Background(), func(store.Tx) error { return nil }); !errors.Is(err, store.ErrClosed) {
		t.Errorf("write after Close: %v", err)
	}
	s = openPostgres(t, url)
	s.Read(context.Background(), func(tx store.Tx) error {
		if v, err := tx.Secret("k"); err != nil || string(v) != "v" {
			t.Errorf("after reopening: %q, %v", v, err)
		}
		return nil
	})
}

// waitForLockWaiters waits until n sessions wait for the write lock of the
// schema at url (pushsim's tag in the lock's high half, the schema's oid in
// the low).
func waitForLockWaiters(t *testing.T, url string, n int) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting int
		err := conn.QueryRow(context.Background(),
			`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
			AND classid::bigint = x'70757368'::bigint AND objid = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())`).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d writes wait for the lock, want %d", waiting, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Every server on the schema hears of a push once it is committed, and of
// none that rolled back; another schema's servers hear nothing.
func TestPostgresAnnouncesCommittedPushes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url := storetest.PostgresURL(t)
	listening, writing := openPostgres(t, url), openPostgres(t, url)
	other := openPostgres(t, storetest.PostgresURL(t))

	heard, otherHeard := make(chan string, 10), make(chan string, 10)
	ready, otherReady := make(chan struct{}, 10), make(chan struct{}, 10)
	go listening.ListenPushes(ctx, store.PushListener{
		Target: func(target string) { heard <- target },
		Resync: func() { ready <- struct{}{} },
	})
	go other.ListenPushes(ctx, store.PushListener{
		Target: func(target string) { otherHeard <- target },
		Resync: func() { otherReady <- struct{}{} },
	})
	<-ready
	<-otherReady

	add := func(s store.Store, ref, target string, fail bool) {
		err := s.Write(ctx, func(tx store.Tx) error {
			_, err := tx.AddOutbox(store.OutboxItem{Kind: store.OutboxPush, Ref: ref, Target: target, DateCreated: time.Now()})
			if err == nil && fail {
				err = errors.New("rolled back")
			}
			return err
		})
		if err != nil && !fail {
			t.Fatal(err)
		}
	}
	add(writing, "r1", "tok-rolled-back", true)
	add(writing, "r2", "tok-committed", false)
	add(other, "r3", "tok-other-schema", false)
	select {
	case got := <-heard:
		if got != "tok-committed" {
			t.Errorf("heard %q first, want tok-committed (the rolled-back push must not be announced)", got)
		}
	case <-ctx.Done():
		t.Fatal("the committed push was never announced")
	}
	select {
	case got := <-otherHeard:
		if got != "tok-other-schema" {
			t.Errorf("the other schema heard %q, want only its own tok-other-schema", got)
		}
	case <-ctx.Done():
		t.Fatal("the other schema's push was never announced")
	}
}
