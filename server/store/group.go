package store

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
)

// ErrClosed answers a write asked for after Close.
var ErrClosed = errors.New("store: closed")

// groupWriter is a store's one writer, shared by both engines: writes
// queue first come, first served, and the writer runs every queued write
// in one transaction, each in a savepoint of its own, and commits once.
// A burst of writes shares one commit (one fsync on SQLite, one round of
// the write lock and one WAL flush on PostgreSQL) instead of paying one
// each. Each write sees the writes queued before it, exactly as if they
// had been committed one by one; its outcome is reported only after the
// group's commit, so an acknowledged write is never one a crash can lose.
//
// Where the commit only makes a group visible and durability is a separate
// step (SQLite's log written but not yet fsynced), sync is that step, and
// it runs beside the writer: the writer hands each committed group to the
// syncer and goes on with the next, so the writer never waits on the disk
// and one sync covers every group committed while the previous one ran.
// Callers are still answered only once their group is durable.
//
// A write may ask to hear of its commit sooner, as soon as readers can see
// it (see Store.WriteThen): the writer hands such writes to the publisher,
// a goroutine of its own that runs their callbacks in commit order, so
// that neither the writer nor the syncer ever runs a caller's code.
type groupWriter struct {
	writes  chan *writeRequest
	stop    chan struct{} // closed by close: the writer answers what is queued and exits
	stopped chan struct{} // closed when the writer has exited
	// closing guards the queue's entrance: submit enqueues under the read
	// lock, so once close has set closed nothing more can arrive.
	closing sync.RWMutex
	closed  bool

	sync      func() error        // nil: a commit is durable when it returns
	committed chan committedGroup // from the writer to the syncer, in commit order

	// yieldBeforeCommit: see next. It pays where the writer's work is
	// the CPU's (SQLite, in the process); on PostgreSQL the writer waits
	// on the network between statements, so the handlers run meanwhile
	// and a yield only puts the commit off (measured in
	// docs/BENCHMARKS.md).
	yieldBeforeCommit bool

	published publisher
}

// publisher runs the committed callbacks of writes, in commit order. Its
// queue has no bound, so the writer never waits for it: a callback may be
// slow, or read the store, without holding up the commits behind it.
type publisher struct {
	mu      sync.Mutex
	queue   []*writeRequest
	closed  bool
	wake    chan struct{} // holds one token while the queue has work or is closed
	stopped chan struct{}
}

// committedGroup is a group waiting for its commit to be made durable.
type committedGroup struct {
	group   []*writeRequest
	results []writeResult
}

// groupTx is one group's transaction, as an engine runs it.
type groupTx interface {
	// run runs one write in a savepoint: its failure or panic undoes only
	// its own changes.
	run(r *writeRequest) writeResult
	commit() error
}

// maxGroup bounds a group: enough to share a commit among any realistic
// burst, few enough that the first write in a group is not held long.
const maxGroup = 128

type writeRequest struct {
	ctx   context.Context
	fn    func(Tx) error
	state atomic.Int32 // queued, started or abandoned
	done  chan writeResult

	// committed, when set, runs on the publisher once fn's changes are
	// committed. The writer sets published, before answering, when it
	// queues committed; the publisher closes it once committed has run.
	committed       func()
	published       chan struct{}
	committedPanics any
}

const (
	queued int32 = iota
	started
	abandoned
)

type writeResult struct {
	err      error
	panicked any
}

// newGroupWriter makes a writer; sync, if not nil, is what makes a
// committed group durable (see groupWriter).
func newGroupWriter(sync func() error) *groupWriter {
	g := &groupWriter{writes: make(chan *writeRequest, maxGroup), stop: make(chan struct{}), stopped: make(chan struct{}), sync: sync,
		published: publisher{wake: make(chan struct{}, 1), stopped: make(chan struct{})}}
	if sync != nil {
		g.committed = make(chan committedGroup, maxGroup)
	}
	return g
}

// submit queues fn and waits for its outcome. A caller whose ctx ends
// while its write waits in the queue (or for the write lock) gets ctx's
// error and the write is not done; one that has started always finishes,
// and submit waits for it. fn runs on the writer's goroutine and must not
// write itself.
func (g *groupWriter) submit(ctx context.Context, fn func(Tx) error) error {
	return g.submitThen(ctx, fn, nil)
}

// submitThen is submit, and once fn's changes are committed (before they
// are durable, where that is a separate step), committed runs on the
// publisher; submitThen returns only after it has, and a panic in it is
// raised again here, as fn's is.
func (g *groupWriter) submitThen(ctx context.Context, fn func(Tx) error, committed func()) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := &writeRequest{ctx: ctx, fn: fn, committed: committed, done: make(chan writeResult, 1)}
	g.closing.RLock()
	if g.closed {
		g.closing.RUnlock()
		return ErrClosed
	}
	select {
	case g.writes <- req:
		g.closing.RUnlock()
	case <-ctx.Done():
		g.closing.RUnlock()
		return ctx.Err()
	}
	var res writeResult
	select {
	case res = <-req.done:
	case <-ctx.Done():
		if req.state.CompareAndSwap(queued, abandoned) {
			return ctx.Err()
		}
		res = <-req.done
	}
	if req.published != nil {
		<-req.published
		if req.committedPanics != nil {
			panic(req.committedPanics)
		}
	}
	if res.panicked != nil {
		panic(res.panicked) // on the caller's goroutine, where its recovery is
	}
	return res.err
}

// start claims a queued write for running; a write its caller abandoned
// is answered as skipped instead.
func (r *writeRequest) start() (writeResult, bool) {
	if !r.state.CompareAndSwap(queued, started) {
		return writeResult{err: context.Canceled}, false
	}
	if err := r.ctx.Err(); err != nil {
		return writeResult{err: err}, false
	}
	return writeResult{}, true
}

// run is the writer's loop: it takes the first queued write, opens a
// group with begin, runs it and every write queued meanwhile, commits,
// then does between's housekeeping, until close.
func (g *groupWriter) run(begin func(context.Context) (groupTx, error), between func(context.Context)) {
	defer close(g.stopped)
	go g.published.run()
	// Deferred before the syncer's end, so it runs after it: every
	// committed callback has run before close returns.
	defer g.published.close()
	if g.sync != nil {
		synced := make(chan struct{})
		go g.syncLoop(synced)
		defer func() { close(g.committed); <-synced }()
	}
	// The writer's statements run under a context that never ends: no
	// statement of a group is ever cancelled (a caller that gives up is
	// skipped before its write starts), and the SQLite driver watches a
	// context that can end from a goroutine of its own, started and
	// stopped for every statement.
	ctx := context.Background()
	for {
		select {
		case first := <-g.writes:
			g.commitGroup(ctx, begin, first)
			if between != nil {
				between(ctx)
			}
		case <-g.stop:
			// close waited for every submit already past the entrance;
			// what they queued is still answered.
			for {
				select {
				case r := <-g.writes:
					g.commitGroup(ctx, begin, r)
				default:
					return
				}
			}
		}
	}
}

func (g *groupWriter) commitGroup(ctx context.Context, begin func(context.Context) (groupTx, error), first *writeRequest) {
	group := []*writeRequest{first}
	tx, err := begin(ctx)
	if err != nil {
		first.done <- writeResult{err: err}
		return
	}
	results := make([]writeResult, 0, maxGroup)
	for i := 0; i < len(group); i++ {
		res, ok := group[i].start()
		if ok {
			res = tx.run(group[i])
		}
		results = append(results, res)
		if len(group) < maxGroup {
			if r := g.next(); r != nil {
				group = append(group, r)
			}
		}
	}
	failAll(results, tx.commit())
	g.published.add(group, results)
	if g.sync != nil {
		g.committed <- committedGroup{group, results}
		return
	}
	answer(group, results)
}

// next takes a queued write for the open group, or nil. With
// yieldBeforeCommit, before it gives up on an empty queue it yields the
// processor once: when the CPUs are busy, handlers whose writes would
// join this group are often runnable but not yet running, and without
// the yield each of them finds the group committed and pays for a commit
// of its own. With nothing else runnable the yield returns at once.
func (g *groupWriter) next() *writeRequest {
	select {
	case r := <-g.writes:
		return r
	default:
	}
	if !g.yieldBeforeCommit {
		return nil
	}
	runtime.Gosched()
	select {
	case r := <-g.writes:
		return r
	default:
		return nil
	}
}

// syncLoop makes committed groups durable, as many as have been committed
// since its last sync at once, and answers their writes in commit order.
func (g *groupWriter) syncLoop(done chan<- struct{}) {
	defer close(done)
	for first := range g.committed {
		batch := []committedGroup{first}
	more:
		for {
			select {
			case c, ok := <-g.committed:
				if !ok {
					break more
				}
				batch = append(batch, c)
			default:
				break more
			}
		}
		err := g.sync()
		for _, c := range batch {
			failAll(c.results, err)
			answer(c.group, c.results)
		}
	}
}

// failAll turns every success in results into err, when there is one.
func failAll(results []writeResult, err error) {
	if err == nil {
		return
	}
	for i := range results {
		if results[i].err == nil && results[i].panicked == nil {
			results[i].err = err
		}
	}
}

func answer(group []*writeRequest, results []writeResult) {
	for i, r := range group {
		r.done <- results[i]
	}
}

// add queues the committed callbacks of the group's successful writes:
// after a failed commit, none.
func (p *publisher) add(group []*writeRequest, results []writeResult) {
	p.mu.Lock()
	for i, r := range group {
		if r.committed != nil && results[i].err == nil && results[i].panicked == nil {
			r.published = make(chan struct{})
			p.queue = append(p.queue, r)
		}
	}
	work := len(p.queue) > 0
	p.mu.Unlock()
	if work {
		p.signal()
	}
}

func (p *publisher) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// run runs the queued callbacks in order until close, and then those
// still queued.
func (p *publisher) run() {
	defer close(p.stopped)
	for range p.wake {
		p.mu.Lock()
		batch, closed := p.queue, p.closed
		p.queue = nil
		p.mu.Unlock()
		for _, r := range batch {
			r.publish()
		}
		if closed {
			return
		}
	}
}

func (r *writeRequest) publish() {
	defer close(r.published)
	defer func() { r.committedPanics = recover() }()
	r.committed()
}

// close runs what is queued and stops the publisher.
func (p *publisher) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.signal()
	<-p.stopped
}

// close lets the queued writes finish and stops the writer.
func (g *groupWriter) close() {
	g.closing.Lock()
	if !g.closed {
		g.closed = true
		close(g.stop)
	}
	g.closing.Unlock()
	<-g.stopped
}

// queuedWrites is how many writes wait in the queue (for tests).
func (g *groupWriter) queuedWrites() int { return len(g.writes) }
