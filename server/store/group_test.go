package store

import (
	"context"
	"errors"
	"fmt"
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
	deadline := time.Now().Add(10 * time.Second)
	for s.writes.queuedWrites() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", s.writes.queuedWrites(), n)
		}
		time.Sleep(time.Millisecond)
	}
}
