package channels

import (
	"context"
	"errors"
	"sync"
)

// OutFile is one file of a batch handed to a BatchOutbound.
type OutFile struct {
	Name string
	Body []byte
}

// BatchOutbound is an Outbound that can write several files at once more
// cheaply than one by one (a folder fsynced once for all of them).
// SendBatch returns one error per file, in order, each what Send would
// have returned for it: one file failing does not fail the others. A file
// whose error is nil is as durable as after Send when SendBatch returns.
type BatchOutbound interface {
	Outbound
	SendBatch(ctx context.Context, files []OutFile) []error
}

// SyncGroup collects the folder fsyncs of several AckFuncs so that each
// folder is fsynced once for all of them: the caller acks a batch of
// documents with the context WithSyncGroup returned, then calls Sync
// before it relies on the acks being durable. A source that supports it
// hands its folder fsyncs to DeferSync; one that does not simply ignores
// the group. An AckFunc that deferred its fsyncs has returned nil before
// they ran: an error of Sync means the acks' moves are done but may not
// survive a power loss (the document then comes back and intake's dedupe
// absorbs it), and is the caller's to report.
type SyncGroup struct {
	mu    sync.Mutex
	keys  map[any]bool
	syncs []func() error
}

type syncGroupKey struct{}

// WithSyncGroup returns ctx carrying a new SyncGroup, and the group.
func WithSyncGroup(ctx context.Context) (context.Context, *SyncGroup) {
	g := &SyncGroup{keys: map[any]bool{}}
	return context.WithValue(ctx, syncGroupKey{}, g), g
}

// DeferSync runs sync at once, or, when ctx carries a SyncGroup, leaves it
// to the group's Sync, which runs it once however many calls registered
// the same key (comparable, e.g. a folder's identity).
func DeferSync(ctx context.Context, key any, sync func() error) error {
	g, ok := ctx.Value(syncGroupKey{}).(*SyncGroup)
	if !ok {
		return sync()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.keys[key] {
		return nil
	}
	g.keys[key] = true
	g.syncs = append(g.syncs, sync)
	return nil
}

// Len reports how many syncs wait for Sync.
func (g *SyncGroup) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.syncs)
}

// Sync runs the deferred syncs, each once, in the order they were first
// deferred, and returns their errors joined. The group is empty afterwards.
func (g *SyncGroup) Sync() error {
	g.mu.Lock()
	syncs := g.syncs
	g.syncs, g.keys = nil, map[any]bool{}
	g.mu.Unlock()
	var errs []error
	for _, s := range syncs {
		if err := s(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
