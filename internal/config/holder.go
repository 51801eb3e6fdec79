package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Holder keeps the running configuration and replaces it atomically when a
// new file is valid. Current is safe to call from any goroutine.
type Holder struct {
	path  string
	log   *slog.Logger
	apply func(*Config) error

	cur atomic.Pointer[Config]

	mu   sync.Mutex // serialises reloads
	last []byte     // the bytes of the current config

	debounce  time.Duration
	ready     chan struct{} // closed once Watch listens; for tests
	readyOnce sync.Once
}

// NewHolder loads and preflights the file at path; it fails if either
// fails. apply, which may be nil, is called with every later config before
// it becomes current (not with the first one: build from Current); if it
// returns an error the running config stays.
func NewHolder(path string, logger *slog.Logger, apply func(*Config) error) (*Holder, error) {
	h := &Holder{path: path, log: logger, apply: apply, debounce: 250 * time.Millisecond, ready: make(chan struct{})}
	c, data, err := h.load()
	if err != nil {
		return nil, err
	}
	h.cur.Store(c)
	h.last = data
	return h, nil
}

// Current returns the running configuration. Treat it as read-only.
func (h *Holder) Current() *Config { return h.cur.Load() }

func (h *Holder) load() (*Config, []byte, error) {
	data, err := os.ReadFile(h.path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading config: %w", err)
	}
	c, ps := Parse(h.path, data)
	if len(ps) > 0 {
		return nil, nil, joinProblems(ps)
	}
	if err := c.Preflight(); err != nil {
		return nil, nil, err
	}
	return c, data, nil
}

// Reload reads the file again. A file that does not decode, validate or
// preflight, or that apply refuses, leaves the running config in place;
// every problem is logged and returned. An unchanged file is not applied
// again.
func (h *Holder) Reload() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, data, err := h.load()
	if err != nil {
		h.log.Error("config reload rejected, keeping the running config", "file", h.path, "problems", problemCount(err))
		for _, p := range problemsOf(err) {
			h.log.Error("config problem", "file", h.path, "problem", p)
		}
		return err
	}
	if bytes.Equal(data, h.last) {
		h.log.Debug("config unchanged", "file", h.path)
		return nil
	}
	if h.apply != nil {
		if err := h.apply(c); err != nil {
			h.log.Error("config reload not applied, keeping the running config", "file", h.path, "error", err)
			return fmt.Errorf("applying config: %w", err)
		}
	}
	h.cur.Store(c)
	h.last = data
	h.log.Info("config reloaded", "file", h.path)
	return nil
}

// Watch reloads on SIGHUP and when the file changes, until ctx is done.
// It watches the file's directory, so an editor or a deployment that
// writes a new file and renames it over the old one is seen; bursts of
// events are debounced into one reload. It returns nil when ctx ends.
func (h *Holder) Watch(ctx context.Context) error {
	abs, err := filepath.Abs(h.path)
	if err != nil {
		return fmt.Errorf("watching config: %w", err)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching config: %w", err)
	}
	defer w.Close()
	dir, base := filepath.Dir(abs), filepath.Base(abs)
	if err := w.Add(dir); err != nil {
		return fmt.Errorf("watching config directory %s: %w", dir, err)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	h.readyOnce.Do(func() { close(h.ready) })

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
			h.log.Info("SIGHUP: reloading config", "file", h.path)
			_ = h.Reload() // problems are logged
		case ev, ok := <-w.Events:
			if !ok {
				return errors.New("watching config: the watcher closed")
			}
			// "..data" is how Kubernetes swaps mounted ConfigMaps.
			if name := filepath.Base(ev.Name); name == base || name == "..data" {
				timer.Reset(h.debounce)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return errors.New("watching config: the watcher closed")
			}
			h.log.Warn("watching config", "file", h.path, "error", err)
		case <-timer.C:
			_ = h.Reload() // problems are logged
		}
	}
}

// problemsOf lists the messages of a joined error, one per part.
func problemsOf(err error) []string {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range j.Unwrap() {
			out = append(out, e.Error())
		}
		return out
	}
	return []string{err.Error()}
}

func problemCount(err error) int { return len(problemsOf(err)) }
