package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The database holds the access-token key: it is private to its owner even
// in a directory others can read, and an old world-readable one is fixed.
func TestDatabaseIsPrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permissions")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	path := filepath.Join(dir, "pushsim.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o644) // whatever the umask did
	s, err := OpenSQLite(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Write(context.Background(), func(tx Tx) error { return tx.PutSecret("k", []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"pushsim.db", "pushsim.db-wal"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s is %v, want -rw-------", name, fi.Mode().Perm())
		}
	}
}

// The write-ahead log stays within its limit however much is written:
// nearing it, the writer truncates the log before the next group.
func TestWALStaysBounded(t *testing.T) {
	const limit = 512 << 10
	s, err := OpenSQLiteWith(context.Background(), t.TempDir(), Options{WALLimit: limit})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	blob := []byte(strings.Repeat("x", 16<<10))
	largest := int64(0)
	for i := 0; i < 200; i++ {
		if err := s.Write(context.Background(), func(tx Tx) error { return tx.PutSecret(fmt.Sprint("blob", i), blob) }); err != nil {
			t.Fatal(err)
		}
		largest = max(largest, s.WALSize())
	}
	if largest > limit {
		t.Fatalf("the log reached %d bytes, limit %d", largest, limit)
	}
	if largest < limit/2 {
		t.Fatalf("the log never grew (%d bytes): the test did not test the limit", largest)
	}
}

// The in-memory store leaves nothing behind.
func TestMemoryStoreLeavesNothing(t *testing.T) {
	s, err := OpenSQLite(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	dir := s.scratch
	if _, err := os.Stat(filepath.Join(dir, "pushsim.db")); err != nil {
		t.Fatalf("no scratch database: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("scratch directory left behind: %v", err)
	}
}

// The log that is fsynced is the one at the path: should SQLite ever
// delete and recreate it, the file held open for syncing follows.
func TestWALSyncFollowsTheFileAtThePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pushsim.db-wal")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := &walFile{path: path}
	defer w.close()
	if err := w.sync(); err != nil {
		t.Fatal(err)
	}
	first := w.f
	os.Remove(path)
	if err := os.WriteFile(path, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := w.sync(); err != nil {
		t.Fatal(err)
	}
	held, _ := w.f.Stat()
	now, _ := os.Stat(path)
	if w.f == first || !os.SameFile(held, now) {
		t.Fatal("still syncing the deleted log")
	}
	os.Remove(path)
	if err := w.sync(); err != nil || w.f != nil {
		t.Fatalf("sync with the log gone (copied back and removed): %v, holding %v", err, w.f)
	}
}

// The outbox's two hot look-ups by push reach their rows through their own
// indexes, not by walking every pending push: finishing pushes by message
// id (with thousands of phones away, that walk was most of the writer's
// time), and a connecting phone's pending pushes.
func TestOutboxLookUpsUseTheirIndexes(t *testing.T) {
	s, err := OpenSQLite(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	plan := func(query string, args ...any) (plan []string) {
		t.Helper()
		err := s.Read(context.Background(), func(tx Tx) error {
			rows, err := tx.(sqlTx).query("EXPLAIN QUERY PLAN "+query, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					return err
				}
				plan = append(plan, detail)
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		return plan
	}
	if p := plan(finishOutboxQuery(3), "done", 0, OutboxPush, OutboxPending, "a", "b", "c"); len(p) != 1 || !strings.Contains(p[0], "(kind=? AND ref=?)") {
		t.Errorf("finishing pushes: plan %q, want a search by (kind, ref)", p)
	}
	if p := plan("SELECT "+outboxColumns+" FROM "+pendingOutboxForQuery(2), OutboxPush, "tok1", "tok2", 10); len(p) == 0 || !strings.Contains(p[0], "outbox_pending_target (kind=? AND target=?)") {
		t.Errorf("a phone's pending pushes: plan %q, want a search of outbox_pending_target by (kind, target)", p)
	}
}

// What the log holds is read from its index, not from the file: after a
// checkpoint SQLite writes the log again from its start and the file keeps
// its size, and a bound on the file's size would then checkpoint after
// every write.
func TestWALHeldIsWhatTheLogHoldsNotItsFileSize(t *testing.T) {
	s, err := OpenSQLite(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	index, err := os.Open(s.wal[:len(s.wal)-len("wal")] + "shm")
	if err != nil {
		t.Fatal(err)
	}
	defer index.Close()
	held := func() int64 {
		n, err := walIndexHeld(index)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	blob := []byte(strings.Repeat("x", 64<<10))
	for i := 0; i < 16; i++ {
		if err := s.Write(context.Background(), func(tx Tx) error { return tx.PutSecret(fmt.Sprint("blob", i), blob) }); err != nil {
			t.Fatal(err)
		}
	}
	grown := s.WALSize()
	if held := held(); held < 16*64<<10 || held > grown {
		t.Fatalf("after 1 MB of writes the log holds %d bytes, file %d", held, grown)
	}
	if _, err := s.writer.Exec("PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(context.Background(), func(tx Tx) error { return tx.PutSecret("small", []byte("x")) }); err != nil {
		t.Fatal(err)
	}
	if held, size := held(), s.WALSize(); held == 0 || held > 64<<10 || size != grown {
		t.Fatalf("after a checkpoint and a small write the log holds %d bytes, file %d (was %d)", held, size, grown)
	}
}

// A truncation that a reader's old snapshot keeps from finishing is
// reported, once until one succeeds, with the bytes the log still holds
// and why; and the writer truncates the log once the reader is done.
func TestWALTruncateFailureIsReported(t *testing.T) {
	const limit = 256 << 10
	type report struct {
		held, limit int64
		err         error
	}
	reports := make(chan report, 10)
	s, err := OpenSQLiteWith(context.Background(), t.TempDir(), Options{WALLimit: limit,
		WALTruncateFailed: func(held, limit int64, err error) { reports <- report{held, limit, err} }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The writer's only connection, between groups: each failing
	// truncation below waits this long instead of the 5 s of a server.
	if _, err := s.writer.Exec("PRAGMA busy_timeout = 100"); err != nil {
		t.Fatal(err)
	}
	blob := []byte(strings.Repeat("x", 16<<10))
	// The writer looks at the log after each group, before it begins the
	// next: a write's return means every group before its own was looked
	// at.
	write := func(i int) {
		t.Helper()
		if err := s.Write(context.Background(), func(tx Tx) error { return tx.PutSecret(fmt.Sprint("blob", i), blob) }); err != nil {
			t.Fatal(err)
		}
	}
	write(0)
	// A reader of the snapshot after the first write needs the log's
	// frames until it ends.
	old, err := s.reader.BeginTx(context.Background(), &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := old.QueryRow("SELECT count(*) FROM secrets").Scan(&n); err != nil {
		t.Fatal(err)
	}
	for i := 1; len(reports) == 0; i++ {
		if i > 100 {
			t.Fatalf("no report after %d writes with the log at %d bytes", i, s.WALSize())
		}
		write(i)
	}
	got := <-reports
	if truncateAt := int64(limit - limit/8); got.held <= truncateAt || got.limit != limit || !errors.Is(got.err, errWALInUse) {
		t.Fatalf("reported %d bytes of a %d-byte limit (%v), want over %d of %d and errWALInUse", got.held, got.limit, got.err, truncateAt, limit)
	}
	write(1000)
	write(1001)
	if len(reports) > 0 {
		r := <-reports
		t.Fatalf("reported again before a truncation succeeded: %d bytes (%v)", r.held, r.err)
	}
	if err := old.Rollback(); err != nil {
		t.Fatal(err)
	}
	write(1002)
	write(1003)
	if size := s.WALSize(); size > limit {
		t.Fatalf("the log is %d bytes once the reader is done, limit %d", size, limit)
	}
}
