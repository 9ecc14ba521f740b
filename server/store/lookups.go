package store

import (
	"maps"
	"sync"
	"sync/atomic"
)

// lookups keeps, in the SQLite store's memory, the services, entities and
// factors that nearly every request finds first: a challenge's create
// reads all three, and each device request looks up the factor whose key
// signed it. They change only on enrollment and administration, so a read
// that finds what it needs here opens no transaction at all.
//
// Only a store that no other process writes may keep them: the SQLite
// file is locked to one server, while PostgreSQL replicas write the same
// rows and so read them every time.
//
// The rule that keeps it true: a write group that changed any of these
// tables empties the cache after its commit and before its writes are
// answered, and a reader adds what it read only if no such group committed
// since just before its transaction began. A reader whose snapshot might
// predate a commit therefore never leaves a stale copy behind, and no
// caller is told a change is done while the cache still holds the old one.
//
// Challenges change on every create and answer, so they follow another
// rule: a write group hands the documents it wrote to the cache after its
// commit, and the one written longest ago makes room. A reader keeps a
// document it read only if the cache holds none for it and has not made
// room for anything written since just before the reader's transaction
// began: had a group written that challenge since, the cache would still
// hold what it wrote. The challenges a phone fetches and answers are then
// read from here; a read may so see a challenge newer than the rest of
// its snapshot, as if it had read it a moment later.
type lookups struct {
	mu  sync.Mutex
	gen uint64 // counts the groups that emptied the cache
	max int    // entries per kind; one arbitrary entry makes room for a new one

	services map[string]Service
	entities map[string]Entity // by service SID and identity
	factors  map[string]Factor // by SID, and by credential SID

	// challenges holds documents as stored, decoded by each reader.
	challenges recentDocs

	// changed is set by a write of one of the cached tables, in the group
	// now running on the writer.
	changed atomic.Bool
}

// maxLookups bounds each kind: beyond it the store still answers, from
// the database.
const maxLookups = 8192

func newLookups(max int) *lookups {
	return &lookups{max: max, services: map[string]Service{}, entities: map[string]Entity{}, factors: map[string]Factor{},
		challenges: recentDocs{max: max, docs: map[string]heldDoc{}}}
}

// generations is read just before a read transaction begins: the groups
// that emptied the cache, and the challenges written to it, so far.
func (l *lookups) generations() (gen, challengePuts uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.gen, l.challenges.puts
}

// committed runs after each write group's commit with the challenges the
// group wrote, whether the commit succeeded or not: emptying on a failed
// commit only costs reads.
func (l *lookups) committed(written []writtenDoc, err error) {
	changed := l.changed.Swap(false)
	if !changed && err == nil && len(written) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if changed || err != nil {
		l.gen++
		clear(l.services)
		clear(l.entities)
		clear(l.factors)
		l.challenges.clear()
		return
	}
	for _, w := range written {
		l.challenges.put(w.key, w.doc)
	}
}

// challenge is the stored document of challenge sid, when held.
func (l *lookups) challenge(sid string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	held, ok := l.challenges.docs[sid]
	return held.doc, ok
}

// keepChallenge adds a document read in a transaction that began once
// puts documents had been handed to the cache, unless the cache holds one
// for sid or has since made room for one handed to it later (see lookups).
func (l *lookups) keepChallenge(sid, doc string, puts uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.challenges.docs[sid]; !ok && l.challenges.gone <= puts {
		l.challenges.put(sid, doc)
	}
}

func lookup[T any](l *lookups, m map[string]T, key string, clone func(T) T) (T, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	v, ok := m[key]
	if ok {
		v = clone(v)
	}
	return v, ok
}

// keep adds v, read in a transaction begun at generation gen, unless a
// write group has emptied the cache since.
func keep[T any](l *lookups, m map[string]T, key string, v T, gen uint64, clone func(T) T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if gen != l.gen {
		return
	}
	if _, ok := m[key]; !ok && len(m) >= l.max {
		for k := range m {
			delete(m, k)
			break
		}
	}
	m[key] = clone(v)
}

// The maps in these documents would otherwise be shared between the cache
// and whoever changes the copy they were given.

func cloneService(s Service) Service {
	s.Settings = maps.Clone(s.Settings)
	return s
}

func cloneEntity(e Entity) Entity { return e }

func cloneFactor(f Factor) Factor {
	f.Metadata = maps.Clone(f.Metadata)
	return f
}

// recentDocs holds up to max documents by key and, when full, lets the
// one written longest ago make room.
type recentDocs struct {
	max  int
	docs map[string]heldDoc
	// order is every put, oldest first from head; a put whose key was
	// written again since is passed over.
	order []heldKey
	head  int
	puts  uint64 // puts so far, which numbers each
	gone  uint64 // the last put that made room or was emptied
}

type heldDoc struct {
	doc string
	put uint64
}

type heldKey struct {
	key string
	put uint64
}

func (r *recentDocs) put(key, doc string) {
	r.puts++
	_, held := r.docs[key]
	r.docs[key] = heldDoc{doc, r.puts}
	r.order = append(r.order, heldKey{key, r.puts})
	if !held && len(r.docs) > r.max {
		r.makeRoom()
	}
	if len(r.order) > 2*r.max {
		r.compact()
	}
}

// makeRoom drops the document written longest ago.
func (r *recentDocs) makeRoom() {
	for ; r.head < len(r.order); r.head++ {
		k := r.order[r.head]
		if r.docs[k.key].put == k.put {
			delete(r.docs, k.key)
			r.gone = k.put
			r.head++
			return
		}
	}
}

// compact drops the puts made room for or passed over, so that order
// stays within twice the documents held.
func (r *recentDocs) compact() {
	live := r.order[:0]
	for _, k := range r.order[r.head:] {
		if r.docs[k.key].put == k.put {
			live = append(live, k)
		}
	}
	clear(r.order[len(live):])
	r.order = live
	r.head = 0
}

func (r *recentDocs) clear() {
	clear(r.docs)
	clear(r.order)
	r.order = r.order[:0]
	r.head = 0
	r.gone = r.puts
}

// writtenDoc is a document a write group wrote, kept in the order written
// until the group commits.
type writtenDoc struct{ key, doc string }

// groupWrites is what the write group now running has written of the
// challenges.
type groupWrites struct {
	written []writtenDoc
}

// add records a document written; a read's transaction (nil) writes none.
func (g *groupWrites) add(key, doc string) {
	if g != nil {
		g.written = append(g.written, writtenDoc{key, doc})
	}
}

func (g *groupWrites) wrote(key string) bool {
	for _, w := range g.written {
		if w.key == key {
			return true
		}
	}
	return false
}
