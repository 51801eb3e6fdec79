package app

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/ordergate/ordergate/internal/config"
	"github.com/ordergate/ordergate/routing"
)

type countedBackend struct {
	name   string
	closed atomic.Int32
}

func (b *countedBackend) Name() string { return b.name }
func (b *countedBackend) Deliver(context.Context, routing.Delivery) (routing.Receipt, error) {
	return routing.Receipt{}, nil
}
func (b *countedBackend) Close(context.Context) error { b.closed.Add(1); return nil }

// TestBackendSetSwap: a rebuild swaps the backends for the next batch;
// the old ones close only once the batch that holds them released them;
// a rebuild that fails keeps the running set.
func TestBackendSetSwap(t *testing.T) {
	var built []*countedBackend
	fail := false
	build := func(_ context.Context, cfg *config.Config) (map[string]routing.Backend, error) {
		if fail {
			return nil, errors.New("backend files2: cannot build")
		}
		m := map[string]routing.Backend{}
		for _, b := range cfg.Backends {
			cb := &countedBackend{name: b.Name}
			built = append(built, cb)
			m[b.Name] = cb
		}
		return m, nil
	}
	cfgOf := func(names ...string) *config.Config {
		c := &config.Config{}
		for _, n := range names {
			c.Backends = append(c.Backends, config.Backend{Name: n})
		}
		return c
	}
	set, err := newBackendSet(context.Background(), cfgOf("files"), slog.New(slog.DiscardHandler), build)
	if err != nil {
		t.Fatal(err)
	}
	held, release := set.acquire()
	if _, ok := held["files"]; !ok {
		t.Fatalf("first set = %v, want files", held)
	}
	if err := set.rebuild(context.Background(), cfgOf("files2")); err != nil {
		t.Fatal(err)
	}
	next, releaseNext := set.acquire()
	if _, ok := next["files2"]; !ok || len(next) != 1 {
		t.Errorf("set after the rebuild = %v, want files2 alone", next)
	}
	releaseNext()
	old := built[0]
	if n := old.closed.Load(); n != 0 {
		t.Errorf("old backend closed %d times while a batch held it", n)
	}
	release()
	release() // idempotent
	set.old.Wait()
	if n := old.closed.Load(); n != 1 {
		t.Errorf("old backend closed %d times after its batch, want 1", n)
	}

	fail = true
	if err := set.rebuild(context.Background(), cfgOf("files3")); err == nil {
		t.Error("a rebuild whose backends fail to build succeeded")
	}
	cur, releaseCur := set.acquire()
	if _, ok := cur["files2"]; !ok {
		t.Errorf("after a failed rebuild the set is %v, want files2 kept", cur)
	}
	releaseCur()
	set.close()
	if n := built[1].closed.Load(); n != 1 {
		t.Errorf("files2 closed %d times at close, want 1", n)
	}
}
