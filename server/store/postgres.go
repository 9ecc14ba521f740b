package store

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations_postgres/*.sql
var postgresMigrations embed.FS

// Postgres is the Store on a PostgreSQL database that several servers may
// share. The tables live in the connection's current schema (the first of
// its search_path), so one database can hold several independent
// installations, one per schema.
//
// Write transactions are serialised by a transaction-level advisory lock
// (see Write); reads run in read-only REPEATABLE READ transactions, each a
// consistent snapshot, and never wait for writes.
type Postgres struct {
	pool *pgxpool.Pool
	// writeLock is the advisory lock key every write transaction takes:
	// pushsim's tag in the high half, the schema's oid in the low half, so
	// installations in different schemas do not wait for each other.
	writeLock int64
	// pushChannel is where committed push items are announced (see
	// ListenPushes); named after the schema like writeLock, so that
	// installations sharing a database do not hear each other's.
	pushChannel string
	closed      atomic.Bool
	writes      *groupWriter
}

// PostgresOptions tune a PostgreSQL store.
type PostgresOptions struct {
	// MaxConns bounds the connection pool (default: pgxpool's, the
	// larger of 4 and the number of CPUs).
	MaxConns int32
}

// writeLockTag marks pushsim's advisory locks ("push"), so they do not
// collide with another application's locks in the same database.
const writeLockTag = 0x70757368

// OpenPostgres connects to the database at url (a postgres:// URL or a
// key=value connection string) and brings its schema up to date.
func OpenPostgres(ctx context.Context, url string, o PostgresOptions) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database address: %w", err)
	}
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	p := &Postgres{pool: pool}
	var schema uint32
	err = pool.QueryRow(ctx, "SELECT oid FROM pg_namespace WHERE nspname = current_schema()").Scan(&schema)
	if errors.Is(err, pgx.ErrNoRows) {
		err = errors.New("no schema to create tables in: the search_path names none that exists")
	}
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	p.writeLock = writeLockTag<<32 | int64(schema)
	p.pushChannel = "pushsim_push_" + strconv.FormatUint(uint64(schema), 10)
	if err := p.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	p.writes = newGroupWriter(nil)
	go p.writes.run(p.beginGroup, nil)
	return p, nil
}

// migrate applies the migrations the schema lacks. It holds the write lock,
// so servers starting together migrate one after the other and no write
// sees a half-migrated schema.
func (p *Postgres) migrate(ctx context.Context) error {
	names, err := fs.Glob(postgresMigrations, "migrations_postgres/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", p.writeLock); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS pushsim_schema (version integer NOT NULL)"); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	var current int
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM pushsim_schema").Scan(&current); err != nil {
		return err
	}
	if current > len(names) {
		return fmt.Errorf("database schema version %d is newer than this pushsim (%d)", current, len(names))
	}
	for _, name := range names[current:] {
		body, err := postgresMigrations.ReadFile(name)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	if _, err := tx.Exec(ctx, "DELETE FROM pushsim_schema"); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "INSERT INTO pushsim_schema (version) VALUES ("+strconv.Itoa(len(names))+")"); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// Checkpoint does nothing: PostgreSQL's own checkpointer and autovacuum do
// the housekeeping.
func (p *Postgres) Checkpoint(context.Context) error { return nil }

// Close waits for the transactions in progress and closes the pool.
func (p *Postgres) Close() error {
	p.closed.Store(true)
	p.writes.close()
	p.pool.Close()
	return nil
}

// Write runs fn in a write transaction; fn's error, or its panic, rolls
// back what fn did. It returns once the change is committed or failed.
//
// Every write transaction first takes one transaction-level advisory lock,
// so writes run one at a time across every server on the schema, as they
// do on SQLite's single writer. The alternative, SERIALIZABLE with retries
// on serialization failures, was rejected: fn would run more than once
// (callers keep state in fn's closure and draw sids from their random
// source inside it), and a hot row, like a counter every write touches,
// makes a bounded number of retries fail outright under contention. Writes
// are a few indexed statements each, so one at a time costs less than
// retries would.
//
// The transaction is READ COMMITTED, not stricter, on purpose: each
// statement then takes its snapshot after the lock is held and sees every
// write committed before, whereas a REPEATABLE READ snapshot would be taken
// by the lock's own statement, before the wait.
//
// Writes are committed in groups by the store's one writer (groupWriter):
// the group's transaction takes the lock once, each write runs in a
// savepoint of its own, and one commit answers them all. A write whose
// caller gives up while it waits (for the writer, or for the lock held by
// another server) is not done; once fn has started it finishes regardless
// of ctx, so that a caller never sees a cancellation for a write that may
// have been committed. fn must not call Write.
func (p *Postgres) Write(ctx context.Context, fn func(Tx) error) error {
	return p.WriteThen(ctx, fn, nil)
}

// WriteThen is Write, then committed (see Store.WriteThen). On PostgreSQL
// a commit is durable when it returns, so committed follows durability.
func (p *Postgres) WriteThen(ctx context.Context, fn func(Tx) error, committed func()) error {
	if p.closed.Load() {
		return ErrClosed
	}
	return p.writes.submitThen(ctx, fn, committed)
}

// beginGroup opens a group's transaction and waits for the write lock.
func (p *Postgres) beginGroup(ctx context.Context) (groupTx, error) {
	tx, err := p.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return nil, p.closedOr(err)
	}
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", p.writeLock); err != nil {
		tx.Rollback(context.WithoutCancel(ctx))
		return nil, p.closedOr(err)
	}
	return pgGroup{p: p, ctx: ctx, tx: tx}, nil
}

// pgGroup is a group's transaction, holding the write lock.
type pgGroup struct {
	p   *Postgres
	ctx context.Context
	tx  pgx.Tx
}

// run runs one write in a savepoint, which on PostgreSQL is also what
// keeps a failed statement from aborting the whole group.
func (g pgGroup) run(r *writeRequest) (res writeResult) {
	sp, err := g.tx.Begin(g.ctx)
	if err != nil {
		return writeResult{err: err}
	}
	defer func() {
		if p := recover(); p != nil {
			res = writeResult{panicked: p}
		}
		if res.err != nil || res.panicked != nil {
			if err := sp.Rollback(g.ctx); err != nil {
				res.err = errors.Join(res.err, err)
			}
			return
		}
		res.err = sp.Commit(g.ctx)
	}()
	res.err = r.fn(pgTx{ctx: g.ctx, tx: sp, pushChannel: g.p.pushChannel})
	return res
}

func (g pgGroup) commit() error { return g.tx.Commit(g.ctx) }

// Read runs fn in a read-only transaction on one snapshot.
func (p *Postgres) Read(ctx context.Context, fn func(Tx) error) error {
	if p.closed.Load() {
		return ErrClosed
	}
	tx, err := p.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return p.closedOr(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(pgTx{ctx: ctx, tx: tx, pushChannel: p.pushChannel}); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func (p *Postgres) closedOr(err error) error {
	if p.closed.Load() {
		return ErrClosed
	}
	return err
}

type pgTx struct {
	ctx         context.Context
	tx          pgx.Tx
	pushChannel string
}

func (t pgTx) exec(query string, args ...any) (pgconn.CommandTag, error) {
	return t.tx.Exec(t.ctx, query, args...)
}

func (t pgTx) queryRow(query string, args ...any) pgx.Row {
	return t.tx.QueryRow(t.ctx, query, args...)
}

func (t pgTx) count(query string, args ...any) (int, error) {
	var n int
	err := t.queryRow(query, args...).Scan(&n)
	return n, err
}

func pgDoc[T any](t pgTx, query string, args ...any) (T, error) {
	var v T
	var doc string
	err := t.queryRow(query, args...).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return v, ErrNotFound
	}
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return v, fmt.Errorf("store: corrupt record: %w", err)
	}
	return v, nil
}

// pgDocs runs a query selecting (seq, doc).
func pgDocs[T any](t pgTx, query string, args ...any) ([]T, []int64, error) {
	rows, err := t.tx.Query(t.ctx, query, args...)
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

// pgWhere joins conditions on columns, each compared for equality with its
// argument, into a WHERE clause with numbered parameters.
func pgWhere(columns []string) string {
	if len(columns) == 0 {
		return "TRUE"
	}
	conds := make([]string, len(columns))
	for i, c := range columns {
		conds[i] = fmt.Sprintf("%s = $%d", c, i+1)
	}
	return strings.Join(conds, " AND ")
}

// pgList pages through table rows whose columns equal args, in seq order;
// the paging rules are listDocs's.
func pgList[T any](t pgTx, table string, columns []string, args []any, p Page) (Listed[T], error) {
	if p.Size <= 0 {
		p.Size = 50
	}
	forward := !p.Descending
	cond := pgWhere(columns)
	qargs := append([]any(nil), args...)
	reverse := false
	switch {
	case p.Before != 0:
		reverse = true
		qargs = append(qargs, p.Before)
		cond += fmt.Sprintf(" AND seq %s $%d", map[bool]string{true: "<", false: ">"}[forward], len(qargs))
	case p.After != 0:
		qargs = append(qargs, p.After)
		cond += fmt.Sprintf(" AND seq %s $%d", map[bool]string{true: ">", false: "<"}[forward], len(qargs))
	}
	order := "ASC"
	if forward == reverse {
		order = "DESC"
	}
	qargs = append(qargs, p.Size+1)
	q := fmt.Sprintf("SELECT seq, doc FROM %s WHERE %s ORDER BY seq %s LIMIT $%d", table, cond, order, len(qargs))
	items, seqs, err := pgDocs[T](t, q, qargs...)
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

func affected(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

func (t pgTx) Secret(name string) ([]byte, error) {
	var v []byte
	err := t.queryRow("SELECT value FROM secrets WHERE name = $1", name).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return v, err
}

func (t pgTx) PutSecret(name string, value []byte) error {
	_, err := t.exec("INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value", name, value)
	return err
}

func (t pgTx) DeleteAll() error {
	// DELETE rather than TRUNCATE: TRUNCATE would lock out every other
	// server's readers, and would not be undone for them by MVCC.
	for _, table := range []string{"outbox", "notifications", "access_tokens", "webhooks", "challenges", "factors", "entities", "services"} {
		if _, err := t.exec("DELETE FROM " + table); err != nil {
			return err
		}
	}
	return nil
}

func (t pgTx) GetService(sid string) (Service, error) {
	return pgDoc[Service](t, "SELECT doc FROM services WHERE sid = $1", sid)
}

func (t pgTx) PutService(s Service) error {
	doc, err := marshal(s)
	if err != nil {
		return err
	}
	_, err = t.exec("INSERT INTO services (sid, doc) VALUES ($1, $2) ON CONFLICT (sid) DO UPDATE SET doc = excluded.doc", s.Sid, doc)
	return err
}

// DeleteService removes the service and everything under it.
func (t pgTx) DeleteService(sid string) error {
	if err := affected(t.exec("DELETE FROM services WHERE sid = $1", sid)); err != nil {
		return err
	}
	for _, q := range []string{
		"DELETE FROM challenges WHERE entity_sid IN (SELECT sid FROM entities WHERE service_sid = $1)",
		"DELETE FROM factors WHERE entity_sid IN (SELECT sid FROM entities WHERE service_sid = $1)",
		"DELETE FROM entities WHERE service_sid = $1",
		"DELETE FROM webhooks WHERE service_sid = $1",
	} {
		if _, err := t.exec(q, sid); err != nil {
			return err
		}
	}
	return nil
}

func (t pgTx) ListServices(p Page) (Listed[Service], error) {
	return pgList[Service](t, "services", nil, nil, p)
}

func (t pgTx) GetEntity(serviceSid, identity string) (Entity, error) {
	return pgDoc[Entity](t, "SELECT doc FROM entities WHERE service_sid = $1 AND identity = $2", serviceSid, identity)
}

func (t pgTx) PutEntity(e Entity) error {
	doc, err := marshal(e)
	if err != nil {
		return err
	}
	_, err = t.exec("INSERT INTO entities (sid, service_sid, identity, doc) VALUES ($1, $2, $3, $4) ON CONFLICT (sid) DO UPDATE SET doc = excluded.doc",
		e.Sid, e.ServiceSid, e.Identity, doc)
	return err
}

// DeleteEntity removes the entity with its factors and challenges.
func (t pgTx) DeleteEntity(sid string) error {
	if err := affected(t.exec("DELETE FROM entities WHERE sid = $1", sid)); err != nil {
		return err
	}
	if _, err := t.exec("DELETE FROM challenges WHERE entity_sid = $1", sid); err != nil {
		return err
	}
	_, err := t.exec("DELETE FROM factors WHERE entity_sid = $1", sid)
	return err
}

func (t pgTx) ListEntities(serviceSid string, p Page) (Listed[Entity], error) {
	return pgList[Entity](t, "entities", []string{"service_sid"}, []any{serviceSid}, p)
}

func (t pgTx) GetFactor(sid string) (Factor, error) {
	return pgDoc[Factor](t, "SELECT doc FROM factors WHERE sid = $1", sid)
}

func (t pgTx) FactorStatus(sid string) (string, error) {
	var status string
	err := t.queryRow("SELECT status FROM factors WHERE sid = $1", sid).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	return status, err
}

func (t pgTx) FactorByCredential(credentialSid string) (Factor, error) {
	return pgDoc[Factor](t, "SELECT doc FROM factors WHERE credential_sid = $1", credentialSid)
}

func (t pgTx) PutFactor(f Factor) error {
	doc, err := marshal(f)
	if err != nil {
		return err
	}
	_, err = t.exec(`INSERT INTO factors (sid, entity_sid, credential_sid, factor_type, status, created, doc) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (sid) DO UPDATE SET status = excluded.status, doc = excluded.doc`,
		f.Sid, f.EntitySid, f.CredentialSid, f.FactorType, f.Status, f.DateCreated.Unix(), doc)
	return err
}

func (t pgTx) DeleteFactor(sid string) error {
	return affected(t.exec("DELETE FROM factors WHERE sid = $1", sid))
}

func (t pgTx) ListFactors(entitySid string, p Page) (Listed[Factor], error) {
	return pgList[Factor](t, "factors", []string{"entity_sid"}, []any{entitySid}, p)
}

func (t pgTx) CountFactors(entitySid, factorType string) (int, error) {
	return t.count("SELECT count(*) FROM factors WHERE entity_sid = $1 AND factor_type = $2", entitySid, factorType)
}

func (t pgTx) UnverifiedFactorsBefore(before time.Time, limit int) ([]Factor, error) {
	items, _, err := pgDocs[Factor](t, "SELECT seq, doc FROM factors WHERE status = 'unverified' AND created < $1 ORDER BY created, seq LIMIT $2", before.Unix(), limit)
	return items, err
}

func (t pgTx) GetChallenge(sid string) (Challenge, error) {
	return pgDoc[Challenge](t, "SELECT doc FROM challenges WHERE sid = $1", sid)
}

func (t pgTx) PutChallenge(c Challenge) error {
	doc, err := marshal(c)
	if err != nil {
		return err
	}
	_, err = t.exec(`INSERT INTO challenges (sid, entity_sid, factor_sid, status, expires, doc) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (sid) DO UPDATE SET status = excluded.status, doc = excluded.doc`,
		c.Sid, c.EntitySid, c.FactorSid, c.Status, c.ExpirationDate.Unix(), doc)
	return err
}

func (t pgTx) UpdateChallengeFrom(c Challenge, from string) error {
	doc, err := marshal(c)
	if err != nil {
		return err
	}
	tag, err := t.exec("UPDATE challenges SET status = $1, doc = $2 WHERE sid = $3 AND status = $4", c.Status, doc, c.Sid, from)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return ErrConflict
	}
	return nil
}

func (t pgTx) ListChallenges(f ChallengeFilter, p Page) (Listed[Challenge], error) {
	columns, args := []string{"entity_sid"}, []any{f.EntitySid}
	if f.FactorSid != "" {
		columns, args = append(columns, "factor_sid"), append(args, f.FactorSid)
	}
	if f.Status != "" {
		columns, args = append(columns, "status"), append(args, f.Status)
	}
	return pgList[Challenge](t, "challenges", columns, args, p)
}

func (t pgTx) PendingChallengesExpiredBy(entitySid string, now time.Time, limit int) ([]Challenge, error) {
	if entitySid != "" {
		items, _, err := pgDocs[Challenge](t, "SELECT seq, doc FROM challenges WHERE entity_sid = $1 AND status = 'pending' AND expires <= $2 ORDER BY expires, seq LIMIT $3", entitySid, now.Unix(), limit)
		return items, err
	}
	items, _, err := pgDocs[Challenge](t, "SELECT seq, doc FROM challenges WHERE status = 'pending' AND expires <= $1 ORDER BY expires, seq LIMIT $2", now.Unix(), limit)
	return items, err
}

func (t pgTx) CountPendingChallenges(factorSid string, now time.Time) (int, error) {
	return t.count("SELECT count(*) FROM challenges WHERE factor_sid = $1 AND status = 'pending' AND expires > $2", factorSid, now.Unix())
}

func (t pgTx) CountNotifications(challengeSid string) (int, error) {
	return t.count("SELECT count(*) FROM notifications WHERE challenge_sid = $1", challengeSid)
}

func (t pgTx) PutNotification(n Notification) error {
	doc, err := marshal(n)
	if err != nil {
		return err
	}
	_, err = t.exec("INSERT INTO notifications (sid, challenge_sid, doc) VALUES ($1, $2, $3)", n.Sid, n.ChallengeSid, doc)
	return err
}

func (t pgTx) GetAccessToken(sid string) (AccessToken, error) {
	return pgDoc[AccessToken](t, "SELECT doc FROM access_tokens WHERE sid = $1", sid)
}

func (t pgTx) PutAccessToken(a AccessToken) error {
	doc, err := marshal(a)
	if err != nil {
		return err
	}
	_, err = t.exec("INSERT INTO access_tokens (sid, doc) VALUES ($1, $2) ON CONFLICT (sid) DO UPDATE SET doc = excluded.doc", a.Sid, doc)
	return err
}

func (t pgTx) GetWebhook(sid string) (Webhook, error) {
	return pgDoc[Webhook](t, "SELECT doc FROM webhooks WHERE sid = $1", sid)
}

func (t pgTx) PutWebhook(w Webhook) error {
	doc, err := marshal(w)
	if err != nil {
		return err
	}
	_, err = t.exec("INSERT INTO webhooks (sid, service_sid, doc) VALUES ($1, $2, $3) ON CONFLICT (sid) DO UPDATE SET doc = excluded.doc", w.Sid, w.ServiceSid, doc)
	return err
}

func (t pgTx) DeleteWebhook(sid string) error {
	return affected(t.exec("DELETE FROM webhooks WHERE sid = $1", sid))
}

func (t pgTx) ListWebhooks(serviceSid string, p Page) (Listed[Webhook], error) {
	return pgList[Webhook](t, "webhooks", []string{"service_sid"}, []any{serviceSid}, p)
}

func (t pgTx) AddOutbox(o OutboxItem) (int64, error) {
	var expires *int64
	if o.ExpiresAt != nil {
		e := o.ExpiresAt.Unix()
		expires = &e
	}
	var id int64
	err := t.queryRow(`INSERT INTO outbox (kind, ref, target, params, expires, state, attempts, next_attempt, created, updated)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id`,
		o.Kind, o.Ref, o.Target, o.Params.Encode(), expires, OutboxPending, o.Attempts, o.NextAttempt.UnixMilli(), o.DateCreated.UnixMilli()).Scan(&id)
	if err != nil || o.Kind != OutboxPush {
		return id, err
	}
	// Delivered to the listeners at commit, and not at all on rollback:
	// no server hears of a push that does not exist.
	_, err = t.exec("SELECT pg_notify($1, $2)", t.pushChannel, o.Target)
	return id, err
}

func (t pgTx) UpdateOutbox(o OutboxItem) error {
	return affected(t.exec(`UPDATE outbox SET state = $1, attempts = $2, next_attempt = $3, last_status = $4, last_error = $5, updated = $6 WHERE id = $7`,
		o.State, o.Attempts, o.NextAttempt.UnixMilli(), o.LastStatus, o.LastError, o.DateUpdated.UnixMilli(), o.ID))
}

func (t pgTx) FinishOutbox(kind string, refs []string, state string, at time.Time) error {
	if len(refs) == 0 {
		return nil
	}
	_, err := t.exec("UPDATE outbox SET state = $1, updated = $2 WHERE kind = $3 AND state = $4 AND ref = ANY($5)",
		state, at.UnixMilli(), kind, OutboxPending, refs)
	return err
}

func (t pgTx) GetOutbox(id int64) (OutboxItem, error) {
	o, err := scanOutbox(t.queryRow("SELECT "+outboxColumns+" FROM outbox WHERE id = $1", id).Scan)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, ErrNotFound
	}
	return o, err
}

func (t pgTx) queryOutbox(query string, args ...any) ([]OutboxItem, error) {
	rows, err := t.tx.Query(t.ctx, "SELECT "+outboxColumns+" FROM outbox WHERE "+query, args...)
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

func (t pgTx) DueOutbox(q DueQuery) ([]OutboxItem, error) {
	where := "kind = $1 AND state = $2 AND next_attempt <= $3"
	args := []any{q.Kind, OutboxPending, q.Now.UnixMilli()}
	if q.TargetPrefix != "" {
		args = append(args, q.TargetPrefix)
		if q.OutsidePrefix {
			where += fmt.Sprintf(" AND NOT starts_with(target, $%d)", len(args))
		} else {
			where += fmt.Sprintf(" AND starts_with(target, $%d)", len(args))
		}
	}
	args = append(args, q.Limit)
	return t.queryOutbox(where+fmt.Sprintf(" ORDER BY next_attempt, id LIMIT $%d", len(args)), args...)
}

// ClaimOutbox skips rows another transaction has locked rather than
// waiting for them. Writes are serialised by the advisory lock, so none is
// locked today; the clause keeps claims correct should writes ever run
// side by side.
func (t pgTx) ClaimOutbox(q DueQuery, until time.Time) ([]OutboxItem, error) {
	where := "kind = $1 AND state = $2 AND next_attempt <= $3"
	args := []any{q.Kind, OutboxPending, q.Now.UnixMilli()}
	if q.TargetPrefix != "" {
		args = append(args, q.TargetPrefix)
		if q.OutsidePrefix {
			where += fmt.Sprintf(" AND NOT starts_with(target, $%d)", len(args))
		} else {
			where += fmt.Sprintf(" AND starts_with(target, $%d)", len(args))
		}
	}
	args = append(args, q.Limit, until.UnixMilli())
	query := fmt.Sprintf(`WITH due AS (
			SELECT id, next_attempt AS was FROM outbox WHERE %s ORDER BY next_attempt, id LIMIT $%d FOR UPDATE SKIP LOCKED),
		claimed AS (
			UPDATE outbox o SET next_attempt = $%d FROM due WHERE o.id = due.id RETURNING o.*, due.was)
		SELECT %s FROM claimed ORDER BY was, id`, where, len(args)-1, len(args), outboxColumns)
	rows, err := t.tx.Query(t.ctx, query, args...)
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

func (t pgTx) PendingOutboxFor(kind string, targets []string, limit int) ([]OutboxItem, error) {
	if len(targets) == 0 {
		return nil, nil
	}
	return t.queryOutbox("kind = $1 AND state = $2 AND target = ANY($3) ORDER BY id LIMIT $4", kind, OutboxPending, targets, limit)
}

// ListenPushes listens on a connection of its own, outside the pool: a
// LISTEN lasts as long as its session, which a pooled connection's does
// not.
func (p *Postgres) ListenPushes(ctx context.Context, l PushListener) error {
	const maxBackoff = 5 * time.Second
	backoff := 100 * time.Millisecond
	for {
		listening, err := p.listenPushes(ctx, l)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if l.Failed != nil {
			l.Failed(err)
		}
		if listening {
			backoff = 100 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// listenPushes listens until the connection fails; listening reports
// whether it got as far as listening.
func (p *Postgres) listenPushes(ctx context.Context, l PushListener) (listening bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, p.pool.Config().ConnConfig.Copy())
	if err != nil {
		return false, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{p.pushChannel}.Sanitize()); err != nil {
		return false, err
	}
	if l.Resync != nil {
		l.Resync()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		if l.Target != nil {
			l.Target(n.Payload)
		}
	}
}

func (t pgTx) RecentOutbox(kind string, limit int) ([]OutboxItem, error) {
	return t.queryOutbox("kind = $1 ORDER BY id DESC LIMIT $2", kind, limit)
}
