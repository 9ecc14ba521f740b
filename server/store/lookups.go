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
type lookups struct {
	mu  sync.Mutex
	gen uint64 // counts the groups that emptied the cache
	max int    // entries per kind; one arbitrary entry makes room for a new one

	services map[string]Service
	entities map[string]Entity // by service SID and identity
	factors  map[string]Factor // by SID, and by credential SID

	// changed is set by a write of one of the cached tables, in the group
	// now running on the writer.
	changed atomic.Bool
}

// maxLookups bounds each kind: beyond it the store still answers, from
// the database.
const maxLookups = 8192

func newLookups(max int) *lookups {
	return &lookups{max: max, services: map[string]Service{}, entities: map[string]Entity{}, factors: map[string]Factor{}}
}

// generation is read just before a read transaction begins.
func (l *lookups) generation() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.gen
}

// committed runs after each write group's commit, whether it succeeded or
// not: emptying on a failed commit only costs reads.
func (l *lookups) committed() {
	if !l.changed.Swap(false) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.gen++
	clear(l.services)
	clear(l.entities)
	clear(l.factors)
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
