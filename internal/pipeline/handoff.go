package pipeline

import (
	"sync"
	"time"

	"github.com/ordergate/ordergate/normalize/order"
)

// orderHandoff passes the orders routing stored to the delivery worker of
// the same process, so that the worker need not decode the JSON routing
// just encoded. Only orders routed to a backend that reads the order's
// fields are put in: a routing.PayloadBackend (every backend ordergate
// has) is handed the stored JSON alone. An entry is an order as decoding
// its stored JSON gives it (store.OrderRecord.OrderFrom), keyed by order
// id and revision, put in before the transaction that stored that
// revision commits (the taker checks the revision against what was
// committed). take hands it out once: the taker owns it and may change
// it. The worker falls back to decoding the stored JSON on a miss (a
// restart, an order routed on another node, an entry dropped).
//
// The handoff is bounded: when full, new orders are not put in (the
// oldest are the next to be delivered); entries not taken within
// handoffTTL (an order another node delivers) are dropped.
type orderHandoff struct {
	mu      sync.Mutex
	entries map[handoffKey]handoffEntry
	queue   []handoffQueued // put order, with keys taken or dropped since
	seq     uint64
	taken   int64 // orders taken
	max     int
	ttl     time.Duration
	now     func() time.Time
}

type handoffKey struct {
	id       string
	revision int64
}

type handoffEntry struct {
	o   *order.Order
	seq uint64
}

type handoffQueued struct {
	key handoffKey
	seq uint64
	at  time.Time
}

// handoffMax bounds each handoff: a decoded 30-line order holds about
// 70 KB, and with 1024 entries a burst of 3,000 files doubled the peak
// RSS (65 -> 135 MB) for no CPU gain that could be measured over 256.
const (
	handoffMax = 256
	handoffTTL = time.Minute
)

func newOrderHandoff(max int, ttl time.Duration, now func() time.Time) *orderHandoff {
	return &orderHandoff{entries: map[handoffKey]handoffEntry{}, max: max, ttl: ttl, now: now}
}

// put offers the orders committed transactions stored to take.
func (h *orderHandoff) put(stored []storedOrder) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	// Drop the expired and forget the queued keys taken since.
	for len(h.queue) > 0 {
		q := h.queue[0]
		e, ok := h.entries[q.key]
		live := ok && e.seq == q.seq
		if live && now.Sub(q.at) < h.ttl {
			break
		}
		if live {
			delete(h.entries, q.key)
		}
		h.queue[0] = handoffQueued{}
		h.queue = h.queue[1:]
	}
	for _, s := range stored {
		if len(h.entries) >= h.max {
			return
		}
		key := handoffKey{s.id, s.revision}
		h.seq++
		h.entries[key] = handoffEntry{o: s.o, seq: h.seq}
		h.queue = append(h.queue, handoffQueued{key: key, seq: h.seq, at: now})
	}
}

// take returns the order put for id at revision and forgets it; nil when
// there is none.
func (h *orderHandoff) take(id string, revision int64) *order.Order {
	h.mu.Lock()
	defer h.mu.Unlock()
	key := handoffKey{id, revision}
	e, ok := h.entries[key]
	if !ok {
		return nil
	}
	delete(h.entries, key)
	h.taken++
	return e.o
}

// len returns the number of orders waiting to be taken.
func (h *orderHandoff) len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.entries)
}

// storedOrder is an order a transaction stored, as decoding its stored
// JSON gives it, to hand off once the transaction commits.
type storedOrder struct {
	id       string
	revision int64
	o        *order.Order
}
