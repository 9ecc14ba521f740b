package store

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

// Writes committed together stay independent: one that fails or panics
// undoes only its own changes, the others are committed, and every caller
// hears its own outcome.
func TestGroupedWritesAreIndependent(t *testing.T) {
	for _, dir := range []string{"", t.TempDir()} {
		s, err := OpenSQLite(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		// Hold the writer so that the writes below queue up and share a group.
		release := make(chan struct{})
		held := make(chan struct{})
		go s.Write(context.Background(), func(Tx) error { close(held); <-release; return nil })
		<-held

		const n = 60
		errs := make([]error, n)
		panics := make([]any, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { panics[i] = recover() }()
				errs[i] = s.Write(context.Background(), func(tx Tx) error {
					if err := tx.PutSecret(fmt.Sprint("k", i), []byte("v")); err != nil {
						return err
					}
					switch i % 3 {
					case 1:
						return fmt.Errorf("write %d refused", i)
					case 2:
						panic(fmt.Sprint("write ", i, " panicked"))
					}
					return nil
				})
			}()
		}
		waitQueued(t, s, n)
		close(release)
		wg.Wait()

		for i := 0; i < n; i++ {
			var got []byte
			s.Read(context.Background(), func(tx Tx) error { got, _ = tx.Secret(fmt.Sprint("k", i)); return nil })
			switch i % 3 {
			case 0:
				if errs[i] != nil || panics[i] != nil || string(got) != "v" {
					t.Errorf("%q write %d: err %v panic %v stored %q", dir, i, errs[i], panics[i], got)
				}
			case 1:
				if errs[i] == nil || errs[i].Error() != fmt.Sprintf("write %d refused", i) || got != nil {
					t.Errorf("%q refused write %d: err %v stored %q", dir, i, errs[i], got)
				}
			case 2:
				if panics[i] != fmt.Sprint("write ", i, " panicked") || got != nil {
					t.Errorf("%q panicking write %d: panic %v stored %q", dir, i, panics[i], got)
				}
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.Write(context.Background(), func(Tx) error { return nil }); !errors.Is(err, ErrClosed) {
			t.Errorf("write after Close: %v", err)
		}
	}
}

// A caller that gave up before its write ran is skipped; the write is not
// done behind its back.
func TestWriteOfCallerWhoGaveUpIsSkipped(t *testing.T) {
	s, err := OpenSQLite(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	release, held := make(chan struct{}), make(chan struct{})
	go s.Write(context.Background(), func(Tx) error { close(held); <-release; return nil })
	<-held
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- s.Write(ctx, func(tx Tx) error { return tx.PutSecret("late", []byte("v")) })
	}()
	waitQueued(t, s, 1)
	cancel()
	close(release)
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("write of a caller who gave up: %v", err)
	}
	s.Read(context.Background(), func(tx Tx) error {
		if _, err := tx.Secret("late"); !errors.Is(err, ErrNotFound) {
			t.Errorf("the skipped write was done: %v", err)
		}
		return nil
	})
}

// waitQueued waits until n writes wait in the writer's queue.
func waitQueued(t *testing.T, s *SQLite, n int) {
	t.Helper()
	waitGroupQueued(t, s.writes, n)
}

// fakeGroup is a group transaction that only counts commits, and fails
// them with err.
type fakeGroup struct {
	commits chan<- struct{}
	err     error
}

func (f fakeGroup) run(r *writeRequest) writeResult { return writeResult{err: r.fn(nil)} }
func (f fakeGroup) commit() error                   { f.commits <- struct{}{}; return f.err }

// A committed group is answered only once it is durable, and the writer
// does not wait for that: the next group commits while the sync runs.
// A failed sync fails the writes it was to make durable.
func TestWritesAreAnsweredOnlyOnceSynced(t *testing.T) {
	commits := make(chan struct{}, 8)
	syncing, releaseSync := make(chan struct{}), make(chan error)
	g := newGroupWriter(func() error { syncing <- struct{}{}; return <-releaseSync })
	go g.run(func(context.Context) (groupTx, error) { return fakeGroup{commits: commits}, nil }, nil)

	write := func() <-chan error {
		done := make(chan error, 1)
		go func() { done <- g.submit(context.Background(), func(Tx) error { return nil }) }()
		return done
	}
	first := write()
	await(t, commits, "first commit")
	await(t, syncing, "first sync")
	second := write()
	await(t, commits, "second commit while the first sync runs")
	unanswered(t, first)
	releaseSync <- nil
	if err := await(t, first, "first write's answer"); err != nil {
		t.Fatalf("first write: %v", err)
	}
	await(t, syncing, "second sync")
	releaseSync <- errors.New("disk gone")
	if err := await(t, second, "second write's answer"); err == nil || err.Error() != "disk gone" {
		t.Fatalf("write whose sync failed: %v", err)
	}
	g.close()
}

// unanswered fails the test if the write was answered. It is called while
// the write's sync is held, so no answer can still be on its way.
func unanswered(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		t.Fatalf("write answered (%v) before its sync finished", err)
	default:
	}
}

// await receives from ch, failing the test rather than hanging it.
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s after 10s", what)
		panic("unreachable")
	}
}

// A write's committed callback runs as soon as its group has committed,
// before the group is durable, in commit order, and only for the writes
// that succeeded; each caller is answered once its group is durable.
func TestCommittedRunsBeforeTheSync(t *testing.T) {
	commits := make(chan struct{}, 8)
	syncing, releaseSync := make(chan struct{}), make(chan error)
	g := newGroupWriter(func() error { syncing <- struct{}{}; return <-releaseSync })
	go g.run(func(context.Context) (groupTx, error) { return fakeGroup{commits: commits}, nil }, nil)

	heard := make(chan string, 4)
	write := func(name string, fn func(Tx) error) <-chan error {
		done := make(chan error, 1)
		go func() { done <- g.submitThen(context.Background(), fn, func() { heard <- name }) }()
		return done
	}
	// The first write holds the writer, so that the next two share its group.
	held, release := make(chan struct{}), make(chan struct{})
	first := write("first", func(Tx) error { close(held); <-release; return nil })
	await(t, held, "first write")
	refused := write("refused", func(Tx) error { return errors.New("refused") })
	waitGroupQueued(t, g, 1)
	last := write("last", func(Tx) error { return nil })
	waitGroupQueued(t, g, 2)
	close(release)

	if got := await(t, heard, "a committed callback"); got != "first" {
		t.Fatalf("first callback heard: %q", got)
	}
	// In commit order: had the refused write's callback run, it would come
	// before the last write's.
	if got := await(t, heard, "a committed callback"); got != "last" {
		t.Fatalf("second callback heard: %q, want the last write's", got)
	}
	await(t, syncing, "the group's sync")
	unanswered(t, first)
	releaseSync <- nil
	if err := await(t, first, "first write's answer"); err != nil {
		t.Fatalf("first write: %v", err)
	}
	if err := await(t, refused, "refused write's answer"); err == nil || err.Error() != "refused" {
		t.Fatalf("refused write: %v", err)
	}
	if err := await(t, last, "last write's answer"); err != nil {
		t.Fatalf("last write: %v", err)
	}
	g.close()
}

// A group whose commit fails runs none of its callbacks, and a callback's
// panic reaches its own caller without stopping the callbacks after it.
func TestCommittedSkipsFailedCommitsAndRaisesPanics(t *testing.T) {
	commits := make(chan struct{}, 8)
	groups := 0
	g := newGroupWriter(nil)
	go g.run(func(context.Context) (groupTx, error) {
		groups++
		if groups == 1 {
			return fakeGroup{commits: commits, err: errors.New("disk full")}, nil
		}
		return fakeGroup{commits: commits}, nil
	}, nil)

	heard := make(chan string, 4)
	err := g.submitThen(context.Background(), func(Tx) error { return nil }, func() { heard <- "uncommitted" })
	if err == nil || err.Error() != "disk full" {
		t.Fatalf("write whose commit failed: %v", err)
	}
	var panicked any
	func() {
		defer func() { panicked = recover() }()
		g.submitThen(context.Background(), func(Tx) error { return nil }, func() { panic("callback failed") })
	}()
	if panicked != "callback failed" {
		t.Fatalf("callback's panic: recovered %v", panicked)
	}
	if err := g.submitThen(context.Background(), func(Tx) error { return nil }, func() { heard <- "after" }); err != nil {
		t.Fatal(err)
	}
	if got := await(t, heard, "a committed callback"); got != "after" {
		t.Fatalf("first callback heard: %q, want the one after the panic", got)
	}
	g.close()
}

// On SQLite a committed callback already reads what its write committed,
// before the log's fsync, and may read the store to do so.
func TestCommittedSeesTheWrite(t *testing.T) {
	s, err := OpenSQLite(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var seen []byte
	err = s.WriteThen(context.Background(), func(tx Tx) error { return tx.PutSecret("k", []byte("v")) }, func() {
		s.Read(context.Background(), func(tx Tx) error { seen, err = tx.Secret("k"); return err })
	})
	if err != nil || string(seen) != "v" {
		t.Fatalf("callback read %q (%v)", seen, err)
	}
}

func waitGroupQueued(t *testing.T, g *groupWriter, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for g.queuedWrites() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", g.queuedWrites(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// A write whose handler is runnable, but not yet running, when the writer
// finds the queue empty still joins the open group: a writer with
// yieldBeforeCommit (SQLite's) yields once before it commits. One processor makes "runnable but not running"
// certain; the scheduler takes from its global queue now and then, which
// can resume the writer first, so most trials, not all, must join.
func TestRunnableWriteJoinsTheOpenGroup(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	commits := make(chan int, 64)
	g := newGroupWriter(nil)
	g.yieldBeforeCommit = true
	go g.run(func(context.Context) (groupTx, error) { return &countingGroup{commits: commits}, nil }, nil)
	defer g.close()

	const trials = 20
	joined := 0
	for range trials {
		second := make(chan error, 1)
		err := g.submit(context.Background(), func(Tx) error {
			// Runnable from here on, but the writer holds the only
			// processor until it blocks or yields.
			go func() { second <- g.submit(context.Background(), func(Tx) error { return nil }) }()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := await(t, second, "second write's answer"); err != nil {
			t.Fatal(err)
		}
		if n := await(t, commits, "first commit"); n == 2 {
			joined++
		} else {
			await(t, commits, "second commit")
		}
	}
	if joined < trials*3/4 {
		t.Fatalf("the runnable write joined the open group in %d of %d trials", joined, trials)
	}
}

// countingGroup reports how many writes each commit covered.
type countingGroup struct {
	commits chan<- int
	writes  int
}

func (c *countingGroup) run(r *writeRequest) writeResult {
	c.writes++
	return writeResult{err: r.fn(nil)}
}

func (c *countingGroup) commit() error { c.commits <- c.writes; return nil }
