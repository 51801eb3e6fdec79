package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ordergate/ordergate/internal/config"
	"github.com/ordergate/ordergate/routing"
)

// backendSet holds the backends of the running configuration. The
// delivery worker takes the current set for each batch and releases it
// after; a config reload builds the new configuration's backends
// (rebuild, the config holder's apply hook) and swaps them in, and the
// old ones are closed once the last batch that took them is released.
// A reload whose backends cannot be built is refused: the running config
// and its backends stay.
type backendSet struct {
	log *slog.Logger
	// build makes the backends of a configuration (buildBackends).
	build func(ctx context.Context, cfg *config.Config) (map[string]routing.Backend, error)

	mu     sync.Mutex
	cur    *backendGen
	closed bool
	old    sync.WaitGroup // closing of swapped-out generations
}

// backendGen is one configuration's backends and the batches using them.
type backendGen struct {
	backends map[string]routing.Backend
	users    sync.WaitGroup
}

func newBackendSet(ctx context.Context, cfg *config.Config, log *slog.Logger,
	build func(ctx context.Context, cfg *config.Config) (map[string]routing.Backend, error)) (*backendSet, error) {
	m, err := build(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &backendSet{log: log, build: build, cur: &backendGen{backends: m}}, nil
}

// acquire returns the current backends and the release for them.
func (s *backendSet) acquire() (map[string]routing.Backend, func()) {
	s.mu.Lock()
	g := s.cur
	g.users.Add(1)
	s.mu.Unlock()
	return g.backends, sync.OnceFunc(g.users.Done)
}

// size is how many backends the current set has.
func (s *backendSet) size() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.cur.backends)
}

// rebuild builds cfg's backends and swaps them in; the old ones are
// closed in the background once no batch uses them. An error leaves the
// current set (and, through the holder, the running config) in place.
func (s *backendSet) rebuild(ctx context.Context, cfg *config.Config) error {
	m, err := s.build(ctx, cfg)
	if err != nil {
		return fmt.Errorf("building the backends: %w", err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		closeBackends(m)
		return routing.ErrClosed
	}
	old := s.cur
	s.cur = &backendGen{backends: m}
	s.old.Add(1)
	s.mu.Unlock()
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	s.log.Info("backends rebuilt for the reloaded config", "backends", names)
	go func() {
		defer s.old.Done()
		old.users.Wait()
		closeBackends(old.backends)
	}()
	return nil
}

// close waits for swapped-out sets to close, then closes the current one
// once no batch uses it.
func (s *backendSet) close() {
	s.mu.Lock()
	s.closed = true
	g := s.cur
	s.mu.Unlock()
	s.old.Wait()
	g.users.Wait()
	closeBackends(g.backends)
}

func closeBackends(m map[string]routing.Backend) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, b := range m {
		_ = b.Close(ctx)
	}
}
