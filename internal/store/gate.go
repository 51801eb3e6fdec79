package store

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// writeGate serializes the write transactions of an SQLite store: one
// holder at a time, the others queued. Two queues: urgent waiters (intake
// commits, which a sender is waiting for: an API client's 202, a file
// that may be moved only after it) are served before the others (the
// stages, the workers, housekeeping), each queue in arrival order; but a
// waiter of the other queue that has waited longer than maxDefer is
// served next, so a steady stream of intake cannot starve the stages.
// Waiting respects the waiter's context.
type writeGate struct {
	maxDefer time.Duration
	now      func() time.Time

	lastUrgent atomic.Int64  // when an urgent writer last asked, unix nanoseconds
	releases   atomic.Uint64 // how many holders released the gate

	mu     sync.Mutex
	held   bool
	urgent []*gateWaiter
	normal []*gateWaiter
}

type gateWaiter struct {
	ready chan struct{} // closed when the gate is handed to this waiter
	since time.Time
}

// defaultMaxDefer bounds how long urgent writers may keep the others
// waiting: about two intake batches.
const defaultMaxDefer = 100 * time.Millisecond

func newWriteGate() *writeGate {
	return &writeGate{maxDefer: defaultMaxDefer, now: time.Now}
}

// acquire waits for the gate until ctx is done.
func (g *writeGate) acquire(ctx context.Context, urgent bool) error {
	if urgent {
		g.lastUrgent.Store(g.now().UnixNano())
	}
	g.mu.Lock()
	if !g.held {
		g.held = true
		g.mu.Unlock()
		return nil
	}
	w := &gateWaiter{ready: make(chan struct{}), since: g.now()}
	if urgent {
		g.urgent = append(g.urgent, w)
	} else {
		g.normal = append(g.normal, w)
	}
	g.mu.Unlock()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
	}
	g.mu.Lock()
	if removeWaiter(&g.urgent, w) || removeWaiter(&g.normal, w) {
		g.mu.Unlock()
		return ctx.Err()
	}
	g.mu.Unlock()
	// Handed over while giving up: pass it on.
	g.release()
	return ctx.Err()
}

// release hands the gate to the next waiter, or frees it.
func (g *writeGate) release() {
	g.releases.Add(1)
	g.mu.Lock()
	defer g.mu.Unlock()
	var next *gateWaiter
	switch {
	case len(g.normal) > 0 && (len(g.urgent) == 0 || g.now().Sub(g.normal[0].since) >= g.maxDefer):
		next, g.normal = g.normal[0], g.normal[1:]
	case len(g.urgent) > 0:
		next, g.urgent = g.urgent[0], g.urgent[1:]
	default:
		g.held = false
		return
	}
	close(next.ready) // the gate stays held: it passes to next
}

// waiting reports how many urgent and other writers are queued.
func (g *writeGate) waiting() (urgent, normal int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.urgent), len(g.normal)
}

// urgentWithin reports whether an urgent writer asked for the gate in the
// last d.
func (g *writeGate) urgentWithin(d time.Duration) bool {
	last := g.lastUrgent.Load()
	return last != 0 && g.now().UnixNano()-last < int64(d)
}

func removeWaiter(q *[]*gateWaiter, w *gateWaiter) bool {
	for i, x := range *q {
		if x == w {
			*q = append((*q)[:i:i], (*q)[i+1:]...)
			return true
		}
	}
	return false
}

type urgentKey struct{}

// UrgentWrite marks ctx's write transactions as urgent: on SQLite they
// queue for the write lock before the others (Write, LockWrites). The
// intake uses it, whose commit a sender waits for; background stages do
// not. Others still get the lock within about 100 ms. PostgreSQL, with
// no lock, ignores it.
func UrgentWrite(ctx context.Context) context.Context {
	return context.WithValue(ctx, urgentKey{}, true)
}

// UrgentWritesWithin reports whether an urgent write (UrgentWrite) asked
// for the write lock in the last d: background writers use it to keep
// their turns short while intake is busy. Always false on PostgreSQL.
func (s *Store) UrgentWritesWithin(d time.Duration) bool {
	return s.driver != DriverPostgres && s.gate.urgentWithin(d)
}

func isUrgent(ctx context.Context) bool {
	v, _ := ctx.Value(urgentKey{}).(bool)
	return v
}
