package store

import (
	"context"
	"database/sql"
	"embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// SQLite is the Store on one SQLite file in WAL mode, the log fsynced
// before a write is acknowledged: an acknowledged approval survives power
// loss, not just a crash.
type SQLite struct {
	writer *sql.DB // one connection: writes are serialised here
	reader *sql.DB
	stmts  map[*sql.DB]*stmtCache
	lock   *os.File // the data directory's lock; nil in memory
	// scratch is the in-memory store's directory, removed on Close.
	scratch  string
	wal      string // the write-ahead log's path
	walLimit int64
	// checkpointing is set while a background checkpoint runs; Close
	// waits for it through background.
	checkpointing atomic.Bool
	background    sync.WaitGroup
	// checkpoints is held by every checkpoint: SQLite refuses a second
	// one at once (SQLITE_BUSY, without waiting), so the writer's
	// truncation past the limit waits for a passive one instead.
	checkpoints sync.Mutex
	// walIndex is the log's index (the -shm file), held open by the
	// writer's goroutine to read what the log holds; nil until then.
	walIndex *os.File
	// truncateFailed is set, on the writer's goroutine, from a failed
	// truncation until one succeeds: truncateFailure hears of each such
	// spell once.
	truncateFailed  bool
	truncateFailure func(held, limit int64, err error)

	writes *groupWriter
	// walFile is the write-ahead log as the writer's syncer holds it open
	// to fsync it (nil in memory).
	walFile *walFile
	lookups *lookups
}

// stmtCache keeps each query prepared once per pool: parsing SQL again on
// every call cost more than running most of these queries. A query seen for
// the first time runs unprepared and is prepared after its transaction
// ends, because preparing needs a connection and the writer's only one is
// the transaction's.
type stmtCache struct {
	db     *sql.DB
	mu     sync.Mutex
	m      map[string]*sql.Stmt
	wanted map[string]bool
}

// lookup returns query's statement, or nil and remembers to prepare it.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.m[query]
	if st == nil {
		c.wanted[query] = true
	}
	return st
}

// prepareWanted prepares the queries lookup missed; it runs between
// transactions. A query that fails to prepare keeps running unprepared.
func (c *stmtCache) prepareWanted(ctx context.Context) {
	c.mu.Lock()
	var queries []string
	for query := range c.wanted {
		queries = append(queries, query)
	}
	clear(c.wanted)
	c.mu.Unlock()
	// Without the lock: preparing may wait for the connection another
	// transaction holds, and that transaction needs lookup.
	for _, query := range queries {
		st, err := c.db.PrepareContext(ctx, query)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if c.m[query] == nil {
			c.m[query] = st
			st = nil
		}
		c.mu.Unlock()
		if st != nil {
			st.Close() // prepared twice by racing transactions
		}
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
}

// DefaultWALLimit is the write-ahead log's bound unless Options say
// otherwise: enough for minutes of peak writes between checkpoints, small
// enough to forget about.
const DefaultWALLimit = 64 << 20

// Options tune a store.
type Options struct {
	// WALLimit bounds the write-ahead log on disk, in bytes (default
	// DefaultWALLimit). Once the log holds seven eighths of it, the
	// writer copies the log into the database and truncates it before
	// taking more writes, so that the group committed meanwhile stays
	// under the limit; the log file is also truncated back to the limit
	// each time it restarts.
	WALLimit int64
	// WALTruncateFailed hears when that truncation left the log as it
	// was: a reader kept a snapshot that needs the log's frames for longer
	// than the busy timeout (5 s), or the checkpoint failed. It is called
	// on the writer's goroutine, once until a truncation succeeds, with
	// the bytes the log holds, the limit in force and why; the writer
	// tries again after each later group, and the log grows past its
	// limit meanwhile. Nil ignores it.
	WALTruncateFailed func(held, limit int64, err error)
}

// OpenSQLite opens (creating if needed) the database in dir. An empty dir
// keeps nothing: the database lives in a scratch file (in /dev/shm where
// there is one) that is removed on Close, without fsync, so that the
// in-memory mode costs what memory costs while readers and the writer
// keep separate connections as on disk.
func OpenSQLite(ctx context.Context, dir string) (*SQLite, error) {
	return OpenSQLiteWith(ctx, dir, Options{})
}

// OpenSQLiteWith is OpenSQLite with options.
func OpenSQLiteWith(ctx context.Context, dir string, o Options) (_ *SQLite, err error) {
	if o.WALLimit <= 0 {
		o.WALLimit = DefaultWALLimit
	}
	var lock *os.File
	scratch := ""
	// On disk a commit writes the log and the writer's syncer fsyncs it
	// (groupWriter), beside the next group, before any of the commit's
	// writes is answered: acknowledged writes are as durable as with
	// synchronous=FULL, without the writer waiting for the disk. NORMAL
	// keeps SQLite's own fsyncs around checkpoints.
	sync := "NORMAL"
	if dir == "" {
		if scratch, err = os.MkdirTemp(scratchRoot(), "pushsim-memory-"); err != nil {
			return nil, fmt.Errorf("create the in-memory store's scratch directory: %w", err)
		}
		dir, sync = scratch, "OFF"
		defer func() {
			if err != nil {
				os.RemoveAll(scratch)
			}
		}()
	} else {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		if lock, err = lockDir(dir); err != nil {
			return nil, err
		}
		defer func() {
			if err != nil {
				lock.Close()
			}
		}()
	}
	path := filepath.Join(dir, "pushsim.db")
	// The database holds the access-token key and, beyond loopback, the
	// generated auth token: only its owner may read it, whatever the
	// directory or the umask allow.
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	// Checkpoints run off the commit path (Checkpoint, and the writer
	// between groups when the log passes its limit), not inside the commit
	// that happens to cross SQLite's own threshold.
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(" + sync + ")&_pragma=busy_timeout(5000)" +
		"&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint(0)&_pragma=journal_size_limit(" + strconv.FormatInt(o.WALLimit, 10) + ")&_txlock=immediate"
	writer, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	writer.SetMaxOpenConns(1)
	writer.SetConnMaxIdleTime(0)
	writer.SetConnMaxLifetime(0)
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	reader, err := sql.Open("sqlite", dsn)
	if err != nil {
		writer.Close()
		return nil, err
	}
	// Every reader stays open: database/sql keeps two idle by default, and
	// reopening one costs its pragmas and every prepared statement again.
	reader.SetMaxOpenConns(4)
	reader.SetMaxIdleConns(4)
	s := &SQLite{writer: writer, reader: reader, lock: lock, scratch: scratch, wal: path + "-wal", walLimit: o.WALLimit, truncateFailure: o.WALTruncateFailed, stmts: map[*sql.DB]*stmtCache{}, lookups: newLookups(maxLookups)}
	var syncWAL func() error
	if scratch == "" {
		s.walFile = &walFile{path: s.wal}
		syncWAL = s.walFile.sync
	}
	s.writes = newGroupWriter(syncWAL)
	s.writes.yieldBeforeCommit = true
	for _, db := range []*sql.DB{writer, reader} {
		s.stmts[db] = &stmtCache{db: db, m: map[string]*sql.Stmt{}, wanted: map[string]bool{}}
	}
	if err := s.migrate(ctx); err != nil {
		s.closeDB()
		return nil, err
	}
	cache := s.stmts[s.writer]
	go s.writes.run(func(ctx context.Context) (groupTx, error) {
		tx, err := s.writer.BeginTx(ctx, nil)
		return sqliteGroup{sqlTx{ctx: ctx, tx: tx, stmts: cache, lookups: s.lookups, group: &groupWrites{}}}, err
	}, func(ctx context.Context) {
		cache.prepareWanted(ctx)
		s.boundWAL(ctx)
	})
	return s, nil
}

// Checkpoint copies the write-ahead log back into the database without
// blocking writers, so the log stays short.
func (s *SQLite) Checkpoint(ctx context.Context) error {
	s.checkpoints.Lock()
	defer s.checkpoints.Unlock()
	_, err := s.reader.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
	return err
}

// boundWAL runs between groups on the writer: when the log nears its
// limit (passive checkpoints could not keep up, readers held old
// snapshots), it copies the log back and truncates it, waiting for readers
// as long as the busy timeout allows. Writes queue meanwhile; that pause is
// the price of the bound, paid only when the background checkpoints fall
// behind. It starts an eighth of the limit early: the writer can look
// only once a group's pages are in the log, and the group that crossed the
// mark must still fit under the limit.
//
// What counts is what the log holds, not the file's size: after a
// checkpoint SQLite writes the log again from its start without
// shrinking the file, so a size once past a quarter of the limit would
// start a checkpoint after every group, each copying a few pages and
// fsyncing the database beside the log's own fsyncs.
func (s *SQLite) boundWAL(ctx context.Context) {
	held := s.walHeld()
	if truncateAt := s.walLimit - s.walLimit/8; held > truncateAt {
		err := s.truncateWAL(ctx)
		if held = s.walHeld(); held > truncateAt {
			if !s.truncateFailed && s.truncateFailure != nil {
				s.truncateFailure(held, s.walLimit, err)
			}
			s.truncateFailed = true
			return
		}
	}
	s.truncateFailed = false
	if held > s.walLimit/4 && s.checkpointing.CompareAndSwap(false, true) {
		// Well before the limit, copy back in the background, so that
		// the log restarts from its beginning and the stop above stays
		// rare.
		s.background.Add(1)
		go func() {
			defer s.background.Done()
			defer s.checkpointing.Store(false)
			s.Checkpoint(ctx)
		}()
	}
}

// errWALInUse says why a truncation left the log as it was.
var errWALInUse = errors.New("store: a reader still used the write-ahead log's older frames when the busy timeout ran out")

// truncateWAL copies the whole log back into the database and truncates
// it, waiting for readers of older snapshots as long as the busy timeout
// allows.
func (s *SQLite) truncateWAL(ctx context.Context) error {
	s.checkpoints.Lock()
	defer s.checkpoints.Unlock()
	// SQLite answers a checkpoint it could not finish with a row, not an
	// error: busy, frames in the log, frames copied.
	var busy, frames, copied int
	if err := s.writer.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &copied); err != nil {
		return fmt.Errorf("store: truncate the write-ahead log: %w", err)
	}
	if busy != 0 {
		return errWALInUse
	}
	return nil
}

// walHeld is how many bytes of the log are in use, read from its index
// (see walIndexHeld), or, should that fail, the file's size. It runs on the
// writer's goroutine only. SQLite keeps the index while any connection is
// open, and the pools never close theirs, so the file opened once stays
// the one in use.
func (s *SQLite) walHeld() int64 {
	var err error
	if s.walIndex == nil {
		s.walIndex, err = os.Open(s.wal[:len(s.wal)-len("wal")] + "shm")
	}
	var held int64
	if err == nil {
		if held, err = walIndexHeld(s.walIndex); err != nil {
			s.walIndex.Close()
			s.walIndex = nil
		}
	}
	if err != nil {
		return s.WALSize()
	}
	return held
}

// walIndexHeld reads the WAL-index header at the start of the -shm file
// (SQLite's documented format: the page size as a native-order u16 at
// offset 14, 1 meaning 65536; the last valid frame as a native-order u32 at
// 16) and returns the bytes in use: the log's 32-byte header and, per
// frame, a page and its 24-byte header.
func walIndexHeld(index *os.File) (int64, error) {
	var hdr [20]byte
	if _, err := index.ReadAt(hdr[:], 0); err != nil {
		return 0, err
	}
	page := int64(binary.NativeEndian.Uint16(hdr[14:]))
	if page == 1 {
		page = 65536
	}
	frames := int64(binary.NativeEndian.Uint32(hdr[16:]))
	if frames == 0 {
		return 0, nil
	}
	return 32 + frames*(page+24), nil
}

// walFile fsyncs the write-ahead log from outside SQLite. The log is the
// same file for as long as a connection is open, but should the pools
// ever have closed every connection, SQLite deletes it and starts a new
// one, so each sync checks that the file held open is still the one at
// the path.
type walFile struct {
	path string
	f    *os.File
	held os.FileInfo // f's identity, which does not change while it is open
}

func (w *walFile) sync() error {
	if w.f != nil {
		if now, err := os.Stat(w.path); err != nil || !os.SameFile(w.held, now) {
			w.close()
		}
	}
	if w.f == nil {
		f, err := os.OpenFile(w.path, os.O_RDWR, 0)
		if errors.Is(err, fs.ErrNotExist) {
			// SQLite removes the log only after copying it into the
			// database and syncing that: nothing is left to lose.
			return nil
		}
		if err != nil {
			return fmt.Errorf("store: open the write-ahead log to sync it: %w", err)
		}
		held, err := f.Stat()
		if err != nil {
			f.Close()
			return fmt.Errorf("store: open the write-ahead log to sync it: %w", err)
		}
		w.f, w.held = f, held
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("store: sync the write-ahead log: %w", err)
	}
	return nil
}

func (w *walFile) close() {
	if w.f != nil {
		w.f.Close()
		w.f, w.held = nil, nil
	}
}

// WALSize is the write-ahead log's size on disk now.
func (s *SQLite) WALSize() int64 {
	fi, err := os.Stat(s.wal)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// Close releases the database, after the writes already queued.
func (s *SQLite) Close() error {
	s.writes.close()
	s.background.Wait()
	return s.closeDB()
}

func (s *SQLite) closeDB() error {
	for _, c := range s.stmts {
		c.close()
	}
	err := errors.Join(s.writer.Close(), s.reader.Close())
	if s.walFile != nil {
		s.walFile.close()
	}
	if s.walIndex != nil {
		s.walIndex.Close()
	}
	if s.lock != nil {
		err = errors.Join(err, s.lock.Close()) // closing releases the lock
	}
	if s.scratch != "" {
		err = errors.Join(err, os.RemoveAll(s.scratch))
	}
	return err
}

func (s *SQLite) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var current int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return err
	}
	for i, name := range names {
		if i < current {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	if current > len(names) {
		return fmt.Errorf("database schema version %d is newer than this pushsim (%d)", current, len(names))
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(names))); err != nil {
		return err
	}
	return tx.Commit()
}

// Write runs fn in a write transaction; fn's error rolls back what fn did.
// It returns once the change is durable (committed, and on disk, its log
// fsynced) or failed. Writes are committed in
// groups by the store's one writer (groupWriter); fn must not call Write.
func (s *SQLite) Write(ctx context.Context, fn func(Tx) error) error {
	return s.writes.submit(ctx, fn)
}

// WriteThen is Write, then committed as soon as the commit is written to
// the log, before its fsync (see Store.WriteThen).
func (s *SQLite) WriteThen(ctx context.Context, fn func(Tx) error, committed func()) error {
	return s.writes.submitThen(ctx, fn, committed)
}

// sqliteGroup is a group's transaction on the writer's connection.
type sqliteGroup struct{ stx sqlTx }

func (g sqliteGroup) run(r *writeRequest) writeResult { return runInSavepoint(g.stx, r) }

func (g sqliteGroup) commit() error {
	err := g.stx.tx.Commit()
	g.stx.lookups.committed(g.stx.group.written, err)
	return err
}

// runInSavepoint runs one write so that its failure, or its panic, undoes
// only its own changes.
func runInSavepoint(stx sqlTx, r *writeRequest) (res writeResult) {
	if _, err := stx.exec("SAVEPOINT write"); err != nil {
		return writeResult{err: err}
	}
	written := len(stx.group.written)
	undo := func() {
		stx.group.written = stx.group.written[:written]
		if _, err := stx.exec("ROLLBACK TO write"); err != nil {
			res.err = errors.Join(res.err, err)
		}
	}
	defer func() {
		if p := recover(); p != nil {
			res = writeResult{panicked: p}
			undo()
		}
		if _, err := stx.exec("RELEASE write"); err != nil && res.err == nil {
			res.err = err
		}
	}()
	if res.err = r.fn(stx); res.err != nil {
		undo()
	}
	return res
}

// Read runs fn in a read-only transaction, begun at fn's first query that
// the lookups (services, entities, factors in memory) do not answer.
func (s *SQLite) Read(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	cache := s.stmts[s.reader]
	defer cache.prepareWanted(ctx)
	read := &readTx{db: s.reader}
	// A read's statements are look-ups and pages, short enough to finish
	// once begun; a context that cannot end spares the driver a goroutine
	// per statement to watch it (see groupWriter.run).
	err := fn(sqlTx{ctx: context.WithoutCancel(ctx), read: read, stmts: cache, lookups: s.lookups})
	if read.tx == nil {
		return err
	}
	if err != nil {
		read.tx.Rollback()
		return err
	}
	return read.tx.Commit()
}

// sqlTx is a write group's transaction (tx, with what it wrote in group)
// or a read's (read).
type sqlTx struct {
	ctx     context.Context
	tx      *sql.Tx
	group   *groupWrites
	read    *readTx
	stmts   *stmtCache
	lookups *lookups
}

// readTx is a read's transaction, begun by its first query: a read the
// lookups answer whole never opens one.
type readTx struct {
	db  *sql.DB
	tx  *sql.Tx
	err error
	// the lookups' generations just before tx began
	gen, challengePuts uint64
}

// txn is the transaction to query in, begun now if this is a read's first
// query.
func (t sqlTx) txn() (*sql.Tx, error) {
	r := t.read
	if r == nil {
		return t.tx, nil
	}
	if r.tx == nil && r.err == nil {
		r.gen, r.challengePuts = t.lookups.generations()
		r.tx, r.err = r.db.BeginTx(t.ctx, &sql.TxOptions{ReadOnly: true})
	}
	return r.tx, r.err
}

// The three query helpers use query's prepared statement when the cache
// has one, bound to this transaction.

func (t sqlTx) exec(query string, args ...any) (sql.Result, error) {
	tx, err := t.txn()
	if err != nil {
		return nil, err
	}
	if st := t.stmts.lookup(query); st != nil {
		return tx.StmtContext(t.ctx, st).ExecContext(t.ctx, args...)
	}
	return tx.ExecContext(t.ctx, query, args...)
}

func (t sqlTx) query(query string, args ...any) (*sql.Rows, error) {
	tx, err := t.txn()
	if err != nil {
		return nil, err
	}
	if st := t.stmts.lookup(query); st != nil {
		return tx.StmtContext(t.ctx, st).QueryContext(t.ctx, args...)
	}
	return tx.QueryContext(t.ctx, query, args...)
}

func (t sqlTx) queryRow(query string, args ...any) row {
	tx, err := t.txn()
	if err != nil {
		return failedRow{err}
	}
	if st := t.stmts.lookup(query); st != nil {
		return tx.StmtContext(t.ctx, st).QueryRowContext(t.ctx, args...)
	}
	return tx.QueryRowContext(t.ctx, query, args...)
}

// row is a *sql.Row, or the error that kept its query from running.
type row interface{ Scan(dest ...any) error }

type failedRow struct{ err error }

func (r failedRow) Scan(...any) error { return r.err }

// lookedUp is getDoc through the lookups (see lookups): from memory when
// they hold key, and kept there when a read reads it. A write's group may
// have changed what they hold, and then reads the database, which holds
// the group's own changes.
func lookedUp[T any](t sqlTx, m map[string]T, key string, clone func(T) T, query string, args ...any) (T, error) {
	if !t.lookupsCurrent() {
		return getDoc[T](t, query, args...)
	}
	if v, ok := lookup(t.lookups, m, key, clone); ok {
		return v, nil
	}
	v, err := getDoc[T](t, query, args...)
	if err == nil && t.read != nil {
		keep(t.lookups, m, key, v, t.read.gen, clone)
	}
	return v, err
}

// lookupsCurrent is whether the lookups hold what this transaction would
// read: always in a read, and in a write until its group changes a
// service, entity or factor.
func (t sqlTx) lookupsCurrent() bool { return t.read != nil || !t.lookups.changed.Load() }

// getDoc loads one JSON document.
func getDoc[T any](t sqlTx, query string, args ...any) (T, error) {
	doc, err := getRaw(t, query, args...)
	if err != nil {
		var v T
		return v, err
	}
	return decodeDoc[T](doc)
}

func getRaw(t sqlTx, query string, args ...any) (string, error) {
	var doc string
	err := t.queryRow(query, args...).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return doc, err
}

func decodeDoc[T any](doc string) (T, error) {
	var v T
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return v, fmt.Errorf("store: corrupt record: %w", err)
	}
	return v, nil
}

func queryDocs[T any](t sqlTx, query string, args ...any) ([]T, []int64, error) {
	rows, err := t.query(query, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var items []T
	var seqs []int64
	for rows.Next() {
		var doc string
		var seq int64
		if err := rows.Scan(&seq, &doc); err != nil {
			return nil, nil, err
		}
		var v T
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			return nil, nil, fmt.Errorf("store: corrupt record: %w", err)
		}
		items = append(items, v)
		seqs = append(seqs, seq)
	}
	return items, seqs, rows.Err()
}

// listDocs pages through table rows matching where (with args) in seq order.
func listDocs[T any](t sqlTx, table, where string, args []any, p Page) (Listed[T], error) {
	if p.Size <= 0 {
		p.Size = 50
	}
	forward := !p.Descending
	cond := where
	qargs := append([]any(nil), args...)
	reverse := false
	switch {
	case p.Before != 0:
		reverse = true
		cond += " AND seq " + map[bool]string{true: "<", false: ">"}[forward] + " ?"
		qargs = append(qargs, p.Before)
	case p.After != 0:
		cond += " AND seq " + map[bool]string{true: ">", false: "<"}[forward] + " ?"
		qargs = append(qargs, p.After)
	}
	ascending := forward != reverse
	order := "ASC"
	if !ascending {
		order = "DESC"
	}
	q := fmt.Sprintf("SELECT seq, doc FROM %s WHERE %s ORDER BY seq %s LIMIT ?", table, cond, order)
	items, seqs, err := queryDocs[T](t, q, append(qargs, p.Size+1)...)
	if err != nil {
		return Listed[T]{}, err
	}
	more := len(items) > p.Size
	if more {
		items, seqs = items[:p.Size], seqs[:p.Size]
	}
	if reverse {
		for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
			items[i], items[j] = items[j], items[i]
			seqs[i], seqs[j] = seqs[j], seqs[i]
		}
	}
	out := Listed[T]{Items: items}
	if len(seqs) > 0 {
		out.First, out.Last = seqs[0], seqs[len(seqs)-1]
	}
	if reverse {
		out.HasPrev, out.HasNext = more, true
	} else {
		out.HasNext = more
		out.HasPrev = p.After != 0
	}
	return out, nil
}

func marshal(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

func (t sqlTx) Secret(name string) ([]byte, error) {
	var v []byte
	err := t.queryRow("SELECT value FROM secrets WHERE name = ?", name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return v, err
}

func (t sqlTx) PutSecret(name string, value []byte) error {
	_, err := t.exec("INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value", name, value)
	return err
}

func (t sqlTx) GetService(sid string) (Service, error) {
	return lookedUp(t, t.lookups.services, sid, cloneService, "SELECT doc FROM services WHERE sid = ?", sid)
}

func (t sqlTx) PutService(s Service) error {
	t.lookups.changed.Store(true)
	doc, err := marshal(s)
	if err != nil {
		return err
	}
	_, err = t.exec("INSERT INTO services (sid, doc) VALUES (?, ?) ON CONFLICT (sid) DO UPDATE SET doc = excluded.doc", s.Sid, doc)
	return err
}

func (t sqlTx) DeleteAll() error {
	t.lookups.changed.Store(true)
	for _, table := range []string{"outbox", "notifications", "access_tokens", "webhooks", "challenges", "factors", "entities", "services"} {
		if _, err := t.exec("DELETE FROM " + table); err != nil {
			return err
		}
	}
	return nil
}

// DeleteService removes the service and everything under it.
func (t sqlTx) DeleteService(sid string) error {
	t.lookups.changed.Store(true)
	res, err := t.exec("DELETE FROM services WHERE sid = ?", sid)
	if err != nil {
		return err
	}
	if err := mustAffect(res); err != nil {
		return err
	}
	for _, q := range []string{
		"DELETE FROM challenges WHERE entity_sid IN (SELECT sid FROM entities WHERE service_sid = ?)",
		"DELETE FROM factors WHERE entity_sid IN (SELECT sid FROM entities WHERE service_sid = ?)",
		"DELETE FROM entities WHERE service_sid = ?",
		"DELETE FROM webhooks WHERE service_sid = ?",
	} {
		if _, err := t.exec(q, sid); err != nil {
			return err
		}
	}
	return nil
}

func (t sqlTx) ListServices(p Page) (Listed[Service], error) {
	return listDocs[Service](t, "services", "1=1", nil, p)
}

func (t sqlTx) GetEntity(serviceSid, identity string) (Entity, error) {
	return lookedUp(t, t.lookups.entities, serviceSid+"\x00"+identity, cloneEntity,
		"SELECT doc FROM entities WHERE service_sid = ? AND identity = ?", serviceSid, identity)
}

func (t sqlTx) PutEntity(e Entity) error {
	t.lookups.changed.Store(true)
	doc, err := marshal(e)
	if err != nil {
		return err
	}
	_, err = t.exec("INSERT INTO entities (sid, service_sid, identity, doc) VALUES (?, ?, ?, ?) ON CONFLICT (sid) DO UPDATE SET doc = excluded.doc",
		e.Sid, e.ServiceSid, e.Identity, doc)
	return err
}

// DeleteEntity removes the entity with its factors and challenges.
func (t sqlTx) DeleteEntity(sid string) error {
	t.lookups.changed.Store(true)
	res, err := t.exec("DELETE FROM entities WHERE sid = ?", sid)
	if err != nil {
		return err
	}
	if err := mustAffect(res); err != nil {
		return err
	}
	if _, err := t.exec("DELETE FROM challenges WHERE entity_sid = ?", sid); err != nil {
		return err
	}
	_, err = t.exec("DELETE FROM factors WHERE entity_sid = ?", sid)
	return err
}

func (t sqlTx) ListEntities(serviceSid string, p Page) (Listed[Entity], error) {
	return listDocs[Entity](t, "entities", "service_sid = ?", []any{serviceSid}, p)
}

func (t sqlTx) GetFactor(sid string) (Factor, error) {
	return lookedUp(t, t.lookups.factors, "sid "+sid, cloneFactor, "SELECT doc FROM factors WHERE sid = ?", sid)
}

func (t sqlTx) FactorStatus(sid string) (string, error) {
	if t.lookupsCurrent() {
		if f, ok := lookup(t.lookups, t.lookups.factors, "sid "+sid, cloneFactor); ok {
			return f.Status, nil
		}
	}
	var status string
	err := t.queryRow("SELECT status FROM factors WHERE sid = ?", sid).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return status, err
}

func (t sqlTx) FactorByCredential(credentialSid string) (Factor, error) {
	return lookedUp(t, t.lookups.factors, "credential "+credentialSid, cloneFactor,
		"SELECT doc FROM factors WHERE credential_sid = ?", credentialSid)
}

func (t sqlTx) PutFactor(f Factor) error {
	t.lookups.changed.Store(true)
	doc, err := marshal(f)
	if err != nil {
		return err
	}
	_, err = t.exec(`INSERT INTO factors (sid, entity_sid, credential_sid, factor_type, status, created, doc) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (sid) DO UPDATE SET status = excluded.status, doc = excluded.doc`,
		f.Sid, f.EntitySid, f.CredentialSid, f.FactorType, f.Status, f.DateCreated.Unix(), doc)
	return err
}

func (t sqlTx) DeleteFactor(sid string) error {
	t.lookups.changed.Store(true)
	res, err := t.exec("DELETE FROM factors WHERE sid = ?", sid)
	if err != nil {
		return err
	}
	return mustAffect(res)
}

func (t sqlTx) ListFactors(entitySid string, p Page) (Listed[Factor], error) {
	return listDocs[Factor](t, "factors", "entity_sid = ?", []any{entitySid}, p)
}

func (t sqlTx) CountFactors(entitySid, factorType string) (int, error) {
	var n int
	err := t.queryRow("SELECT count(*) FROM factors WHERE entity_sid = ? AND factor_type = ?", entitySid, factorType).Scan(&n)
	return n, err
}

func (t sqlTx) UnverifiedFactorsBefore(before time.Time, limit int) ([]Factor, error) {
	items, _, err := queryDocs[Factor](t, "SELECT seq, doc FROM factors WHERE status = 'unverified' AND created < ? ORDER BY created LIMIT ?", before.Unix(), limit)
	return items, err
}

func (t sqlTx) GetChallenge(sid string) (Challenge, error) {
	// A write's own group may have written this challenge since the
	// lookups were handed it.
	if t.lookupsCurrent() && (t.read != nil || !t.group.wrote(sid)) {
		if doc, ok := t.lookups.challenge(sid); ok {
			return decodeDoc[Challenge](doc)
		}
	}
	doc, err := getRaw(t, "SELECT doc FROM challenges WHERE sid = ?", sid)
	if err != nil {
		return Challenge{}, err
	}
	if t.read != nil {
		t.lookups.keepChallenge(sid, doc, t.read.challengePuts)
	}
	return decodeDoc[Challenge](doc)
}

func (t sqlTx) PutChallenge(c Challenge) error {
	doc, err := marshal(c)
	if err != nil {
		return err
	}
	_, err = t.exec(`INSERT INTO challenges (sid, entity_sid, factor_sid, status, expires, doc) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (sid) DO UPDATE SET status = excluded.status, doc = excluded.doc`,
		c.Sid, c.EntitySid, c.FactorSid, c.Status, c.ExpirationDate.Unix(), doc)
	if err == nil {
		t.group.add(c.Sid, doc)
	}
	return err
}

func (t sqlTx) UpdateChallengeFrom(c Challenge, from string) error {
	doc, err := marshal(c)
	if err != nil {
		return err
	}
	res, err := t.exec("UPDATE challenges SET status = ?, doc = ? WHERE sid = ? AND status = ?", c.Status, doc, c.Sid, from)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return ErrConflict
	}
	t.group.add(c.Sid, doc)
	return nil
}

func (t sqlTx) ListChallenges(f ChallengeFilter, p Page) (Listed[Challenge], error) {
	where := "entity_sid = ?"
	args := []any{f.EntitySid}
	if f.FactorSid != "" {
		where += " AND factor_sid = ?"
		args = append(args, f.FactorSid)
	}
	if f.Status != "" {
		where += " AND status = ?"
		args = append(args, f.Status)
	}
	return listDocs[Challenge](t, "challenges", where, args, p)
}

func (t sqlTx) PendingChallengesExpiredBy(entitySid string, now time.Time, limit int) ([]Challenge, error) {
	if entitySid != "" {
		items, _, err := queryDocs[Challenge](t, "SELECT seq, doc FROM challenges WHERE entity_sid = ? AND status = 'pending' AND expires <= ? LIMIT ?", entitySid, now.Unix(), limit)
		return items, err
	}
	items, _, err := queryDocs[Challenge](t, "SELECT seq, doc FROM challenges WHERE status = 'pending' AND expires <= ? ORDER BY expires LIMIT ?", now.Unix(), limit)
	return items, err
}

func (t sqlTx) CountPendingChallenges(factorSid string, now time.Time) (int, error) {
	var n int
	err := t.queryRow("SELECT count(*) FROM challenges WHERE factor_sid = ? AND status = 'pending' AND expires > ?", factorSid, now.Unix()).Scan(&n)
	return n, err
}

func (t sqlTx) CountNotifications(challengeSid string) (int, error) {
	var n int
	err := t.queryRow("SELECT count(*) FROM notifications WHERE challenge_sid = ?", challengeSid).Scan(&n)
	return n, err
}

func (t sqlTx) PutNotification(n Notification) error {
	doc, err := marshal(n)
	if err != nil {
		return err
	}
	_, err = t.exec("INSERT INTO notifications (sid, challenge_sid, doc) VALUES (?, ?, ?)", n.Sid, n.ChallengeSid, doc)
	return err
}

func (t sqlTx) GetAccessToken(sid string) (AccessToken, error) {
	return getDoc[AccessToken](t, "SELECT doc FROM access_tokens WHERE sid = ?", sid)
}

func (t sqlTx) PutAccessToken(a AccessToken) error {
	doc, err := marshal(a)
	if err != nil {
		return err
	}
	_, err = t.exec("INSERT INTO access_tokens (sid, doc) VALUES (?, ?) ON CONFLICT (sid) DO UPDATE SET doc = excluded.doc", a.Sid, doc)
	return err
}

func (t sqlTx) GetWebhook(sid string) (Webhook, error) {
	return getDoc[Webhook](t, "SELECT doc FROM webhooks WHERE sid = ?", sid)
}

func (t sqlTx) PutWebhook(w Webhook) error {
	doc, err := marshal(w)
	if err != nil {
		return err
	}
	_, err = t.exec("INSERT INTO webhooks (sid, service_sid, doc) VALUES (?, ?, ?) ON CONFLICT (sid) DO UPDATE SET doc = excluded.doc", w.Sid, w.ServiceSid, doc)
	return err
}

func (t sqlTx) DeleteWebhook(sid string) error {
	res, err := t.exec("DELETE FROM webhooks WHERE sid = ?", sid)
	if err != nil {
		return err
	}
	return mustAffect(res)
}

func (t sqlTx) ListWebhooks(serviceSid string, p Page) (Listed[Webhook], error) {
	return listDocs[Webhook](t, "webhooks", "service_sid = ?", []any{serviceSid}, p)
}

func (t sqlTx) AddOutbox(o OutboxItem) (int64, error) {
	var expires any
	if o.ExpiresAt != nil {
		expires = o.ExpiresAt.Unix()
	}
	res, err := t.exec(`INSERT INTO outbox (kind, ref, target, params, expires, state, attempts, next_attempt, created, updated)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		o.Kind, o.Ref, o.Target, o.Params.Encode(), expires, OutboxPending, o.Attempts, o.NextAttempt.UnixMilli(), o.DateCreated.UnixMilli(), o.DateCreated.UnixMilli())
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

func (t sqlTx) UpdateOutbox(o OutboxItem) error {
	res, err := t.exec(`UPDATE outbox SET state = ?, attempts = ?, next_attempt = ?, last_status = ?, last_error = ?, updated = ? WHERE id = ?`,
		o.State, o.Attempts, o.NextAttempt.UnixMilli(), o.LastStatus, o.LastError, o.DateUpdated.UnixMilli(), o.ID)
	if err != nil {
		return err
	}
	return mustAffect(res)
}

func (t sqlTx) FinishOutbox(kind string, refs []string, state string, at time.Time) error {
	// Chunks keep the statement under SQLite's variable limit and few in
	// shape, so the statement cache stays small.
	const chunk = 100
	for len(refs) > 0 {
		n := min(chunk, len(refs))
		args := []any{state, at.UnixMilli(), kind, OutboxPending}
		for _, ref := range refs[:n] {
			args = append(args, ref)
		}
		if _, err := t.exec(finishOutboxQuery(n), args...); err != nil {
			return err
		}
		refs = refs[n:]
	}
	return nil
}

// finishOutboxQuery finishes n rows by ref. "+state" keeps SQLite from
// choosing the due index, on which it would walk every pending row (with
// thousands of phones offline, most of the writer's time), over the
// (kind, ref) one.
func finishOutboxQuery(n int) string {
	return "UPDATE outbox SET state = ?, updated = ? WHERE kind = ? AND +state = ? AND ref IN (?" + strings.Repeat(", ?", n-1) + ")"
}

// pendingOutboxForQuery lists the pending rows of n targets (after
// "SELECT … FROM"). Left to
// itself SQLite prefers the due index, which holds every pending row of
// every phone; the partial index by target holds only the pending ones
// and finds a phone's directly.
func pendingOutboxForQuery(n int) string {
	return "outbox INDEXED BY outbox_pending_target WHERE kind = ? AND state = 'pending' AND target IN (?" +
		strings.Repeat(", ?", n-1) + ") ORDER BY id LIMIT ?"
}

const outboxColumns = "id, kind, ref, target, params, expires, state, attempts, next_attempt, last_status, last_error, created, updated"

func scanOutbox(scan func(...any) error) (OutboxItem, error) {
	var o OutboxItem
	var params string
	var expires sql.NullInt64
	var next, created, updated int64
	if err := scan(&o.ID, &o.Kind, &o.Ref, &o.Target, &params, &expires, &o.State, &o.Attempts, &next, &o.LastStatus, &o.LastError, &created, &updated); err != nil {
		return o, err
	}
	v, err := url.ParseQuery(params)
	if err != nil {
		return o, fmt.Errorf("store: corrupt outbox row %d: %w", o.ID, err)
	}
	o.Params = v
	if expires.Valid {
		e := time.Unix(expires.Int64, 0).UTC()
		o.ExpiresAt = &e
	}
	o.NextAttempt = time.UnixMilli(next).UTC()
	o.DateCreated = time.UnixMilli(created).UTC()
	o.DateUpdated = time.UnixMilli(updated).UTC()
	return o, nil
}

func (t sqlTx) GetOutbox(id int64) (OutboxItem, error) {
	o, err := scanOutbox(t.queryRow("SELECT "+outboxColumns+" FROM outbox WHERE id = ?", id).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return o, ErrNotFound
	}
	return o, err
}

// queryOutbox runs "SELECT outboxColumns FROM " + query.
func (t sqlTx) queryOutbox(query string, args ...any) ([]OutboxItem, error) {
	rows, err := t.query("SELECT "+outboxColumns+" FROM "+query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OutboxItem
	for rows.Next() {
		o, err := scanOutbox(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

func (t sqlTx) DueOutbox(q DueQuery) ([]OutboxItem, error) {
	where := "kind = ? AND state = ? AND next_attempt <= ?"
	args := []any{q.Kind, OutboxPending, q.Now.UnixMilli()}
	if q.TargetPrefix != "" {
		op := "="
		if q.OutsidePrefix {
			op = "<>"
		}
		where += " AND substr(target, 1, ?) " + op + " ?"
		args = append(args, utf8.RuneCountInString(q.TargetPrefix), q.TargetPrefix)
	}
	return t.queryOutbox("outbox WHERE "+where+" ORDER BY next_attempt, id LIMIT ?", append(args, q.Limit)...)
}

// ClaimOutbox marks with a plain update after the select: SQLite's single
// writer already keeps any other write out in between.
func (t sqlTx) ClaimOutbox(q DueQuery, until time.Time) ([]OutboxItem, error) {
	items, err := t.DueOutbox(q)
	if err != nil {
		return nil, err
	}
	for i := range items {
		if _, err := t.exec("UPDATE outbox SET next_attempt = ? WHERE id = ?", until.UnixMilli(), items[i].ID); err != nil {
			return nil, err
		}
		items[i].NextAttempt = time.UnixMilli(until.UnixMilli()).UTC()
	}
	return items, nil
}

func (t sqlTx) PendingOutboxFor(kind string, targets []string, limit int) ([]OutboxItem, error) {
	// In chunks under SQLite's variable limit, merged into one id order.
	const chunk = 100
	var out []OutboxItem
	for len(targets) > 0 {
		n := min(chunk, len(targets))
		args := []any{kind}
		for _, target := range targets[:n] {
			args = append(args, target)
		}
		items, err := t.queryOutbox(pendingOutboxForQuery(n), append(args, limit)...)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		targets = targets[n:]
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (t sqlTx) RecentOutbox(kind string, limit int) ([]OutboxItem, error) {
	return t.queryOutbox("outbox WHERE kind = ? ORDER BY id DESC LIMIT ?", kind, limit)
}

func mustAffect(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// scratchRoot is where the in-memory store keeps its file: /dev/shm is
// memory on Linux; elsewhere the system's temporary directory.
func scratchRoot() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if f, err := os.CreateTemp("/dev/shm", "pushsim-probe-"); err == nil {
			f.Close()
			os.Remove(f.Name())
			return "/dev/shm"
		}
	}
	return os.TempDir()
}

// createPrivate makes sure the database file exists with mode 0600 and
// tightens an existing one that others could read.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			return fmt.Errorf("make the database private (chmod 600 %s): %w", path, err)
		}
	}
	return nil
}
