package push

import (
	"container/heap"
	"time"
)

// queues holds every token's unacked messages. It is not safe for concurrent
// use; the gateway guards it with its mutex.
type queues struct {
	byToken map[string][]*entry
	// byExpiry orders every queued message by its expiry, so that a sweep
	// costs what it drops, not what is queued.
	byExpiry expiryHeap
	total    int
	perToken int
	max      int
	// lastSweep rate-limits the full sweep done when the gateway-wide bound
	// is hit, so a flood of Sends at the bound stays O(1) each.
	lastSweep time.Time
}

type entry struct {
	token     string
	heapIndex int
	id        string
	expiresAt time.Time
	nowOnly   bool
	frame     []byte
	// sentOn is the id of the connection the frame was last written to
	// (0: none). A new connection has a new id, which is what makes every
	// unacked message go out again after a reconnect.
	sentOn uint64
}

// drop is a message that left the queue without an ack, reported to
// Config.OnDrop once the gateway's lock is released.
type drop struct {
	id, token string
	reason    DropReason
}

// outgoing is a frame due on a connection.
type outgoing struct {
	id        string
	expiresAt time.Time
	frame     []byte
}

func newQueues(perToken, max int) *queues {
	return &queues{byToken: make(map[string][]*entry), perToken: perToken, max: max}
}

// add queues m unless it is a duplicate or already expired. Making room may
// drop other messages; all drops are returned.
func (q *queues) add(m Message, frame []byte, now time.Time) (added bool, drops []drop) {
	for _, e := range q.byToken[m.Token] {
		if e.id == m.ID {
			return false, nil
		}
	}
	if !now.Before(m.ExpiresAt) {
		return false, []drop{{m.ID, m.Token, DropExpired}}
	}
	drops = q.pruneExpired(m.Token, now, drops)
	if list := q.byToken[m.Token]; len(list) >= q.perToken {
		oldest := list[0]
		q.removeAt(m.Token, 0)
		drops = append(drops, drop{oldest.id, m.Token, DropEvicted})
	}
	if q.total >= q.max && now.Sub(q.lastSweep) >= time.Second {
		drops = q.sweep(now, drops)
	}
	if q.total >= q.max {
		return false, append(drops, drop{m.ID, m.Token, DropOverloaded})
	}
	e := &entry{token: m.Token, id: m.ID, expiresAt: m.ExpiresAt, nowOnly: m.NowOnly, frame: frame}
	q.byToken[m.Token] = append(q.byToken[m.Token], e)
	heap.Push(&q.byExpiry, e)
	q.total++
	return true, drops
}

// ack removes the message and reports whether it was queued.
func (q *queues) ack(token, id string) bool {
	for i, e := range q.byToken[token] {
		if e.id == id {
			q.removeAt(token, i)
			return true
		}
	}
	return false
}

// take marks every live message not yet written on connection connID as
// written there and returns them in queue order; expired ones are dropped.
func (q *queues) take(token string, connID uint64, now time.Time) (out []outgoing, drops []drop) {
	drops = q.pruneExpired(token, now, nil)
	for _, e := range q.byToken[token] {
		if e.sentOn == connID {
			continue
		}
		e.sentOn = connID
		out = append(out, outgoing{id: e.id, expiresAt: e.expiresAt, frame: e.frame})
	}
	return out, drops
}

// dropNowOnly removes the token's NowOnly messages that were written on a
// connection that is gone; with unsentToo it also removes those never
// written, because no connection is left to take them.
func (q *queues) dropNowOnly(token string, unsentToo bool) []drop {
	var drops []drop
	list := q.byToken[token]
	for i := 0; i < len(list); {
		e := list[i]
		if e.nowOnly && (e.sentOn != 0 || unsentToo) {
			q.removeAt(token, i)
			list = q.byToken[token]
			drops = append(drops, drop{e.id, token, DropOffline})
			continue
		}
		i++
	}
	return drops
}

// sweep drops expired messages of every token, soonest first.
func (q *queues) sweep(now time.Time, drops []drop) []drop {
	q.lastSweep = now
	for len(q.byExpiry) > 0 && !now.Before(q.byExpiry[0].expiresAt) {
		e := q.byExpiry[0]
		for i, queued := range q.byToken[e.token] {
			if queued == e {
				q.removeAt(e.token, i)
				break
			}
		}
		drops = append(drops, drop{e.id, e.token, DropExpired})
	}
	return drops
}

func (q *queues) pruneExpired(token string, now time.Time, drops []drop) []drop {
	list := q.byToken[token]
	for i := 0; i < len(list); {
		if e := list[i]; !now.Before(e.expiresAt) {
			q.removeAt(token, i)
			list = q.byToken[token]
			drops = append(drops, drop{e.id, token, DropExpired})
			continue
		}
		i++
	}
	return drops
}

// removeAt keeps order, which is delivery order; lists are short (bounded by
// perToken), so the copy is cheap.
func (q *queues) removeAt(token string, i int) {
	list := q.byToken[token]
	heap.Remove(&q.byExpiry, list[i].heapIndex)
	copy(list[i:], list[i+1:])
	list[len(list)-1] = nil
	list = list[:len(list)-1]
	q.total--
	if len(list) == 0 {
		delete(q.byToken, token)
		return
	}
	q.byToken[token] = list
}

func (q *queues) len() int { return q.total }

// expiryHeap is a min-heap of entries by expiry (container/heap).
type expiryHeap []*entry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].expiresAt.Before(h[j].expiresAt) }
func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIndex, h[j].heapIndex = i, j
}
func (h *expiryHeap) Push(x any) {
	e := x.(*entry)
	e.heapIndex = len(*h)
	*h = append(*h, e)
}
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.heapIndex = -1
	return e
}
